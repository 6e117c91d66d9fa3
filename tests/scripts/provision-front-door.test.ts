// provision and the front door: what it says about the certificate, the allowed clients and the
// sign-in before deploying, and, for a domain with no Route 53 zone, the DNS record ACM waits for
// (read from ACM while `pulumi up` waits) and the failure that names it. AWS is mocked
// (aws-sdk-client-mock) and `pulumi` is a fake on PATH.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { ACMClient, DescribeCertificateCommand, ListCertificatesCommand } from "@aws-sdk/client-acm";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { DescribeAddressesCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand } from "@aws-sdk/client-ec2";
import { runCli } from "./support/cli";
import { installFakePulumi, type FakePulumi } from "./support/fake-pulumi";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import { mockStack, stackOutputs } from "./support/stack";

const EXAMPLES = join(__dirname, "..", "..", "config", "examples");
const ARN = "arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-0908-0706-050403020100";
const RECORD = {
  Name: "_3f2a.emr.example-clinic.org.",
  Type: "CNAME" as const,
  Value: "_9c1b.xyzabc.acm-validations.aws.",
};

let certs: Certificates;
let site: FakeOpenEmr;
let pulumi: FakePulumi;
let stack: ReturnType<typeof mockStack>;
const acm = mockClient(ACMClient);
let projectDir: string;

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
});
afterAll(() => site.close());

/** The standard example as `Pulumi.clinic.yaml`, edited by `edit`. */
function stackFile(edit: (text: string) => string = (text) => text): void {
  const text = readFileSync(join(EXAMPLES, "Pulumi.standard.yaml"), "utf8");
  writeFileSync(join(projectDir, "Pulumi.clinic.yaml"), edit(text));
}
const withoutZone = (text: string) => text.replace(/^ {2}openemr:hostedZoneId: .*\n/m, "");

beforeEach(() => {
  pulumi = installFakePulumi();
  pulumi.setOutputs(stackOutputs(site.url));
  projectDir = mkdtempSync(join(tmpdir(), "ops-front-door-"));
  stack = mockStack();
  stack.mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: "111122223333", Arn: "arn:aws:iam::111122223333:user/d" });
  stack.mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 64 } });
  stack.mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
  stack.mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  stack.mocks.ec2
    .on(DescribeInstanceTypesCommand)
    .resolves({ InstanceTypes: [{ InstanceType: "t4g.small", VCpuInfo: { DefaultVCpus: 2 } }] });
  const healthy = stack.host.handle;
  stack.host.handle = (script) =>
    script.includes("FROM_LINE=") ? { stdout: "openemr-bootstrap: OK (1s)\n" } : healthy(script);
  acm.reset();
});
afterEach(() => {
  stack.reset();
  pulumi.restorePath();
});

function provision(extra: string[] = []) {
  return runCli([
    "provision",
    "--stack",
    "clinic",
    "--project-dir",
    projectDir,
    "--ca-file",
    certs.caFile,
    "--yes",
    ...extra,
  ]);
}

describe("provision states the front door before deploying", () => {
  it("a domain in a Route 53 zone and listed client ranges: notes only, and no ACM call", async () => {
    stackFile();
    const run = await provision();
    expect(run.stdout).toContain("Front door:");
    expect(run.stdout).toMatch(/NOTE {2}certificate: ACM certificate validated through the Route 53 zone/);
    expect(run.stdout).toMatch(/NOTE {2}clients: only 203\.0\.113\.0\/24, 198\.51\.100\.0\/24/);
    expect(run.stdout).not.toContain("WARN");
    expect(acm.calls()).toHaveLength(0);
  });

  it("no domain and the default client range: both WARN, loudly, and in the JSON", async () => {
    stackFile((text) =>
      withoutZone(text)
        .replace(/^ {2}openemr:domain: .*\n/m, "")
        .replace(/^ {2}openemr:allowedCidrs:\n( {4}- .*\n)+/m, ""),
    );
    const human = await provision();
    expect(human.stdout).toMatch(/WARN {2}certificate: SELF-SIGNED CERTIFICATE, FOR A FIRST TRIAL ONLY/);
    expect(human.stdout).toMatch(/WARN {2}clients: openemr:allowedCidrs is 0\.0\.0\.0\/0: THE WHOLE INTERNET/);
    const json = JSON.parse((await provision(["--json"])).stdout);
    expect(json.frontDoor).toMatchObject({
      certificateKind: "self-signed",
      allowedCidrs: ["0.0.0.0/0"],
      authentication: "none",
    });
    expect(json.frontDoor.notices.filter((notice: { level: string }) => notice.level === "WARN")).toHaveLength(2);
  });
});

describe("provision with a domain but no Route 53 zone", () => {
  beforeEach(() => {
    stackFile(withoutZone);
    acm.on(ListCertificatesCommand).resolves({
      CertificateSummaryList: [
        { CertificateArn: `${ARN}-old`, DomainName: "emr.example-clinic.org", CreatedAt: new Date("2025-01-01") },
        { CertificateArn: ARN, DomainName: "emr.example-clinic.org", CreatedAt: new Date("2026-12-02") },
        { CertificateArn: `${ARN}-other`, DomainName: "other.example.org", CreatedAt: new Date("2026-12-03") },
      ],
    });
  });

  it("prints the record ACM waits for while pulumi up waits, and goes on once it is issued", async () => {
    acm.on(DescribeCertificateCommand, { CertificateArn: ARN }).resolves({
      Certificate: { Status: "ISSUED", DomainValidationOptions: [{ DomainName: "x", ResourceRecord: RECORD }] },
    });
    const run = await provision();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("ACM waits for this DNS record at your DNS provider for emr.example-clinic.org");
    expect(run.stdout).toContain(`  ${RECORD.Name}  CNAME  ${RECORD.Value}`);
    // The newest certificate for the domain, not an older one or another name's.
    expect(acm.commandCalls(DescribeCertificateCommand).map((call) => call.args[0].input.CertificateArn)).toEqual([
      ARN,
    ]);
  });

  it("the JSON carries the record and the status", async () => {
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: { Status: "ISSUED", DomainValidationOptions: [{ DomainName: "x", ResourceRecord: RECORD }] },
    });
    const json = JSON.parse((await provision(["--json"])).stdout);
    expect(json.certificate).toEqual({
      status: "ISSUED",
      arn: ARN,
      records: [{ name: RECORD.Name, type: "CNAME", value: RECORD.Value }],
    });
    expect(json.frontDoor.certificateKind).toBe("acm-dns-manual");
  });

  it("pulumi up stopping before the issue: exit 1 at stage certificate, naming the record to add", async () => {
    acm.on(DescribeCertificateCommand).resolves({
      Certificate: {
        Status: "PENDING_VALIDATION",
        DomainValidationOptions: [{ DomainName: "x", ResourceRecord: RECORD }],
      },
    });
    pulumi.setUpExitCode(255);
    const run = await provision(["--json"]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ ok: false, stage: "certificate", certificate: { status: "PENDING_VALIDATION" } });
    const human = await provision();
    expect(human.stdout).toContain(
      `Verdict: FAILED: ACM did not issue the certificate for emr.example-clinic.org (status PENDING_VALIDATION): ` +
        `add the record ${RECORD.Name}  CNAME  ${RECORD.Value} at your DNS provider`,
    );
  });
});
