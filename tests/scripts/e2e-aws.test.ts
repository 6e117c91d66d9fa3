// `npm run e2e:aws`'s orchestration, against the mocks the ops tool's tests use: AWS through
// aws-sdk-client-mock, `pulumi` the fake on PATH (tests/scripts/support/fake-pulumi.ts, wrapped
// here for the commands only this run uses: stack init/rm/export, destroy), `npm run cost` a fake
// too. No AWS account is involved: this proves the step order, the report and the cleanup, not
// that a real deployment works.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { DescribeAddressesCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand } from "@aws-sdk/client-ec2";
import { DeleteObjectsCommand, ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { DeleteDBSnapshotCommand, DescribeDBSnapshotsCommand, ModifyDBInstanceCommand } from "@aws-sdk/client-rds";
import { runE2e } from "../../scripts/e2e/run";
import type { Io } from "../../scripts/lib/io";
import { installFakePulumi, type FakePulumi } from "./support/fake-pulumi";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import { awsError, backupIdAgo, DB_ID, manifestFor, mockStack, stackOutputs } from "./support/stack";

const SWAP = "20261126t023000z";
const STEPS = [
  "stack config",
  "cost estimate",
  "pulumi stack init",
  "provision (pulumi up, SSM, bootstrap, health)",
  "health",
  "backup",
  "restore drill",
  "restore into the live database",
  "openemr-restore rollback",
  "health after the rollback",
  "pulumi destroy",
  "pulumi stack rm",
];

let certs: Certificates;
let site: FakeOpenEmr;
let pulumi: FakePulumi;
let stack: ReturnType<typeof mockStack>;
let projectDir: string;
let newBackup: string;

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
});
afterAll(() => site.close());

/** Wraps the shared fake: the commands only the e2e run uses, recorded in the same log. */
function extendFakePulumi(dir: string): void {
  renameSync(join(dir, "pulumi"), join(dir, "pulumi-base"));
  writeFileSync(join(dir, "destroy-exit"), "0");
  writeFileSync(
    join(dir, "pulumi"),
    `#!/usr/bin/env bash
case "$1 $2" in
  "stack init"|"stack rm"|"stack export"|"destroy "*)
    printf '%s\\n' "$*" >> ${JSON.stringify(join(dir, "calls.log"))} ;;
  *) exec ${JSON.stringify(join(dir, "pulumi-base"))} "$@" ;;
esac
case "$1 $2" in
  "stack export") cat ${JSON.stringify(join(dir, "export.json"))} ;;
  "destroy "*) echo "Destroying (test):"; exit "$(cat ${JSON.stringify(join(dir, "destroy-exit"))})" ;;
esac
`,
  );
  chmodSync(join(dir, "pulumi"), 0o755);
  writeFileSync(
    join(dir, "export.json"),
    JSON.stringify({
      deployment: {
        resources: [
          { type: "aws:s3/bucket:Bucket", outputs: { bucket: "clinic-prod-backups-1a2b3c" } },
          { type: "aws:s3/bucket:Bucket", outputs: { bucket: "clinic-prod-trail-9z8y" } },
          { type: "aws:kms/key:Key", outputs: { arn: "arn:aws:kms:us-east-1:111122223333:key/1" } },
        ],
      },
    }),
  );
  // `npm run --silent cost -- FILE --json OUT`: writes what the real estimate would.
  writeFileSync(
    join(dir, "npm"),
    `#!/usr/bin/env bash
printf 'npm %s\\n' "$*" >> ${JSON.stringify(join(dir, "calls.log"))}
while [ $# -gt 0 ]; do
  if [ "$1" = --json ]; then echo '{"stacks":[{"stack":"e2e","tier":"standard","monthlyUsd":295.2}]}' > "$2"; fi
  shift
done
`,
  );
  chmodSync(join(dir, "npm"), 0o755);
}

beforeEach(() => {
  pulumi = installFakePulumi();
  extendFakePulumi(pulumi.dir);
  pulumi.setOutputs(stackOutputs(site.url, { dbInstanceIdentifier: DB_ID }));
  projectDir = mkdtempSync(join(tmpdir(), "e2e-project-"));
  mkdirSync(join(projectDir, "config", "examples"), { recursive: true });
  copyFileSync(
    join(__dirname, "..", "..", "config", "examples", "Pulumi.standard.yaml"),
    join(projectDir, "config", "examples", "Pulumi.standard.yaml"),
  );
  writeFileSync(join(projectDir, "package.json"), JSON.stringify({ scripts: { cost: "ts-node infra/cost/cli.ts" } }));

  stack = mockStack();
  stack.mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: "111122223333", Arn: "arn:aws:iam::111122223333:user/sandbox" });
  stack.mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 32 } });
  stack.mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
  stack.mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  stack.mocks.ec2
    .on(DescribeInstanceTypesCommand)
    .resolves({ InstanceTypes: [{ InstanceType: "t3.medium", VCpuInfo: { DefaultVCpus: 2 } }] });
  newBackup = backupIdAgo(0);
  const healthy = stack.host.handle;
  stack.host.handle = (script) => {
    if (/^FROM_LINE=1$/m.test(script)) return { stdout: "openemr-bootstrap: install\nopenemr-bootstrap: OK (412s)\n" };
    if (script.includes("openemr-backup --json")) {
      stack.bucket.backups.unshift(newBackup);
      return { stdout: `dumping database openemr\n${JSON.stringify(manifestFor(newBackup))}\n` };
    }
    if (script.includes("openemr-restore drill"))
      return { stdout: `${JSON.stringify({ ok: true, backup: newBackup, tables: 1 })}\n` };
    if (script.includes("openemr-restore rollback")) return { stdout: `swapped back ${SWAP}\n` };
    if (script.includes("openemr-restore --backup"))
      return {
        stdout:
          `restored backup ${newBackup} into database openemr and /var/www/openemr/sites/default\n` +
          `  openemr-restore commit ${SWAP}    (drop it)\n  openemr-restore rollback ${SWAP}  (swap it back)\n`,
      };
    return healthy(script);
  };
});
afterEach(() => {
  stack.reset();
  pulumi.restorePath();
});

async function e2e(extra: string[] = []) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    stdoutIsTTY: false,
    stderrIsTTY: false,
    stdinIsTTY: false,
    ask: async () => "",
  };
  const reportDir = join(projectDir, "report");
  const code = await runE2e(
    [
      "--stack",
      "e2e",
      "--project-dir",
      projectDir,
      "--allowed-cidr",
      "198.51.100.7/32",
      "--alert-email",
      "sandbox@example.org",
      "--ca-file",
      certs.caFile,
      "--report-dir",
      reportDir,
      ...extra,
    ],
    { io, pollIntervalMs: 1 },
  );
  const reportFile = join(reportDir, "e2e-report.json");
  return {
    code,
    stdout: out.join("\n"),
    stderr: err.join("\n"),
    report: existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, "utf8")) : undefined,
    text: existsSync(join(reportDir, "e2e-report.txt")) ? readFileSync(join(reportDir, "e2e-report.txt"), "utf8") : "",
  };
}

const pulumiCommands = () =>
  pulumi
    .calls()
    .map((args) => args.slice(0, 2).join(" "))
    .filter((command) => !command.startsWith("npm"));

describe("e2e:aws", () => {
  it("deploys, exercises and destroys in order, and reports every step with its time", async () => {
    const run = await e2e();
    expect(run.code).toBe(0);
    expect(run.report.steps.map((step: { name: string }) => step.name)).toEqual(STEPS);
    expect(run.report.steps.every((step: { status: string }) => step.status === "ok")).toBe(true);
    for (const step of run.report.steps) expect(typeof step.seconds).toBe("number");
    expect(pulumiCommands()).toEqual([
      "stack init",
      "version",
      "up --yes",
      "stack output",
      "stack output",
      "destroy --yes",
      "stack rm",
    ]);
    expect(pulumi.calls().find((args) => args[0] === "up")).toEqual([
      "up",
      "--yes",
      "--skip-preview",
      "--stack",
      "e2e",
    ]);
    // Host scripts: the bootstrap log, health, backup, drill, the live restore, its rollback, health.
    const scripts = stack.host.scripts;
    const at = (needle: string) => scripts.findIndex((script) => script.includes(needle));
    expect(at("FROM_LINE=1")).toBeLessThan(at("openemr-backup --json"));
    expect(at("openemr-backup --json")).toBeLessThan(at(`openemr-restore drill --backup ${newBackup}`));
    expect(at(`openemr-restore drill`)).toBeLessThan(at(`openemr-restore --backup ${newBackup} --database "$DB_NAME"`));
    expect(at("openemr-restore --backup")).toBeLessThan(at(`openemr-restore rollback ${SWAP}`));
    expect(scripts.filter((script) => script.includes("OPENEMR-HEALTH")).length).toBeGreaterThanOrEqual(3);

    const byName = Object.fromEntries(run.report.steps.map((step: { name: string }) => [step.name, step]));
    expect(byName.backup.detail).toBe(`backup ${newBackup}`);
    expect(byName["restore into the live database"].detail).toBe(`backup ${newBackup} swapped in as ${SWAP}`);
    expect(
      byName["provision (pulumi up, SSM, bootstrap, health)"].substeps.map((s: { name: string }) => s.name),
    ).toContain("pulumi up");
    expect(run.report).toMatchObject({
      stack: "e2e",
      example: "standard",
      region: "us-east-1",
      account: "111122223333",
      ok: true,
      destroyData: false,
      cost: { monthlyUsd: 295.2, hourlyUsd: 0.4 },
    });
    expect(run.report.leftInAccount.join("\n")).toContain("retainDataOnDestroy keeps");
    expect(run.stdout).toMatch(/^STEP +STATUS +SECONDS +DETAIL$/m);
    expect(run.stdout).toMatch(/^openemr-restore rollback +OK +\d+\.\d +swap 20261126t023000z rolled back/m);
    expect(run.stdout).toContain("Estimated cost: $295.20 a month, about $0.40 an hour");
    expect(run.stdout.split("\n").pop()).toMatch(/^Verdict: OK in \d+s$/);
    expect(run.text.trimEnd()).toBe(run.stdout);
    // The sandbox stack file is the example made fit for the run, and goes once the stack is gone.
    expect(existsSync(join(projectDir, "Pulumi.e2e.yaml"))).toBe(false);
  });

  it("the sandbox stack file is the example with no domain, the given CIDR and e-mail, short retention", async () => {
    const { sandboxConfig } = await import("../../scripts/e2e/run");
    const yaml = sandboxConfig(readFileSync(join(projectDir, "config", "examples", "Pulumi.standard.yaml"), "utf8"), {
      stack: "e2e",
      example: "standard",
      projectDir,
      allowedCidr: ["198.51.100.7/32"],
      alertEmail: "sandbox@example.org",
      destroyData: true,
      keep: false,
      reportDir: projectDir,
      skipCost: true,
    });
    const { parse } = await import("yaml");
    const config = parse(yaml).config;
    expect(config["openemr:domain"]).toBeUndefined();
    expect(config["openemr:hostedZoneId"]).toBeUndefined();
    expect(config).toMatchObject({
      "openemr:tier": "standard",
      "openemr:allowedCidrs": ["198.51.100.7/32"],
      "openemr:alertEmails": ["sandbox@example.org"],
      "openemr:objectLockDays": 7,
      "openemr:backupRetentionDays": 7,
      "openemr:retainDataOnDestroy": false,
    });
    const { validateConfig, rawConfigFrom } = await import("../../infra/config");
    expect(validateConfig(rawConfigFrom(parse(yaml)).raw).problems).toEqual([]);
  });

  it("a failed step stops the run, the rest is skipped, and the stack is still destroyed", async () => {
    const answer = stack.host.handle;
    stack.host.handle = (script) =>
      script.includes("openemr-restore drill")
        ? { exitCode: 1, stdout: `${JSON.stringify({ ok: false, mismatches: ["patient_data"] })}\n` }
        : answer(script);
    const run = await e2e();
    expect(run.code).toBe(1);
    const statuses = run.report.steps.map((step: { name: string; status: string }) => `${step.name}: ${step.status}`);
    expect(statuses).toEqual([
      "stack config: ok",
      "cost estimate: ok",
      "pulumi stack init: ok",
      "provision (pulumi up, SSM, bootstrap, health): ok",
      "health: ok",
      "backup: ok",
      "restore drill: failed",
      "restore into the live database: skipped",
      "openemr-restore rollback: skipped",
      "health after the rollback: skipped",
      "pulumi destroy: ok",
      "pulumi stack rm: ok",
    ]);
    expect(run.report.steps[6].error).toMatch(/^openemr-ops drill exited 1/);
    expect(stack.host.scripts.some((script) => script.includes("openemr-restore --backup"))).toBe(false);
    expect(pulumiCommands().slice(-2)).toEqual(["destroy --yes", "stack rm"]);
    expect(run.report.ok).toBe(false);
    expect(run.stdout.split("\n").pop()).toMatch(/^Verdict: FAILED in \d+s$/);
  });

  it("a failed pulumi up is still followed by the destroy", async () => {
    pulumi.setUpExitCode(1);
    const run = await e2e(["--skip-cost"]);
    expect(run.code).toBe(1);
    expect(run.report.steps.find((step: { name: string }) => step.name === "cost estimate").detail).toContain(
      "not computed",
    );
    expect(run.report.cost).toBeNull();
    expect(pulumiCommands()).toEqual([
      "stack init",
      "version",
      "up --yes",
      "stack output",
      "destroy --yes",
      "stack rm",
    ]);
  });

  it("a failed destroy keeps the stack, its state and its file, and says what is left", async () => {
    writeFileSync(join(pulumi.dir, "destroy-exit"), "255");
    const run = await e2e(["--skip-cost"]);
    expect(run.code).toBe(1);
    expect(run.report.steps.slice(-2).map((step: { status: string }) => step.status)).toEqual(["failed", "skipped"]);
    expect(pulumiCommands()).not.toContain("stack rm");
    expect(existsSync(join(projectDir, "Pulumi.e2e.yaml"))).toBe(true);
    expect(run.report.leftInAccount[0]).toContain("could not delete");
  });

  it("--destroy-data releases what the stack keeps, then deletes the final snapshot taken during the run", async () => {
    stack.mocks.rds.on(ModifyDBInstanceCommand).resolves({});
    stack.mocks.s3.on(ListObjectVersionsCommand).callsFake((input) => ({
      Versions: [{ Key: `${input.Bucket}/a`, VersionId: "v1" }],
      DeleteMarkers: [{ Key: `${input.Bucket}/b`, VersionId: "v2" }],
      IsTruncated: false,
    }));
    stack.mocks.s3.on(DeleteObjectsCommand).resolves({});
    stack.mocks.rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        { DBSnapshotIdentifier: "clinic-prod-db-final", SnapshotCreateTime: new Date(Date.now() + 60_000) },
        { DBSnapshotIdentifier: "someone-elses-older", SnapshotCreateTime: new Date("2020-01-01T00:00:00Z") },
      ],
    });
    stack.mocks.rds.on(DeleteDBSnapshotCommand).resolves({});
    const run = await e2e(["--skip-cost", "--destroy-data"]);
    expect(run.code).toBe(0);
    expect(run.report.steps.slice(-4).map((step: { name: string }) => step.name)).toEqual([
      "release retained data",
      "pulumi destroy",
      "delete final snapshots",
      "pulumi stack rm",
    ]);
    expect(stack.mocks.rds.commandCalls(ModifyDBInstanceCommand)[0].args[0].input).toEqual({
      DBInstanceIdentifier: DB_ID,
      DeletionProtection: false,
      ApplyImmediately: true,
    });
    const deletes = stack.mocks.s3.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input);
    expect(
      deletes.map((input) => [input.Bucket, input.BypassGovernanceRetention, input.Delete?.Objects?.length]),
    ).toEqual([
      ["clinic-prod-backups-1a2b3c", true, 2],
      ["clinic-prod-trail-9z8y", true, 2],
    ]);
    expect(
      stack.mocks.rds.commandCalls(DeleteDBSnapshotCommand).map((call) => call.args[0].input.DBSnapshotIdentifier),
    ).toEqual(["clinic-prod-db-final"]);
    expect(run.report.destroyData).toBe(true);
  });

  it("without AWS credentials: exit 2, one line, nothing written or created", async () => {
    stack.mocks.sts
      .on(GetCallerIdentityCommand)
      .rejects(awsError("CredentialsProviderError", "Could not load credentials from any providers"));
    const run = await e2e();
    expect(run.code).toBe(2);
    expect(run.stderr.split("\n")).toEqual([
      "e2e:aws: no usable AWS credentials (CredentialsProviderError); set AWS_PROFILE or " +
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for a sandbox account and run again; nothing was created",
    ]);
    expect(run.stdout).toBe("");
    expect(pulumi.calls()).toEqual([]);
    expect(existsSync(join(projectDir, "Pulumi.e2e.yaml"))).toBe(false);
    expect(run.report).toBeUndefined();
  });

  it("refuses a stack whose file exists: it only deploys and destroys a stack of its own", async () => {
    writeFileSync(join(projectDir, "Pulumi.e2e.yaml"), "config: {}\n");
    const run = await e2e();
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Pulumi\.e2e\.yaml exists; .*pick a new --stack name$/);
    expect(pulumi.calls()).toEqual([]);
  });
});
