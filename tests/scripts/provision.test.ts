// provision's preflight and control flow, with AWS mocked and a fake `pulumi` on PATH.
// A real `pulumi up` against AWS cannot run here (see docs/verification.md, "The ops commands").
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { DescribeAddressesCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand } from "@aws-sdk/client-ec2";
import { DescribeInstanceInformationCommand } from "@aws-sdk/client-ssm";
import { runCli } from "./support/cli";
import { installFakePulumi, type FakePulumi } from "./support/fake-pulumi";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import { awsError, INSTANCE_ID, mockStack, stackOutputs } from "./support/stack";

let certs: Certificates;
let site: FakeOpenEmr;
let pulumi: FakePulumi;
let stack: ReturnType<typeof mockStack>;
let projectDir: string;
let bootstrapLog: string[];

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
});
afterAll(() => site.close());

beforeEach(() => {
  pulumi = installFakePulumi();
  pulumi.setOutputs(stackOutputs(site.url));
  projectDir = mkdtempSync(join(tmpdir(), "ops-project-"));
  copyFileSync(
    join(__dirname, "..", "..", "config", "examples", "Pulumi.standard.yaml"),
    join(projectDir, "Pulumi.clinic.yaml"),
  );
  stack = mockStack();
  stack.mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: "111122223333", Arn: "arn:aws:iam::111122223333:user/deployer" });
  stack.mocks.quotas.on(GetServiceQuotaCommand, { QuotaCode: "L-0263D0A3" }).resolves({ Quota: { Value: 5 } });
  stack.mocks.quotas.on(GetServiceQuotaCommand, { QuotaCode: "L-1216C47A" }).resolves({ Quota: { Value: 32 } });
  stack.mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [{ AllocationId: "eipalloc-1" }] });
  stack.mocks.ec2
    .on(DescribeInstancesCommand)
    .resolves({ Reservations: [{ Instances: [{ InstanceType: "m5.xlarge" }, { InstanceType: "g5.xlarge" }] }] });
  stack.mocks.ec2.on(DescribeInstanceTypesCommand).resolves({
    InstanceTypes: [
      { InstanceType: "m5.xlarge", VCpuInfo: { DefaultVCpus: 4 } },
      { InstanceType: "t4g.small", VCpuInfo: { DefaultVCpus: 2 } },
    ],
  });
  bootstrapLog = [
    "openemr-bootstrap: packages",
    "openemr-bootstrap: php-fpm",
    "openemr-bootstrap: install",
    "openemr-bootstrap: OK (412s)",
  ];
  const healthy = stack.host.handle;
  stack.host.handle = (script) => {
    const from = /^FROM_LINE=(\d+)$/m.exec(script);
    // Two lines per read, so following the log takes several reads.
    if (from)
      return {
        stdout: bootstrapLog
          .slice(Number(from[1]) - 1, Number(from[1]) + 1)
          .map((line) => `${line}\n`)
          .join(""),
      };
    return healthy(script);
  };
});
afterEach(() => {
  stack.reset();
  pulumi.restorePath();
});

function provision(extra: string[] = []) {
  return runCli(["provision", "--stack", "clinic", "--project-dir", projectDir, "--ca-file", certs.caFile, ...extra]);
}

describe("provision", () => {
  it("preflight, pulumi up, SSM registration, the bootstrap log followed to OK, then health", async () => {
    const run = await provision(["--yes", "--json"]);
    expect(run.code).toBe(0);
    expect(pulumi.calls()).toEqual([
      ["version"],
      ["up", "--yes", "--skip-preview", "--stack", "clinic"],
      ["stack", "output", "--json", "--show-secrets=false", "--stack", "clinic"],
    ]);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({
      command: "provision",
      ok: true,
      stage: "health",
      bootstrap: "openemr-bootstrap: OK (412s)",
      verdict: "OK",
    });
    expect(json.preflight.map((finding: { check: string; status: string }) => [finding.check, finding.status])).toEqual(
      [
        ["preflight.identity", "OK"],
        ["preflight.pulumi", "OK"],
        ["preflight.eip-quota", "OK"],
        ["preflight.vcpu-quota", "OK"],
      ],
    );
    // The standard tier's default host type (config/schema.json).
    expect(json.preflight[3].evidence).toEqual({ quota: 32, inUse: 4, needed: 2, instanceType: "t4g.small" });
    expect(run.stderr).toContain("    Resources: + 84 created");
    for (const line of bootstrapLog) expect(run.stderr).toContain(`    ${line}`);
    expect(
      stack.host.scripts
        .filter((script) => script.includes("FROM_LINE="))
        .map((script) => /FROM_LINE=(\d+)/.exec(script)![1]),
    ).toEqual(["1", "3"]);
  });

  it("stops before pulumi up when a quota would block the deployment", async () => {
    stack.mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [{}, {}, {}, {}] });
    const run = await provision(["--yes"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^CRIT {4}preflight\.eip-quota +1 Elastic IPs free, 2 needed$/m);
    expect(run.stdout).toContain("Nothing was deployed.");
    expect(pulumi.calls()).toEqual([["version"]]);
  });

  it("warns, naming the type, when EC2 does not describe the host's instance type in the region", async () => {
    stack.mocks.ec2
      .on(DescribeInstanceTypesCommand)
      .resolves({ InstanceTypes: [{ InstanceType: "m5.xlarge", VCpuInfo: { DefaultVCpus: 4 } }] });
    const run = await provision(["--yes", "--json"]);
    const vcpu = JSON.parse(run.stdout).preflight.find(
      (finding: { check: string }) => finding.check === "preflight.vcpu-quota",
    );
    expect(vcpu).toMatchObject({
      status: "WARN",
      summary: "EC2 does not describe t4g.small in us-east-1: its vCPUs are unknown",
      evidence: { quota: 32, inUse: 4, unknownTypes: ["t4g.small"] },
    });
  });

  it("stops before pulumi up when AWS credentials are refused", async () => {
    stack.mocks.sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError("ExpiredToken", "The security token included in the request is expired"));
    const run = await provision(["--yes", "--json"]);
    expect(run.code).toBe(1);
    expect(
      JSON.parse(run.stdout).preflight.find((finding: { check: string }) => finding.check === "preflight.identity"),
    ).toMatchObject({
      summary: "no usable AWS credentials for STS GetCallerIdentity (ExpiredToken)",
      action: "set AWS_PROFILE or refresh your session",
    });
    expect(pulumi.calls().some((args) => args[0] === "up")).toBe(false);
  });

  it("an invalid stack config is refused with the program's own message, before any AWS call", async () => {
    writeFileSync(join(projectDir, "Pulumi.bad.yaml"), "config:\n  openemr:tier: huge\n");
    const run = await runCli(["provision", "--stack", "bad", "--project-dir", projectDir, "--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: config: ${projectDir}/Pulumi.bad.yaml is invalid: ` +
        'openemr:tier: "huge" is not allowed; expected one of "single", "standard", "ha"',
    );
    expect(stack.mocks.sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it("a stack name AWS would refuse in the names derived from it is refused before any AWS call", async () => {
    writeFileSync(join(projectDir, "Pulumi.clinic.prod.yaml"), "config:\n  openemr:dashboard: false\n");
    const run = await runCli(["provision", "--stack", "clinic.prod", "--project-dir", projectDir, "--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `error: config: ${projectDir}/Pulumi.clinic.prod.yaml is invalid: ` +
        'stack name: "clinic.prod" makes the KMS alias "alias/openemr-aws/clinic.prod/alerts"; ',
    );
    expect(stack.mocks.sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it("a missing stack file says how to make one", async () => {
    const run = await runCli(["provision", "--stack", "missing", "--project-dir", projectDir, "--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: config: ${projectDir}/Pulumi.missing.yaml does not exist; create it from config/examples/ ` +
        "(or `pulumi stack init missing` and `pulumi config set`)",
    );
  });

  it("without --yes shows the preview and deploys only after the stack name is typed", async () => {
    const refused = await provision([]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("error: provision: confirm the deployment on a terminal, or pass --yes");
    expect(pulumi.calls().map((args) => args[0])).toEqual(["version", "preview"]);
  });

  it("a failed pulumi up exits 1 and does not wait for the host", async () => {
    pulumi.setUpExitCode(255);
    const run = await provision(["--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error: pulumi up failed (exit 255); see its output above");
    expect(stack.mocks.ssm.commandCalls(DescribeInstanceInformationCommand)).toHaveLength(0);
  });

  it("a failed bootstrap exits 1 with its last line and where to read the rest", async () => {
    bootstrapLog = [
      "openemr-bootstrap: packages",
      "openemr-bootstrap: FAILED at install: InstallerAuto.php printed ERROR",
    ];
    const run = await provision(["--yes"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "Verdict: FAILED: openemr-bootstrap: FAILED at install: InstallerAuto.php printed ERROR",
    );
    expect(run.stdout).toContain("re-run it with the SSM document clinic-prod-bootstrap");
  });

  it("needs --stack", async () => {
    const run = await runCli(["provision", "--yes"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: --stack: provision needs the stack to deploy, e.g. --stack clinic-prod");
  });
});

it("waits for the host to register with SSM", async () => {
  pulumi = installFakePulumi();
  try {
    pulumi.setOutputs(stackOutputs(site.url));
    stack = mockStack();
    stack.mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: "1", Arn: "a" });
    stack.mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 100 } });
    stack.mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
    stack.mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    stack.mocks.ec2
      .on(DescribeInstanceTypesCommand)
      .resolves({ InstanceTypes: [{ InstanceType: "t4g.small", VCpuInfo: { DefaultVCpus: 2 } }] });
    stack.mocks.ssm
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({ InstanceInformationList: [] })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: "Inactive" }] })
      .resolves({ InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: "Online" }] });
    stack.host.handle = (script) =>
      script.includes("FROM_LINE=") ? { stdout: "openemr-bootstrap: OK (1s)\n" } : { stdout: "" };
    const dir = mkdtempSync(join(tmpdir(), "ops-project-"));
    copyFileSync(join(__dirname, "..", "..", "config", "examples", "Pulumi.single.yaml"), join(dir, "Pulumi.s.yaml"));
    const run = await runCli(["provision", "--stack", "s", "--project-dir", dir, "--yes", "--json", "--timeout", "2"]);
    expect(stack.mocks.ssm.commandCalls(DescribeInstanceInformationCommand).length).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(run.stdout).bootstrap).toBe("openemr-bootstrap: OK (1s)");
  } finally {
    stack.reset();
    pulumi.restorePath();
  }
});
