// Every command's --json output is checked against the schema documented for it in
// docs/ops-json.md, so the documented shapes and the real ones cannot drift apart.
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { DescribeAddressesCommand, DescribeInstancesCommand, DescribeInstanceTypesCommand } from "@aws-sdk/client-ec2";
import { runCli } from "./support/cli";
import { installFakePulumi } from "./support/fake-pulumi";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import { mockPointInTimeRestore } from "./support/rds";
import { manifestFor, mockStack, stackOutputs, writeOutputs } from "./support/stack";

const doc = readFileSync(join(__dirname, "..", "..", "docs", "ops-json.md"), "utf8");
const schemas = [...doc.matchAll(/```json\n([\s\S]*?)\n```/g)].map((match) => JSON.parse(match[1]) as { $id: string });
const ajv = new Ajv({ strict: true, allErrors: true });
addFormats(ajv);
schemas.forEach((schema) => ajv.addSchema(schema));

const exercised = new Set<string>();
function expectShape(command: string, stdout: string): void {
  exercised.add(command);
  const validate = ajv.getSchema(command);
  expect(validate, `docs/ops-json.md documents ${command}`).toBeDefined();
  const valid = validate!(JSON.parse(stdout));
  expect(validate!.errors ?? [], `${command} output matches its documented shape`).toEqual([]);
  expect(valid).toBe(true);
}

let certs: Certificates;
let site: FakeOpenEmr;
let stack: ReturnType<typeof mockStack>;
let outputsFile: string;

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
});
afterAll(async () => {
  await site.close();
  expect([...exercised].sort()).toEqual(
    schemas
      .map((schema) => schema.$id)
      .filter((id) => id !== "finding")
      .sort(),
  );
});
beforeEach(() => {
  stack = mockStack();
  outputsFile = writeOutputs(stackOutputs(site.url));
});
afterEach(() => stack.reset());

const json = (command: string, ...extra: string[]) =>
  runCli([command, "--outputs", outputsFile, "--json", ...extra], { stdoutIsTTY: true });

describe("--json output matches docs/ops-json.md", () => {
  it("health", async () => {
    stack.host.report.disks = [{ path: "/", used_percent: 85 }];
    expectShape("health", (await json("health", "--ca-file", certs.caFile)).stdout);
  });

  it("backup", async () => {
    stack.host.handle = () => ({ stdout: `${JSON.stringify(manifestFor(stack.backupId))}\n` });
    expectShape("backup", (await json("backup")).stdout);
  });

  it("backups", async () => {
    stack.bucket.incomplete.push("20261126T000000Z");
    expectShape("backups", (await json("backups")).stdout);
  });

  it("restore", async () => {
    expectShape("restore", (await json("restore", "--yes")).stdout);
    stack.host.handle = () => ({ stdout: "  openemr-restore rollback 20261201t101500z  (swap it back)\n" });
    const run = await json("restore", "--yes");
    expect(JSON.parse(run.stdout).swapId).toBe("20261201t101500z");
    expectShape("restore", run.stdout);
  });

  it("restore --to-time, single tier", async () => {
    outputsFile = writeOutputs(stackOutputs(site.url, { tier: "single" }));
    const toTime = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    expectShape("restore", (await json("restore", "--yes", "--to-time", toTime)).stdout);
  });

  it("restore-status", async () => {
    stack.host.handle = () => ({
      stdout:
        JSON.stringify([
          {
            id: "20261201t101500z",
            backup: "20261126T023000Z",
            database: "openemr",
            phase: "kept",
            swapped_at: "2026-12-01T10:16:40Z",
            before_db: "openemr_before_20261201t101500z",
            held_site: "/var/www/openemr/sites/.restore-20261201t101500z/default",
            kept_bytes: 1024,
            commit_after_days: 7,
          },
        ]) + "\n",
    });
    expectShape("restore-status", (await runCli(["restore", "status", "--outputs", outputsFile, "--json"])).stdout);
  });

  it("restore-swap (commit and rollback)", async () => {
    for (const verb of ["commit", "rollback"])
      expectShape(
        "restore-swap",
        (await runCli(["restore", verb, "20261201t101500z", "--outputs", outputsFile, "--json"])).stdout,
      );
  });

  it("restore-rds (restore --to-time, standard tier)", async () => {
    mockPointInTimeRestore(stack);
    const toTime = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
    const run = await json("restore", "--to-time", toTime);
    expect(JSON.parse(run.stdout).ok).toBe(true);
    expectShape("restore-rds", run.stdout);
  });

  it("drill", async () => {
    stack.host.handle = () => ({ stdout: '{"ok":true}\n' });
    expectShape("drill", (await json("drill")).stdout);
  });

  it("admin-password", async () => {
    stack.mocks.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: '{"username":"admin","password":"p"}', VersionId: "v1" });
    expectShape("admin-password", (await json("admin-password")).stdout);
  });

  it("rotate-admin-password", async () => {
    stack.mocks.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: '{"username":"admin","password":"p"}', VersionId: "v1" });
    expectShape("rotate-admin-password", (await json("rotate-admin-password")).stdout);
  });

  it("upgrade, including a rollback", async () => {
    stack.host.handle = (script) => {
      if (script.includes("version.php")) return { stdout: "8.3.0\n" };
      if (script.includes("openemr-backup --json"))
        return { stdout: `${JSON.stringify(manifestFor(stack.backupId))}\n` };
      if (script.includes("code swapped")) return { stdout: "openemr-upgrade: code swapped\n" };
      if (script.includes("OPENEMR-HEALTH")) return { stdout: "no report\n" };
      return { stdout: "openemr-rollback: OK\n" };
    };
    const run = await json("upgrade", "--to", "8.3.1", "--ca-file", certs.caFile);
    expect(JSON.parse(run.stdout).rolledBack).toBe(true);
    expectShape("upgrade", run.stdout);
  });

  it("logs", async () => {
    stack.mocks.logs
      .on(FilterLogEventsCommand)
      .resolves({ events: [{ eventId: "1", timestamp: 0, logStreamName: "i-1", message: "m" }] });
    expectShape("logs", (await json("logs")).stdout);
  });

  it("provision", async () => {
    const pulumi = installFakePulumi();
    try {
      pulumi.setOutputs(stackOutputs(site.url));
      stack.mocks.sts
        .on(GetCallerIdentityCommand)
        .resolves({ Account: "111122223333", Arn: "arn:aws:iam::111122223333:user/deployer" });
      stack.mocks.quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 1 } });
      stack.mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
      stack.mocks.ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
      stack.mocks.ec2
        .on(DescribeInstanceTypesCommand)
        .resolves({ InstanceTypes: [{ InstanceType: "t3.medium", VCpuInfo: { DefaultVCpus: 2 } }] });
      const dir = mkdtempSync(join(tmpdir(), "ops-project-"));
      copyFileSync(
        join(__dirname, "..", "..", "config", "examples", "Pulumi.standard.yaml"),
        join(dir, "Pulumi.clinic.yaml"),
      );
      const run = await runCli(["provision", "--stack", "clinic", "--project-dir", dir, "--yes", "--json"]);
      expect(JSON.parse(run.stdout).stage).toBe("preflight");
      expectShape("provision", run.stdout);
    } finally {
      pulumi.restorePath();
    }
  });
});
