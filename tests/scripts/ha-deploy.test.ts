// provision and upgrade on the ha tier: a fake `pulumi` on PATH, the Auto Scaling group and its
// instance refreshes through a mocked client, each node's host scripts answered per instance.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  type Instance as GroupInstance,
  type InstanceRefresh,
} from "@aws-sdk/client-auto-scaling";
import { DescribeAddressesCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand } from "@aws-sdk/client-ec2";
import { CreateDBSnapshotCommand } from "@aws-sdk/client-rds";
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { DescribeInstanceInformationCommand, SendCommandCommand } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { runCli } from "./support/cli";
import { installFakePulumi, type FakePulumi } from "./support/fake-pulumi";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import { backupIdAgo, DB_ID, hostReportLine, manifestFor, mockStack, stackOutputs } from "./support/stack";

const GROUP = "clinic-prod-hosts";
const NODE_A = "i-0aaa1111bbbb22220";
const NODE_B = "i-0bbb1111bbbb22220";
const NODE_C = "i-0ccc1111bbbb22220";
const NODE_D = "i-0ddd1111bbbb22220";
const REFRESH_ID = "0a1b2c3d-new-refresh";

let certs: Certificates;
let site: FakeOpenEmr;
let pulumi: FakePulumi;
let stack: ReturnType<typeof mockStack>;
let projectDir: string;
const autoScaling = mockClient(AutoScalingClient);

/** The group as Auto Scaling describes it; `describe` may change it on each call. */
let group: { desired: number; min: number; instances: GroupInstance[] };
let onDescribe: () => void;
/** Each node's installed version and bootstrap log. */
let versions: Record<string, string>;
let bootstrapLogs: Record<string, string[]>;

const inService = (...ids: string[]): GroupInstance[] =>
  ids.map((id) => ({ InstanceId: id, LifecycleState: "InService" }) as GroupInstance);
const launching = (id: string) => ({ InstanceId: id, LifecycleState: "Pending" }) as GroupInstance;

/** The shapes docs/ops-json.md documents, as tests/scripts/json-shapes.test.ts reads them. */
function expectDocumentedShape(id: string, value: unknown): void {
  const doc = readFileSync(join(__dirname, "..", "..", "docs", "ops-json.md"), "utf8");
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const match of doc.matchAll(/```json\n([\s\S]*?)\n```/g)) ajv.addSchema(JSON.parse(match[1]) as object);
  const validate = ajv.getSchema(id)!;
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

/** The instance the SSM command being answered was sent to. */
const target = () => stack.mocks.ssm.commandCalls(SendCommandCommand).at(-1)!.args[0].input.InstanceIds![0];
const sentTo = (marker: string) =>
  stack.mocks.ssm
    .commandCalls(SendCommandCommand)
    .filter((call) => String(call.args[0].input.Parameters?.commands?.[0]).includes(marker))
    .map((call) => call.args[0].input.InstanceIds![0]);

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
});
afterAll(() => site.close());

beforeEach(() => {
  pulumi = installFakePulumi();
  const outputs = stackOutputs(site.url, { tier: "ha", hostGroupName: GROUP });
  delete outputs.hostInstanceId;
  pulumi.setOutputs(outputs);
  projectDir = mkdtempSync(join(tmpdir(), "ops-project-"));
  copyFileSync(
    join(__dirname, "..", "..", "config", "examples", "Pulumi.ha.yaml"),
    join(projectDir, "Pulumi.clinic.yaml"),
  );
  stack = mockStack();
  stack.host.report.tier = "ha";
  stack.mocks.sts.on(GetCallerIdentityCommand).resolves({ Account: "111122223333", Arn: "arn:aws:iam::1:user/d" });
  stack.mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 100 } });
  stack.mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
  stack.mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  stack.mocks.ec2.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes: string[] }) => ({
    InstanceTypes: input.InstanceTypes.map((type) => ({ InstanceType: type, VCpuInfo: { DefaultVCpus: 2 } })),
  }));
  stack.mocks.ssm.on(DescribeInstanceInformationCommand).callsFake((input: { Filters: { Values: string[] }[] }) => ({
    InstanceInformationList: [{ InstanceId: input.Filters[0].Values[0], PingStatus: "Online" }],
  }));

  group = { desired: 2, min: 2, instances: inService(NODE_B, NODE_A) };
  onDescribe = () => undefined;
  autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake(() => {
    onDescribe();
    return {
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          DesiredCapacity: group.desired,
          MinSize: group.min,
          MaxSize: 4,
          Instances: group.instances,
        },
      ],
    };
  });
  versions = { [NODE_A]: "8.3.0", [NODE_B]: "8.3.0", [NODE_C]: "8.4.0", [NODE_D]: "8.4.0" };
  bootstrapLogs = {
    [NODE_A]: ["openemr-bootstrap: packages", "openemr-bootstrap: install", "openemr-bootstrap: OK (412s)"],
    [NODE_B]: [
      "openemr-bootstrap: packages",
      "openemr-bootstrap: waiting for the install lock",
      "openemr-bootstrap: OK (95s)",
    ],
  };
  site.readyz = { status: "ready", checks: { database: true } };
  const healthy = stack.host.handle;
  stack.host.handle = (script) => {
    const from = /^FROM_LINE=(\d+)$/m.exec(script);
    if (from)
      return {
        stdout: bootstrapLogs[target()]
          .slice(Number(from[1]) - 1)
          .map((line) => `${line}\n`)
          .join(""),
      };
    if (script.includes("version.php")) return { stdout: `${versions[target()]}\n` };
    if (script.includes("openemr-backup --json"))
      return { stdout: `${JSON.stringify(manifestFor(stack.bucket.backups[0]))}\n` };
    return healthy(script);
  };
});
afterEach(() => {
  vi.useRealTimers();
  stack.reset();
  autoScaling.reset();
  pulumi.restorePath();
});

describe("provision on the ha tier", () => {
  const provision = (extra: string[] = []) =>
    runCli([
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

  it("waits for the group's minimum in service, follows every node's bootstrap to OK, then health", async () => {
    // The second node is still launching at first.
    group.instances = [...inService(NODE_A), launching(NODE_B)];
    let describes = 0;
    onDescribe = () => {
      describes += 1;
      if (describes === 3) group.instances = inService(NODE_B, NODE_A);
    };
    const run = await provision(["--json"]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({ command: "provision", ok: true, stage: "health", verdict: "OK" });
    expect(json.nodes).toEqual([
      { instanceId: NODE_A, bootstrap: "openemr-bootstrap: OK (412s)" },
      { instanceId: NODE_B, bootstrap: "openemr-bootstrap: OK (95s)" },
    ]);
    expect(json).not.toHaveProperty("bootstrap");
    expectDocumentedShape("provision", json);
    expect(pulumi.calls()).toEqual([
      ["version"],
      ["up", "--yes", "--skip-preview", "--stack", "clinic"],
      ["stack", "output", "--json", "--show-secrets=false", "--stack", "clinic"],
    ]);
    expect(sentTo("FROM_LINE=")).toEqual([NODE_A, NODE_B]);
    const agents = stack.mocks.ssm
      .commandCalls(DescribeInstanceInformationCommand)
      .map((call) => call.args[0].input.Filters![0].Values![0]);
    expect(agents.slice(0, 2)).toEqual([NODE_A, NODE_B]);
    expect(run.stderr).toContain(`ok  waiting for Auto Scaling group ${GROUP} to have its minimum in service`);
    expect(run.stderr).toContain("    openemr-bootstrap: waiting for the install lock");
    expect(json.findings.find((finding: { check: string }) => finding.check === "host.group").status).toBe("OK");
    expect(sentTo("OPENEMR-HEALTH").sort()).toEqual([NODE_A, NODE_B]);
  });

  it("a node that fails its bootstrap fails provision, naming it and how to read its log", async () => {
    bootstrapLogs[NODE_B] = [
      "openemr-bootstrap: packages",
      "openemr-bootstrap: FAILED at shared_sites: mount timed out",
    ];
    const run = await provision();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `Verdict: FAILED: ${NODE_B}: openemr-bootstrap: FAILED at shared_sites: mount timed out`,
    );
    expect(run.stdout).toContain(
      `\`openemr-ops logs --stack clinic --instance ${NODE_B} --log openemr-bootstrap --since 2h\``,
    );
    expect(run.stdout).toContain("with the SSM document clinic-prod-bootstrap");
    expect(sentTo("OPENEMR-HEALTH")).toEqual([]);

    const json = JSON.parse((await provision(["--json"])).stdout);
    expect(json).toMatchObject({ ok: false, stage: "bootstrap" });
    expect(json.nodes.at(-1)).toEqual({
      instanceId: NODE_B,
      bootstrap: "openemr-bootstrap: FAILED at shared_sites: mount timed out",
    });
    expectDocumentedShape("provision", json);
  });

  it("times out, naming the group and what it saw, when the minimum is never in service", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    group.instances = [...inService(NODE_A), launching(NODE_C)];
    // Each look at the group finds seven more minutes gone.
    onDescribe = () => vi.setSystemTime(Date.now() + 7 * 60_000);
    const run = await provision();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `error: provision: Auto Scaling group ${GROUP} did not reach its minimum of 2 instances in service ` +
        `within 30 minutes: last seen 1 in service (${NODE_A}), desired 2, others ${NODE_C}: Pending; ` +
        "see the group's activity history in EC2 Auto Scaling",
    );
    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(5);
    expect(sentTo("FROM_LINE=")).toEqual([]);
  });
});

describe("upgrade on the ha tier", () => {
  /** The refreshes Auto Scaling lists: an old one, and after `pulumi up` the new one going through `states`. */
  let states: Partial<InstanceRefresh>[];
  beforeEach(() => {
    stack.bucket.backups.unshift(backupIdAgo(0));
    states = [
      { Status: "Pending", PercentageComplete: 0, InstancesToUpdate: 2 },
      { Status: "InProgress", PercentageComplete: 50, InstancesToUpdate: 1, StatusReason: "Waiting for checkpoint" },
      { Status: "Successful", PercentageComplete: 100, InstancesToUpdate: 0 },
    ];
    autoScaling.on(DescribeInstanceRefreshesCommand).callsFake(() => {
      const started = pulumi.calls().some((args) => args[0] === "up");
      const state = states.length > 1 ? states.shift()! : states[0];
      if (started && state.Status === "Successful") group.instances = inService(NODE_C, NODE_D);
      return {
        InstanceRefreshes: [
          ...(started ? [{ InstanceRefreshId: REFRESH_ID, StartTime: new Date(), ...state }] : []),
          {
            InstanceRefreshId: "old-refresh",
            StartTime: new Date(Date.now() - 86_400_000),
            Status: "Successful",
            PercentageComplete: 100,
          },
        ],
      };
    });
  });

  const upgrade = (to: string, extra: string[] = []) =>
    runCli([
      "upgrade",
      "--stack",
      "clinic",
      "--project-dir",
      projectDir,
      "--ca-file",
      certs.caFile,
      "--to",
      to,
      "--yes",
      ...extra,
    ]);
  const pulumiChanges = () => pulumi.calls().filter((args) => args[0] === "config" || args[0] === "up");

  it("gate, backup on one node, snapshot, config set and pulumi up, refresh followed, every node checked", async () => {
    const run = await upgrade("8.4.0", ["--json"]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({
      command: "upgrade",
      ok: true,
      stage: "verify",
      from: "8.3.0",
      to: "8.4.0",
      preUpgradeBackup: stack.bucket.backups[0],
      rolledBack: false,
      reason: null,
      refresh: { id: REFRESH_ID, status: "Successful", percentComplete: 100, instancesToUpdate: 0 },
      installed: [
        { instanceId: NODE_C, version: "8.4.0" },
        { instanceId: NODE_D, version: "8.4.0" },
      ],
    });
    expect(json.dbSnapshot).toMatch(new RegExp(`^${DB_ID}-pre-upgrade-8-4-0-\\d{8}t\\d{6}$`));
    expect(json.preflight.some((finding: { check: string }) => finding.check === "host.group")).toBe(true);
    expect(json.gate.filter((finding: { status: string }) => finding.status === "CRIT")).toEqual([]);
    expectDocumentedShape("upgrade", json);
    expect(sentTo("openemr-backup --json")).toEqual([NODE_A]);
    expect(stack.mocks.rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input.DBInstanceIdentifier).toBe(DB_ID);
    expect(pulumiChanges()).toEqual([
      ["config", "set", "openemr:openemrVersion", "8.4.0", "--stack", "clinic"],
      ["up", "--yes", "--skip-preview", "--stack", "clinic"],
    ]);
    expect(sentTo("version.php")).toEqual([NODE_A, NODE_B, NODE_C, NODE_D]);
    expect(run.stderr).toContain(
      `    instance refresh ${REFRESH_ID}: InProgress, 50% done, instances to update: 1 (Waiting for checkpoint)`,
    );
    expect(run.stderr).not.toContain("old-refresh");
  });

  it("a refresh rolled back fails, naming the snapshot, the backup and how to realign the config", async () => {
    states = [
      { Status: "InProgress", PercentageComplete: 0, InstancesToUpdate: 2 },
      { Status: "RollbackInProgress", PercentageComplete: 0, InstancesToUpdate: 2 },
      {
        Status: "RollbackSuccessful",
        PercentageComplete: 0,
        InstancesToUpdate: 0,
        StatusReason: "The instance refresh failed: instances failed ELB health checks",
      },
    ];
    const run = await upgrade("8.4.0");
    expect(run.code).toBe(1);
    const snapshot = stack.mocks.rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input.DBSnapshotIdentifier!;
    const verdict = run.stdout.split("\n");
    expect(verdict[0]).toBe(
      `Verdict: FAILED: the instance refresh ${REFRESH_ID} of ${GROUP} ended RollbackSuccessful: ` +
        "The instance refresh failed: instances failed ELB health checks. " +
        "Auto Scaling put the hosts back on the previous launch template (8.3.0).",
    );
    expect(verdict[1]).toContain("The database schema may already be at 8.4.0");
    expect(verdict[1]).toContain(
      `\`aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${snapshot} `,
    );
    expect(verdict[1]).toContain(`the pre-upgrade backup ${stack.bucket.backups[0]}`);
    expect(verdict[2]).toBe(
      "The stack config still says 8.4.0: to go back to 8.3.0, run " +
        "`pulumi config set openemr:openemrVersion 8.3.0 --stack clinic`, then `pulumi up --stack clinic`.",
    );
    // No health gate after a refresh that did not succeed.
    expect(sentTo("OPENEMR-HEALTH").sort()).toEqual([NODE_A, NODE_B]);

    states = [{ Status: "RollbackSuccessful", PercentageComplete: 0, InstancesToUpdate: 0 }];
    const json = JSON.parse((await upgrade("8.4.0", ["--json"])).stdout);
    expect(json).toMatchObject({ ok: false, stage: "refresh", rolledBack: true, gate: [], installed: [] });
    expect(json.refresh.status).toBe("RollbackSuccessful");
    expectDocumentedShape("upgrade", json);
  });

  it("a CRIT health finding stops it before anything changes", async () => {
    const healthy = stack.host.handle;
    stack.host.handle = (script) => {
      if (!script.includes("OPENEMR-HEALTH") || target() !== NODE_B) return healthy(script);
      const services = { ...stack.host.report.services, apache2: "failed" };
      return { stdout: `${hostReportLine({ ...stack.host.report, services })}\n` };
    };
    const run = await upgrade("8.4.0", ["--json"]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json).toMatchObject({
      ok: false,
      stage: "preflight",
      preUpgradeBackup: null,
      dbSnapshot: null,
      refresh: null,
    });
    expect(json.reason).toContain(`host.apache2 (${NODE_B}: `);
    expectDocumentedShape("upgrade", json);
    expect(sentTo("openemr-backup --json")).toEqual([]);
    expect(stack.mocks.rds.commandCalls(CreateDBSnapshotCommand)).toHaveLength(0);
    expect(pulumiChanges()).toEqual([]);
  });

  it("refuses a version that is not newer than the nodes', before the gate", async () => {
    const run = await upgrade("8.3.0");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: --to: 8.3.0 is not newer than the installed 8.3.0");
    expect(sentTo("OPENEMR-HEALTH")).toEqual([]);
    expect(pulumiChanges()).toEqual([]);
  });

  it("refuses when the nodes run different versions", async () => {
    versions[NODE_B] = "8.4.0";
    const run = await upgrade("8.4.0");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the nodes run different versions (${NODE_A} 8.3.0, ${NODE_B} 8.4.0)`);
    expect(pulumiChanges()).toEqual([]);
  });

  it("usage errors name the flag, before any AWS call", async () => {
    writeFileSync(join(projectDir, "outputs.json"), readFileSync(join(pulumi.dir, "outputs.json")));
    const noStack = await runCli(["upgrade", "--outputs", join(projectDir, "outputs.json"), "--to", "8.4.0", "--yes"]);
    expect(noStack.code).toBe(2);
    expect(noStack.stderr).toContain("error: --stack: upgrade on the ha tier sets the version in the stack's config");

    const noDir = await upgrade("8.4.0", ["--project-dir", join(projectDir, "missing")]);
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toContain(`error: --project-dir: ${projectDir}/missing/Pulumi.clinic.yaml does not exist`);

    const url = await upgrade("8.4.0", ["--release-url", "https://example.org/openemr.tgz"]);
    expect(url.stderr).toContain("error: --release-url: not used on the ha tier");

    writeFileSync(
      join(projectDir, "Pulumi.clinic.yaml"),
      `config:\n  openemr:tier: ha\n  openemr:openemrSha256: ${"a".repeat(64)}\n`,
    );
    const pinned = await upgrade("8.4.0");
    expect(pinned.code).toBe(2);
    expect(pinned.stderr).toContain("error: --sha256: stack clinic pins openemr:openemrSha256");

    const notTty = await runCli(["upgrade", "--stack", "clinic", "--project-dir", projectDir, "--to", "8.4.0"]);
    expect(notTty.code).toBe(2);
    expect(notTty.stderr).toContain("error: upgrade: confirm the deployment on a terminal, or pass --yes");

    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(0);
    expect(pulumiChanges()).toEqual([]);
  });

  it("with a pinned checksum, sets the new one too, and a failed pulumi up says how to realign", async () => {
    const old = "a".repeat(64);
    writeFileSync(
      join(projectDir, "Pulumi.clinic.yaml"),
      `config:\n  openemr:tier: ha\n  openemr:openemrSha256: ${old}\n`,
    );
    pulumi.setUpExitCode(255);
    const run = await upgrade("8.4.0", ["--sha256", "b".repeat(64)]);
    expect(run.code).toBe(1);
    expect(pulumiChanges()).toEqual([
      ["config", "set", "openemr:openemrVersion", "8.4.0", "--stack", "clinic"],
      ["config", "set", "openemr:openemrSha256", "b".repeat(64), "--stack", "clinic"],
      ["up", "--yes", "--skip-preview", "--stack", "clinic"],
    ]);
    expect(run.stdout).toContain("Verdict: FAILED: pulumi up failed (exit 255); see its output above.");
    expect(run.stdout).toContain(
      "run `pulumi config set openemr:openemrVersion 8.3.0 --stack clinic` and " +
        `\`pulumi config set openemr:openemrSha256 ${old} --stack clinic\`, then \`pulumi up --stack clinic\`.`,
    );
  });

  it("without --yes previews, asks for the stack name, and on a wrong answer puts the version back", async () => {
    const run = await runCli(
      ["upgrade", "--stack", "clinic", "--project-dir", projectDir, "--ca-file", certs.caFile, "--to", "8.4.0"],
      { stdinIsTTY: true, answers: ["clinic-other"] },
    );
    expect(run.code).toBe(1);
    expect(run.asked).toEqual(["Upgrade stack clinic to OpenEMR 8.4.0? Type the stack name to continue: "]);
    expect(run.stderr).toContain("nothing was deployed and the stack config is back at 8.3.0");
    expect(pulumi.calls().filter((args) => ["config", "preview", "up"].includes(args[0]))).toEqual([
      ["config", "set", "openemr:openemrVersion", "8.4.0", "--stack", "clinic"],
      ["preview", "--stack", "clinic", "--diff"],
      ["config", "set", "openemr:openemrVersion", "8.3.0", "--stack", "clinic"],
    ]);
  });
});
