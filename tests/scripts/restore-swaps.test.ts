// `openemr-ops restore status|commit SWAP|rollback SWAP`: the host's kept copies, through SSM.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli";
import { mockStack, stackOutputs, writeOutputs } from "./support/stack";

let stack: ReturnType<typeof mockStack>;
let outputsFile: string;
beforeEach(() => {
  stack = mockStack();
  outputsFile = writeOutputs(stackOutputs("https://emr.example.org/"));
});
afterEach(() => stack.reset());

const KEPT = {
  id: "20261201t101500z",
  backup: "20261126T023000Z",
  database: "openemr",
  phase: "kept",
  swapped_at: "2026-12-01T10:16:40Z",
  before_db: "openemr_before_20261201t101500z",
  held_site: "/var/www/openemr/sites/.restore-20261201t101500z/default",
  kept_bytes: 734003200,
  commit_after_days: 7,
};

describe("restore status", () => {
  it("runs openemr-restore status --json on the host and shows a table", async () => {
    stack.host.handle = () => ({ stdout: `${JSON.stringify([KEPT])}\n` });
    const run = await runCli(["restore", "status", "--outputs", outputsFile]);
    expect(run.code).toBe(0);
    expect(stack.host.scripts).toHaveLength(1);
    expect(stack.host.scripts[0]).toContain("/opt/openemr-aws/bin/openemr-restore status --json");
    expect(run.stdout.split("\n")).toEqual([
      "SWAP              BACKUP            DATABASE  SWAPPED AT            KEPT       COMMITS AFTER",
      "20261201t101500z  20261126T023000Z  openemr   2026-12-01T10:16:40Z  700.0 MiB  7 days (2026-12-08)",
      "",
      "1 restore keeps the copy from before it: `openemr-ops restore rollback SWAP` puts it back, " +
        "`openemr-ops restore commit SWAP` drops it",
    ]);
  });

  it("--json gives the swaps", async () => {
    stack.host.handle = () => ({ stdout: `settling nothing\n${JSON.stringify([KEPT])}\n` });
    const run = await runCli(["restore", "status", "--outputs", outputsFile, "--json"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      command: "restore status",
      swaps: [
        {
          id: "20261201t101500z",
          backup: "20261126T023000Z",
          database: "openemr",
          phase: "kept",
          swappedAt: "2026-12-01T10:16:40Z",
          beforeDb: "openemr_before_20261201t101500z",
          heldSite: "/var/www/openemr/sites/.restore-20261201t101500z/default",
          keptBytes: 734003200,
          commitAfterDays: 7,
        },
      ],
    });
  });

  it("says so when nothing is kept", async () => {
    stack.host.handle = () => ({ stdout: "[]\n" });
    const run = await runCli(["restore", "status", "--outputs", outputsFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("No restore is waiting for commit or rollback");
  });

  it("a failing status exits 1 with the host's last line", async () => {
    stack.host.handle = () => ({ exitCode: 1, stderr: "openemr-restore: another backup or restore is running\n" });
    const run = await runCli(["restore", "status", "--outputs", outputsFile]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      "error: openemr-restore status failed on the host (exit 1): " +
        "openemr-restore: another backup or restore is running",
    );
  });
});

describe("restore commit and rollback", () => {
  for (const verb of ["commit", "rollback"]) {
    it(`${verb} SWAP runs openemr-restore ${verb} SWAP on the host`, async () => {
      stack.host.handle = () => ({ stdout: `swap ${KEPT.id} done\n` });
      const run = await runCli(["restore", verb, KEPT.id, "--outputs", outputsFile, "--json"]);
      expect(run.code).toBe(0);
      expect(stack.host.scripts).toHaveLength(1);
      expect(stack.host.scripts[0]).toContain(`/opt/openemr-aws/bin/openemr-restore ${verb} ${KEPT.id}\n`);
      expect(JSON.parse(run.stdout)).toEqual({ command: `restore ${verb}`, ok: true, swapId: KEPT.id, exitCode: 0 });
    });
  }

  it("rollback says what it did and to check health", async () => {
    const run = await runCli(["restore", "rollback", KEPT.id, "--outputs", outputsFile]);
    expect(run.stdout).toBe(
      `Verdict: OK: swap ${KEPT.id} rolled back: the database and site are as they were before the restore; ` +
        "run `openemr-ops health`",
    );
  });

  it("a failure on the host exits 1 with its last line", async () => {
    stack.host.handle = () => ({
      exitCode: 1,
      stderr: `openemr-restore: no swap ${KEPT.id} (see openemr-restore status)\n`,
    });
    const run = await runCli(["restore", "commit", KEPT.id, "--outputs", outputsFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      `Verdict: FAILED: openemr-restore commit ${KEPT.id} exited 1: ` +
        `openemr-restore: no swap ${KEPT.id} (see openemr-restore status)`,
    );
  });

  const usage: [string[], string][] = [
    [
      ["rollback", "20261201T101500Z"],
      "error: command-argument value '20261201T101500Z' is invalid for argument 'swap'. " +
        'expected a swap id like 20261126t023000z, got "20261201T101500Z"',
    ],
    [["commit", "x; rm -rf /"], 'expected a swap id like 20261126t023000z, got "x; rm -rf /"'],
    [["rollback"], "error: restore rollback needs a swap id, e.g. 20261126t023000z"],
    [["status", KEPT.id], `error: restore status takes no swap id (got '${KEPT.id}')`],
    [["commit", KEPT.id, "--yes"], "error: restore commit takes no --yes"],
    [["rollback", KEPT.id, "--backup", "latest"], "error: restore rollback takes no --backup"],
    [["undo"], "error: command-argument value 'undo' is invalid for argument 'action'"],
  ];
  for (const [argv, message] of usage) {
    it(`usage error, nothing sent: restore ${argv.join(" ")}`, async () => {
      const run = await runCli(["restore", ...argv, "--outputs", outputsFile]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
      expect(stack.host.scripts).toEqual([]);
    });
  }
});
