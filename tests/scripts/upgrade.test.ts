// upgrade: backup and snapshot first, the swap on the host, the health gate, and the
// automatic rollback when the gate fails.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CreateDBSnapshotCommand } from "@aws-sdk/client-rds";
import { runCli } from "./support/cli";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import {
  backupIdAgo,
  DB_ID,
  manifestFor,
  mockStack,
  stackOutputs,
  writeOutputs,
  type HostAnswer,
} from "./support/stack";

let certs: Certificates;
let site: FakeOpenEmr;
let stack: ReturnType<typeof mockStack>;
let preUpgradeId: string;

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
});
afterAll(() => site.close());

/** The host as the upgrade sees it; `upgrade` and `rollback` answers can be replaced per test. */
let answers: Record<"upgrade" | "rollback", HostAnswer>;

beforeEach(() => {
  stack = mockStack();
  preUpgradeId = backupIdAgo(0);
  stack.bucket.backups.unshift(preUpgradeId);
  site.readyz = { status: "ready", checks: { database: true } };
  answers = {
    upgrade: {
      stdout: "release verified: sha256 abc\nopenemr-upgrade: code swapped\nopenemr-upgrade: OK 8.3.0 -> 8.3.1\n",
    },
    rollback: { stdout: "openemr-rollback: previous code back in place\nopenemr-rollback: OK back at 8.3.0\n" },
  };
  const healthy = stack.host.handle;
  stack.host.handle = (script) => {
    if (script.includes("version.php")) return { stdout: "8.3.0\n" };
    if (script.includes("openemr-backup --json")) return { stdout: `${JSON.stringify(manifestFor(preUpgradeId))}\n` };
    if (script.includes("openemr-upgrade: code swapped")) return answers.upgrade;
    if (script.includes("openemr-rollback")) return answers.rollback;
    return healthy(script);
  };
});
afterEach(() => stack.reset());

async function upgrade(extra: string[] = []) {
  const run = await runCli([
    "upgrade",
    "--to",
    "8.3.1",
    "--outputs",
    writeOutputs(stackOutputs(site.url)),
    "--ca-file",
    certs.caFile,
    "--json",
    ...extra,
  ]);
  return { ...run, json: JSON.parse(run.stdout || "null") };
}

describe("upgrade", () => {
  it("backs up, snapshots, swaps the code, passes the gate and does not roll back", async () => {
    const run = await upgrade(["--sha256", "c".repeat(64)]);
    expect(run.code).toBe(0);
    expect(run.json).toMatchObject({
      command: "upgrade",
      ok: true,
      from: "8.3.0",
      to: "8.3.1",
      preUpgradeBackup: preUpgradeId,
      rolledBack: false,
      reason: null,
    });
    expect(run.json.dbSnapshot).toMatch(new RegExp(`^${DB_ID}-pre-upgrade-8-3-1-\\d{8}t\\d{6}$`));
    expect(stack.mocks.rds.commandCalls(CreateDBSnapshotCommand)[0].args[0].input.DBInstanceIdentifier).toBe(DB_ID);
    const upgradeScript = stack.host.scripts.find((script) => script.includes("openemr-upgrade: code swapped"))!;
    expect(upgradeScript).toContain("FROM_VERSION=8.3.0\nTO_VERSION=8.3.1\nRELEASE_SHA256=" + "c".repeat(64));
    expect(upgradeScript).toContain('upgrade_database_schema "$FROM_VERSION" "$code"');
    expect(stack.host.scripts.some((script) => script.includes("openemr-rollback"))).toBe(false);
  });

  it("rolls back to the previous code and the pre-upgrade backup when the health gate fails", async () => {
    site.readyz = { status: "ready", checks: { database: false } };
    const run = await upgrade();
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({
      ok: false,
      rolledBack: true,
      reason: "the health gate failed: readyz.database (database check failed)",
    });
    const rollback = stack.host.scripts.find((script) => script.includes("openemr-rollback"))!;
    expect(rollback).toContain(`FROM_VERSION=8.3.0\nBACKUP_ID=${preUpgradeId}`);
    expect(rollback).toContain(
      'openemr-restore --backup "$BACKUP_ID" --database "$DB_NAME" --sites-dir "$code/sites" --yes',
    );
    expect(run.stderr).toContain(
      "the health gate failed: readyz.database (database check failed); " +
        `rolling back to 8.3.0 and backup ${preUpgradeId}`,
    );
    // Order on the host: version, backup, upgrade, health, rollback.
    expect(
      stack.host.scripts.map((script) =>
        script.includes("version.php")
          ? "version"
          : script.includes("openemr-backup --json")
            ? "backup"
            : script.includes("code swapped")
              ? "upgrade"
              : script.includes("OPENEMR-HEALTH")
                ? "health"
                : "rollback",
      ),
    ).toEqual(["version", "backup", "upgrade", "health", "rollback"]);
  });

  it("rolls back when sql_upgrade fails after the swap, and says so in the human verdict", async () => {
    answers.upgrade = {
      exitCode: 1,
      stdout: "openemr-upgrade: code swapped\n",
      stderr: "openemr-upgrade: sql_upgrade.php failed\n",
    };
    const run = await runCli([
      "upgrade",
      "--to",
      "8.3.1",
      "--outputs",
      writeOutputs(stackOutputs(site.url)),
      "--ca-file",
      certs.caFile,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      "Verdict: FAILED: the upgrade failed on the host: openemr-upgrade: sql_upgrade.php failed. " +
        `Rolled back to 8.3.0 with backup ${preUpgradeId}; run \`openemr-ops health\`.`,
    );
  });

  it("tells how to restore by hand when the rollback fails too", async () => {
    site.readyz = { status: "setup_required" };
    answers.rollback = { exitCode: 1, stderr: "openemr-restore: checksum mismatch for db.sql.zst\n" };
    const run = await upgrade();
    expect(run.code).toBe(1);
    expect(run.json.rolledBack).toBe(false);
    const human = await runCli([
      "upgrade",
      "--to",
      "8.3.1",
      "--outputs",
      writeOutputs(stackOutputs(site.url)),
      "--ca-file",
      certs.caFile,
    ]);
    const verdict = human.stdout.split("\n").pop();
    expect(verdict).toContain(
      "and the rollback failed too (exit 1: openemr-restore: checksum mismatch for db.sql.zst). Restore by hand: ",
    );
    expect(verdict).toMatch(
      /`openemr-ops restore --backup \d{8}T\d{6}Z` or the RDS snapshot clinic-prod-db-pre-upgrade-/,
    );
  });

  it("a checksum failure before the swap changes nothing and needs no rollback", async () => {
    answers.upgrade = {
      exitCode: 1,
      stdout: "downloading https://example/openemr-8.3.1.tar.gz\n",
      stderr: "openemr-upgrade: release checksum mismatch: expected aaa, got bbb\n",
    };
    const run = await upgrade();
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({
      ok: false,
      rolledBack: false,
      reason: "openemr-upgrade: release checksum mismatch: expected aaa, got bbb",
    });
    expect(stack.host.scripts.some((script) => script.includes("openemr-rollback"))).toBe(false);
  });

  it("refuses a version that is not newer (usage error) before touching anything", async () => {
    const run = await runCli(["upgrade", "--to", "8.2.9", "--outputs", writeOutputs(stackOutputs(site.url))]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "error: --to: 8.2.9 is not newer than the installed 8.3.0; " +
        "expected a later release (downgrades are restores: see `openemr-ops restore`)",
    );
    expect(stack.host.scripts).toHaveLength(1);
  });

  it("needs --to", async () => {
    const run = await runCli(["upgrade", "--outputs", writeOutputs(stackOutputs(site.url))]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: required option '--to <version>' not specified");
  });
});
