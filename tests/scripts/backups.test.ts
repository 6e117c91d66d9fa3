// backup, backups, restore and drill: the host scripts driven through SSM (mocked), their
// output streamed, the result read back from the manifest in the bucket.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GetCommandInvocationCommand, SendCommandCommand, InvalidInstanceId } from "@aws-sdk/client-ssm";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { READ_HOST_SETTINGS } from "../../scripts/lib/ssm";
import { runCli } from "./support/cli";
import {
  awsError,
  backupIdAgo,
  INSTANCE_ID,
  manifestFor,
  mockStack,
  stackOutputs,
  writeOutputs,
} from "./support/stack";

let stack: ReturnType<typeof mockStack>;
let outputsFile: string;

beforeEach(() => {
  stack = mockStack();
  outputsFile = writeOutputs(stackOutputs("https://emr.example.org/"));
});
afterEach(() => stack.reset());

describe("backup", () => {
  it("runs openemr-backup --json on the host, streams its output and reads the manifest back", async () => {
    const id = backupIdAgo(0);
    stack.bucket.backups.unshift(id);
    stack.host.handle = () => ({
      stdout: `dumping database openemr\narchiving sites/default\n${JSON.stringify(manifestFor(id))}\n`,
    });
    const run = await runCli(["backup", "--outputs", outputsFile]);
    expect(run.code).toBe(0);
    expect(stack.host.scripts[0]).toContain("/opt/openemr-aws/bin/openemr-backup --json");
    expect(run.stderr).toContain("    dumping database openemr");
    expect(run.stderr).toContain("    archiving sites/default");
    expect(stack.mocks.s3.commandCalls(GetObjectCommand)[0].args[0].input).toEqual({
      Bucket: "clinic-prod-backups-1a2b3c",
      Key: `backups/default/${id}/manifest.json`,
    });
    expect(run.stdout).toMatch(/^db\.sql\.zst +120\.6 KiB +aaaaaaaaaaaaaaaa$/m);
    expect(run.stdout.split("\n").pop()).toBe(`Verdict: OK: backup ${id} of openemr (OpenEMR 8.3.0), 759.5 KiB in 72s`);
  });

  it("a failing backup exits 1 with the host's last line", async () => {
    stack.host.handle = () => ({
      exitCode: 1,
      stdout: "dumping database openemr\n",
      stderr: "openemr-backup: mysqldump failed: Access denied for user 'openemr_app'\n",
    });
    const run = await runCli(["backup", "--outputs", outputsFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "error: backup failed on the host (exit 1): " +
        "openemr-backup: mysqldump failed: Access denied for user 'openemr_app'; " +
        "see `openemr-ops logs --log openemr-backup`",
    );
  });

  const failures: [string, () => void, string][] = [
    [
      "throttled",
      () => stack.mocks.ssm.on(SendCommandCommand).rejects(awsError("ThrottlingException", "Rate exceeded")),
      "error: AWS throttled SSM SendCommand (ThrottlingException); wait a minute and run the command again",
    ],
    [
      "denied",
      () =>
        stack.mocks.ssm
          .on(SendCommandCommand)
          .rejects(awsError("AccessDeniedException", "not authorized to perform: ssm:SendCommand")),
      "error: access denied to SSM SendCommand (AccessDeniedException): " +
        "the AWS identity in use lacks that permission; see Operator permissions in docs/operations.md",
    ],
    [
      "not managed by SSM",
      () =>
        stack.mocks.ssm
          .on(SendCommandCommand)
          .rejects(new InvalidInstanceId({ message: "Instances not in a valid state", $metadata: {} })),
      `error: instance ${INSTANCE_ID} is not managed by SSM (InvalidInstanceId); ` +
        "check that it is running, its SSM agent is online and its role allows SSM",
    ],
    [
      "timed out",
      () => (stack.host.handle = () => ({ status: "TimedOut", statusDetails: "ExecutionTimedOut", exitCode: -1 })),
      `error: backup timed out on ${INSTANCE_ID} after 10800s (SSM ExecutionTimedOut, command cmd-1); ` +
        "the host may still be working: check its log before retrying",
    ],
    [
      "undeliverable",
      () => (stack.host.handle = () => ({ status: "Failed", statusDetails: "Undeliverable", exitCode: -1 })),
      `error: backup: SSM could not deliver the command to ${INSTANCE_ID} (Undeliverable); ` +
        "check that the SSM agent is online",
    ],
  ];
  for (const [name, arrange, message] of failures) {
    it(`SSM ${name}: exit 1 with one line saying so`, async () => {
      arrange();
      const run = await runCli(["backup", "--outputs", outputsFile]);
      expect(run.code).toBe(1);
      expect(run.stderr.split("\n").filter((line) => line.startsWith("error:"))).toEqual([message]);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    });
  }
});

describe("backups", () => {
  it("lists the bucket newest first with age, size and verification; an incomplete one is marked", async () => {
    const older = backupIdAgo(27);
    stack.bucket.backups.push(older);
    const broken = manifestFor(older);
    broken.parts[0].bytes = 1;
    stack.manifests.set(older, broken);
    const unfinished = backupIdAgo(1);
    stack.bucket.incomplete.push(unfinished);
    const run = await runCli(["backups", "--outputs", outputsFile, "--json"]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(
      json.backups.map((backup: { id: string; verification: string; complete: boolean }) => [
        backup.id,
        backup.complete,
        backup.verification,
      ]),
    ).toEqual([
      [unfinished, false, "incomplete"],
      [stack.backupId, true, "verified"],
      [older, true, "db.sql.zst is 123456 bytes, manifest says 1"],
    ]);
  });

  it("exits 1 when there is no complete backup", async () => {
    stack.bucket.backups = [];
    const run = await runCli(["backups", "--outputs", outputsFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("No complete backup: run `openemr-ops backup`");
  });
});

describe("restore", () => {
  it("into the live database asks for the backup id typed back, then runs openemr-restore", async () => {
    stack.host.handle = () => ({ stdout: "verifying checksums\nrestored\n" });
    const run = await runCli(["restore", "--outputs", outputsFile], { stdinIsTTY: true, answers: [stack.backupId] });
    expect(run.asked).toEqual([`Type the backup id (${stack.backupId}) to continue: `]);
    expect(run.code).toBe(0);
    expect(stack.host.scripts[0]).toContain(
      `${READ_HOST_SETTINGS}\n` +
        `/opt/openemr-aws/bin/openemr-restore --backup ${stack.backupId} --database "$DB_NAME" ` +
        "--sites-dir /var/www/openemr/sites --yes",
    );
    expect(run.stdout).toBe(
      `Verdict: OK: backup ${stack.backupId} restored into the live database; run \`openemr-ops health\``,
    );
  });

  it("after a live restore, says how to roll it back or commit it with openemr-ops", async () => {
    const swap = "20261201t101500z";
    stack.host.handle = () => ({
      stdout:
        "restored backup x into database openemr and /var/www/openemr/sites/default\n" +
        "the copy from before is kept as database openemr_before_20261201t101500z and ... for 7 days:\n" +
        `  openemr-restore commit ${swap}    (drop it)\n  openemr-restore rollback ${swap}  (swap it back)\n`,
    });
    const run = await runCli(["restore", "--outputs", outputsFile, "--yes"]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toEqual([
      `The database and site from before the restore are kept on the host as swap ${swap}, ` +
        "for RESTORE_KEEP_DAYS (default 7) days:",
      `  openemr-ops restore rollback ${swap}   put it back`,
      `  openemr-ops restore commit ${swap}     drop it`,
      "",
      `Verdict: OK: backup ${stack.backupId} restored into the live database; run \`openemr-ops health\``,
    ]);
    const json = await runCli(["restore", "--outputs", outputsFile, "--yes", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, target: "live", swapId: swap });
  });

  it("a failed restore names no swap to roll back", async () => {
    stack.host.handle = () => ({
      exitCode: 1,
      stdout: "  openemr-restore rollback 20261201t101500z  (swap it back)\n",
      stderr: "openemr-restore: disk full\n",
    });
    const run = await runCli(["restore", "--outputs", outputsFile, "--yes", "--json"]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).swapId).toBeUndefined();
  });

  it("a wrong confirmation restores nothing", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile], { stdinIsTTY: true, answers: ["yes"] });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: confirmation "yes" does not match ${stack.backupId}; nothing was restored`);
    expect(stack.host.scripts).toEqual([]);
  });

  it("without a terminal needs --yes (usage error)", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "error: restore into the live database: confirm by typing on a terminal, or pass --yes " +
        "(or restore with --new-database NAME)",
    );
    expect(stack.host.scripts).toEqual([]);
  });

  it("into a new database needs no confirmation", async () => {
    const run = await runCli([
      "restore",
      "--outputs",
      outputsFile,
      "--backup",
      stack.backupId,
      "--new-database",
      "openemr_check",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(stack.host.scripts[0]).toContain(
      `openemr-restore --backup ${stack.backupId} --database openemr_check ` +
        "--sites-dir /var/lib/openemr-aws/restores/openemr_check/sites --yes",
    );
    expect(JSON.parse(run.stdout)).toEqual({
      command: "restore",
      ok: true,
      backupId: stack.backupId,
      target: "openemr_check",
      exitCode: 0,
    });
  });

  it("an unknown backup id is an error naming it", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile, "--backup", "20200101T000000Z", "--yes"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "error: --backup: no backup 20200101T000000Z in s3://clinic-prod-backups-1a2b3c/backups/default/; " +
        "run `openemr-ops backups`",
    );
  });

  it("a malformed backup id is a usage error", async () => {
    const run = await runCli(["restore", "--outputs", outputsFile, "--backup", "yesterday"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "error: option '--backup <id>' argument 'yesterday' is invalid. " +
        'expected "latest" or a backup id like 20261126T023000Z, got "yesterday"',
    );
  });
});

describe("drill", () => {
  it("runs the drill on the host and reports its JSON", async () => {
    stack.host.handle = () => ({
      stdout:
        "restoring into openemr_drill_1\n" +
        `${JSON.stringify({ ok: true, backup: stack.backupId, tables_compared: 250, mismatches: [] })}\n`,
    });
    const run = await runCli(["drill", "--outputs", outputsFile, "--json"]);
    expect(run.code).toBe(0);
    expect(stack.host.scripts[0]).toContain(
      `/opt/openemr-aws/bin/openemr-restore drill --backup ${stack.backupId} --json`,
    );
    expect(JSON.parse(run.stdout)).toEqual({
      command: "drill",
      ok: true,
      backupId: stack.backupId,
      exitCode: 0,
      report: { ok: true, backup: stack.backupId, tables_compared: 250, mismatches: [] },
    });
  });

  it("a failed drill exits 1 and says the backup may not restore", async () => {
    stack.host.handle = () => ({
      exitCode: 1,
      stdout: `${JSON.stringify({ ok: false, mismatches: ["patient_data: 1200 in manifest, 1100 restored"] })}\n`,
    });
    const run = await runCli(["drill", "--outputs", outputsFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`Verdict: FAILED: drill of ${stack.backupId} exited 1`);
    expect(run.stdout).toContain("the backup may not be restorable");
  });
});

describe("restore guards", () => {
  /** Runs the command sent to the host under sh, with settings.env and openemr-restore faked. */
  function runOnFakeHost(script: string, liveDatabase: string, restoreExit = 0) {
    const root = mkdtempSync(join(tmpdir(), "fake-host-"));
    writeFileSync(join(root, "settings.env"), `DB_NAME=${liveDatabase}\n`);
    writeFileSync(
      join(root, "openemr-restore"),
      `#!/usr/bin/env bash\necho "$*" > ${join(root, "restored")}\nexit ${restoreExit}\n`,
    );
    writeFileSync(join(root, "systemctl"), `#!/usr/bin/env bash\necho "$*" >> ${join(root, "systemctl.log")}\n`);
    chmodSync(join(root, "openemr-restore"), 0o755);
    chmodSync(join(root, "systemctl"), 0o755);
    const local = script
      .replaceAll("/opt/openemr-aws/lib/", `${resolve("infra/host/lib")}/`)
      .replaceAll("/opt/openemr-aws/bin/openemr-restore", join(root, "openemr-restore"));
    const result = spawnSync("sh", ["-c", local], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${root}:${process.env.PATH}`, OPENEMR_AWS_ETC: root },
    });
    const read = (name: string) =>
      existsSync(join(root, name)) ? readFileSync(join(root, name), "utf8").trim() : undefined;
    return { ...result, restored: read("restored"), systemctl: read("systemctl.log") };
  }

  it("the live restore leaves Apache to openemr-restore, which pauses it for the swap alone", async () => {
    await runCli(["restore", "--outputs", outputsFile, "--yes"]);
    const onHost = runOnFakeHost(stack.host.scripts[0], "openemr", 1);
    expect(onHost.status).toBe(1);
    expect(onHost.restored).toBe(
      `--backup ${stack.backupId} --database openemr --sites-dir /var/www/openemr/sites --yes`,
    );
    expect(onHost.systemctl).toBeUndefined();
  });

  it("--new-database naming the live database is refused on the host before anything is restored", async () => {
    stack.host.handle = () => ({
      exitCode: 2,
      stderr: "openemr-ops: --new-database openemr is the live database; restore into it without --new-database\n",
    });
    const run = await runCli(["restore", "--outputs", outputsFile, "--new-database", "openemr"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `Verdict: FAILED: restore of ${stack.backupId} exited 2: ` +
        "openemr-ops: --new-database openemr is the live database; restore into it without --new-database",
    );
    const onHost = runOnFakeHost(stack.host.scripts[0], "openemr");
    expect(onHost.status).toBe(2);
    expect(onHost.stderr.trim()).toBe(
      "openemr-ops: --new-database openemr is the live database; restore into it without --new-database",
    );
    expect(onHost.restored).toBeUndefined();
  });

  it("another name restores into it", async () => {
    await runCli(["restore", "--outputs", outputsFile, "--new-database", "openemr_check"]);
    const onHost = runOnFakeHost(stack.host.scripts[0], "openemr");
    expect(onHost.status).toBe(0);
    expect(onHost.restored).toBe(
      `--backup ${stack.backupId} --database openemr_check ` +
        "--sites-dir /var/lib/openemr-aws/restores/openemr_check/sites --yes",
    );
  });
});

describe("streaming host output", () => {
  it("prints each line once as the output grows, never half a line", async () => {
    const id = backupIdAgo(0);
    stack.bucket.backups.unshift(id);
    const manifestLine = JSON.stringify(manifestFor(id));
    stack.mocks.ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(awsError("InvocationDoesNotExist", "not yet"))
      .resolvesOnce({ Status: "InProgress", StandardOutputContent: "dumping database openemr\narchiving si" })
      .resolvesOnce({
        Status: "InProgress",
        StandardOutputContent: "dumping database openemr\narchiving sites/default\n",
      })
      .resolves({
        Status: "Success",
        ResponseCode: 0,
        StandardOutputContent: `dumping database openemr\narchiving sites/default\n${manifestLine}`,
      });
    const run = await runCli(["backup", "--outputs", outputsFile]);
    expect(run.code).toBe(0);
    expect(run.stderr.split("\n").filter((line) => line.startsWith("    "))).toEqual([
      "    dumping database openemr",
      "    archiving sites/default",
      `    ${manifestLine}`,
    ]);
  });
});
