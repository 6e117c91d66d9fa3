// `openemr-ops restore --to-time T`: on `single` the host's openemr-restore rolls the newest
// backup before T forward with the shipped binary logs; on `standard` RDS restores the stack's
// instance to T as a new instance beside it, and the command says how to switch to it.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RestoreDBInstanceToPointInTimeCommand, type DBInstance } from "@aws-sdk/client-rds";
import { runCli } from "./support/cli";
import { DATA_KEY, mockPointInTimeRestore, type PitrMock } from "./support/rds";
import { backupIdAgo, DB_ID, INSTANCE_ID, mockStack, stackOutputs, writeOutputs } from "./support/stack";

let stack: ReturnType<typeof mockStack>;
beforeEach(() => (stack = mockStack()));
afterEach(() => {
  stack.reset();
  vi.useRealTimers();
});

/** An ISO time `hours` ago, to the second. */
const isoAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");

describe("restore --to-time on the single tier", () => {
  let outputsFile: string;
  beforeEach(() => (outputsFile = writeOutputs(stackOutputs("https://emr.example.org/", { tier: "single" }))));

  it("asks for the time typed back, then runs openemr-restore --to-time on the host", async () => {
    stack.bucket.backups.push(backupIdAgo(27));
    const toTime = isoAgo(1);
    stack.host.handle = () => ({ stdout: "replaying binary logs\nrestored\n" });
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", toTime, "--json"], {
      stdinIsTTY: true,
      answers: [toTime],
    });
    expect(run.asked).toEqual([`Type the time (${toTime}) to continue: `]);
    expect(run.stderr).toContain(`with backup ${stack.backupId} rolled forward to ${toTime}`);
    expect(run.code).toBe(0);
    expect(stack.host.scripts).toHaveLength(1);
    expect(stack.host.scripts[0]).toContain(
      `/opt/openemr-aws/bin/openemr-restore --to-time ${toTime} --database "$DB_NAME" ` +
        "--sites-dir /var/www/openemr/sites --yes",
    );
    expect(JSON.parse(run.stdout)).toEqual({
      command: "restore",
      ok: true,
      backupId: stack.backupId,
      target: "live",
      exitCode: 0,
      toTime,
    });
  });

  it("a time typed back wrong restores nothing", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", isoAgo(1)], {
      stdinIsTTY: true,
      answers: [stack.backupId],
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("nothing was restored");
    expect(stack.host.scripts).toEqual([]);
  });

  it("a time before every backup is refused before the host is asked", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", "2020-01-01T00:00:00Z", "--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "error: --to-time: no complete backup started before 2020-01-01T00:00:00Z in " +
        "s3://clinic-prod-backups-1a2b3c/backups/default/; choose a later time",
    );
    expect(stack.host.scripts).toEqual([]);
  });

  const usage: [string[], string][] = [
    [
      ["--to-time", "2026-11-30 14:05"],
      `error: option '--to-time <time>' argument '2026-11-30 14:05' is invalid. ` +
        'expected a UTC time like 2026-11-30T14:05:00Z, got "2026-11-30 14:05"',
    ],
    [
      ["--to-time", "2026-02-30T14:05:00Z"],
      'expected a UTC time like 2026-11-30T14:05:00Z, got "2026-02-30T14:05:00Z"',
    ],
    [["--to-time", "2999-01-01T00:00:00Z"], "2999-01-01T00:00:00Z is not in the past"],
    [
      ["--to-time", "2026-01-01T00:00:00Z", "--backup", "latest"],
      "error: option '--to-time <time>' cannot be used with option '--backup <id>'",
    ],
    [
      ["--to-time", "2026-01-01T00:00:00Z", "--new-database", "openemr_check"],
      "error: option '--to-time <time>' cannot be used with option '--new-database <name>'",
    ],
  ];
  for (const [argv, message] of usage) {
    it(`usage error, nothing sent: ${argv.join(" ")}`, async () => {
      const run = await runCli(["restore", "--outputs", outputsFile, ...argv, "--yes"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(stack.host.scripts).toEqual([]);
      expect(stack.mocks.s3.calls()).toEqual([]);
    });
  }
});

const TARGET_SUFFIX = "-pitr-";
const KMS = DATA_KEY;

describe("restore --to-time on the standard tier", () => {
  let outputsFile: string;
  let targetStates: PitrMock["targetStates"];
  let source: DBInstance;
  beforeEach(() => {
    outputsFile = writeOutputs(stackOutputs("https://emr.example.org/"));
    ({ source, targetStates } = mockPointInTimeRestore(stack));
  });

  it("restores the stack's instance to a new one with the source's settings, waits, says how to switch", async () => {
    const toTime = isoAgo(2);
    const target = `${DB_ID}${TARGET_SUFFIX}${toTime.replace(/[-:T]/g, "").slice(0, 12)}`;
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", toTime]);
    expect(run.code).toBe(0);
    const calls = stack.mocks.rds.commandCalls(RestoreDBInstanceToPointInTimeCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      SourceDBInstanceIdentifier: DB_ID,
      TargetDBInstanceIdentifier: target,
      RestoreTime: new Date(toTime),
      DBInstanceClass: "db.t4g.medium",
      Port: 3306,
      DBSubnetGroupName: "clinic-prod-db-subnets",
      VpcSecurityGroupIds: ["sg-0db"],
      DBParameterGroupName: "clinic-prod-db-params",
      OptionGroupName: "clinic-prod-db-options",
      CACertificateIdentifier: "rds-ca-rsa2048-g1",
      DeletionProtection: true,
      PubliclyAccessible: false,
      MultiAZ: false,
      StorageType: "gp3",
      Iops: undefined,
      MaxAllocatedStorage: 200,
      AutoMinorVersionUpgrade: true,
      CopyTagsToSnapshot: true,
      BackupRetentionPeriod: 35,
      EnableCloudwatchLogsExports: ["error", "slowquery"],
      EnableIAMDatabaseAuthentication: false,
      Tags: [
        { Key: "openemr-aws:stack", Value: "clinic-prod" },
        { Key: "openemr-aws:restored-from", Value: DB_ID },
        { Key: "openemr-aws:restored-to-time", Value: toTime },
      ],
    });
    // Progress: each status once, as it changes.
    expect(run.stderr).toContain(`    ${target}: creating (0 min)`);
    expect(run.stderr).toContain(`    ${target}: backing-up (0 min)`);
    expect(run.stderr).toContain(`    ${target}: available (0 min)`);
    const endpoint = `${target}.cabc.us-east-1.rds.amazonaws.com`;
    expect(run.stdout).toMatch(/^KMS key +arn:aws:kms:\S+ +arn:aws:kms:\S+ +same$/m);
    expect(run.stdout).toContain(`The host still uses ${DB_ID}: nothing was switched.`);
    expect(run.stdout).toContain(`settings.env gets the line\n     DB_HOST=${endpoint}\n`);
    expect(run.stdout).toContain(`     new=${endpoint}`);
    expect(run.stdout).toContain(`aws ssm start-session --region us-east-1 --target ${INSTANCE_ID}`);
    expect(run.stdout).toContain(
      `aws ssm send-command --region us-east-1 --document-name clinic-prod-bootstrap --instance-ids ${INSTANCE_ID}`,
    );
    expect(run.stdout).toContain(`with DB_HOST=${DB_ID}.cabc.us-east-1.rds.amazonaws.com. Re-running the document`);
    expect(run.stdout.split("\n").pop()).toBe(
      `Verdict: OK: ${DB_ID} restored to ${toTime} as ${target} at ${endpoint}:3306; the host still uses ${DB_ID}`,
    );
    expect(stack.host.scripts).toEqual([]);
  });

  it("the commands it prints for the host are valid bash", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", isoAgo(2)]);
    const lines = run.stdout.split("\n");
    const start = lines.findIndex((line) => line.includes("bash -eu <<'SWITCH'"));
    const end = lines.findIndex((line, index) => index > start && line.trim() === "SWITCH");
    expect(start).toBeGreaterThan(0);
    const script = lines
      .slice(start + 1, end)
      .map((line) => line.trim())
      .join("\n");
    const { spawnSync } = await import("node:child_process");
    expect(spawnSync("bash", ["-n", "-c", script], { encoding: "utf8" }).status).toBe(0);
    // The sqlconf.php edit, run on a copy: only $host changes.
    const { mkdtempSync, writeFileSync, readFileSync } = await import("node:fs");
    const dir = mkdtempSync("/tmp/sqlconf-");
    writeFileSync(`${dir}/sqlconf.php`, "<?php\n$host\t= 'old.rds';\n$port\t= '3306';\n$login\t= 'openemr_app';\n");
    const edit = script.split("\n").find((line) => line.includes("sqlconf.php") && line.startsWith("sed"))!;
    const result = spawnSync(
      "bash",
      ["-c", `new=new.rds; site=x; ${edit.replace(/\/var\/www\/openemr\/sites\/\$site/g, dir)}`],
      {
        encoding: "utf8",
      },
    );
    expect(result.stderr).toBe("");
    expect(readFileSync(`${dir}/sqlconf.php`, "utf8")).toBe(
      "<?php\n$host = 'new.rds';\n$port\t= '3306';\n$login\t= 'openemr_app';\n",
    );
  });

  it("a time after the latest restorable time is refused, saying so", async () => {
    source.LatestRestorableTime = new Date(Date.now() - 3_600_000);
    const toTime = isoAgo(0.5);
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", toTime]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `error: --to-time ${toTime} is after ${DB_ID}'s latest restorable time \\S+Z ` +
          "\\(RDS uploads its transaction logs every 5 minutes\\); choose a time at or before",
      ),
    );
    expect(stack.mocks.rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)).toEqual([]);
  });

  it("a time before the earliest restorable time is refused, saying so", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", "2020-01-01T00:00:00Z"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `error: --to-time 2020-01-01T00:00:00Z is before ${DB_ID}'s earliest restorable time \\S+Z ` +
          "\\(automated backups are kept 35 days\\); choose a time at or after",
      ),
    );
    expect(stack.mocks.rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)).toEqual([]);
  });

  it("an instance already restored to that minute is not restored again", async () => {
    targetStates.unshift({ DBInstanceStatus: "creating" });
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", isoAgo(2)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("already exists (creating): a restore to this minute was started before");
    expect(stack.mocks.rds.commandCalls(RestoreDBInstanceToPointInTimeCommand)).toEqual([]);
  });

  it("a restored instance on another KMS key fails the check", async () => {
    targetStates.splice(-1, 1, {
      DBInstanceStatus: "available",
      KmsKeyId: "arn:aws:kms:us-east-1:111122223333:key/other",
    });
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", isoAgo(2), "--json"]);
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json.ok).toBe(false);
    expect(json.settings.find((setting: { name: string }) => setting.name === "KMS key")).toEqual({
      name: "KMS key",
      source: KMS,
      restored: "arn:aws:kms:us-east-1:111122223333:key/other",
    });
  });

  it("a restore RDS gives up on fails with where to look", async () => {
    targetStates.splice(-1, 1, { DBInstanceStatus: "incompatible-parameters" });
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", isoAgo(2)]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Verdict: FAILED: \S+ is incompatible-parameters .*aws rds describe-events/m);
  });

  it("waits at most --wait-minutes, then says it may still become available", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    targetStates.splice(-1, 1, { DBInstanceStatus: "creating" });
    stack.mocks.rds.on(RestoreDBInstanceToPointInTimeCommand).callsFake(() => {
      // From here on every poll finds six more minutes gone.
      const describe = setInterval(() => vi.setSystemTime(Date.now() + 6 * 60_000), 1);
      setTimeout(() => clearInterval(describe), 2_000);
      return { DBInstance: { DBInstanceStatus: "creating" } };
    });
    const run = await runCli(["restore", "--outputs", outputsFile, "--to-time", isoAgo(2), "--wait-minutes", "30"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^Verdict: FAILED: \S+ is creating after 30 min; it may still become available/m);
  });
});
