// A restore must never destroy the live record. openemr-restore runs for real in a Debian 13
// root against a TLS-only MariaDB holding OpenEMR's own schema and example data, and is killed
// (SIGKILL, to its whole process group) at points spread over its run, made to fail by a full
// disk, a stopped server, a part that passes its checksum but does not load, a row count that
// differs and a manifest altered field by field. After each, once the next run has settled
// what the killed one left, the live database's per-table checksums and the live site's file
// hashes are exactly those from before the command, or exactly the restored copy after a
// completed swap; never a mix. Then a completed restore is rolled back, and another committed.
import { cpSync, readFileSync } from "fs";
import { join, resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebianRoot, freshRoot, mariadbSql, startMariadb, stopMariadb } from "./lib/debian-root";
import { makeSigningKeyShell, signManifestShell } from "./lib/signing";

const REPO_ROOT = resolve(__dirname, "../..");
const SHARED_OPENEMR = process.env.OPENEMR_SHARED_DIR ?? resolve(REPO_ROOT, "../shared/openemr");
const RESTORE = "/opt/openemr-aws/bin/openemr-restore";
const SITES = "/var/www/openemr/sites";
const SITE = `${SITES}/default`;
const BACKUPS = "/var/backups/openemr";
const ETC = "/etc/openemr-aws";
const KILL_POINTS = 20;
// A marker in the rows of a broken dump: it must never reach the restore's output.
const PATIENT_MARKER = "Jane-Roe-DOB-1961-04-12";

describe("a restore never leaves the live record partial", () => {
  let root: DebianRoot;
  let backupId: string;
  let original: string;

  const run = (argv: string[]) => root.run(argv, { check: false, env: { OPENEMR_AWS_ETC: ETC } });
  const restoreArgs = (backup = "latest") => [
    "--backup",
    backup,
    "--database",
    "openemr",
    "--sites-dir",
    SITES,
    "--yes",
  ];

  /** Every base table of the live database with its checksum and row count, and the live site's files. */
  async function liveState(): Promise<string> {
    const tables = (
      await mariadbSql(
        root,
        "SELECT table_name FROM information_schema.tables" +
          " WHERE table_schema='openemr' AND table_type='BASE TABLE' ORDER BY 1",
      )
    )
      .trim()
      .split("\n")
      .filter(Boolean);
    const checksums = await mariadbSql(
      root,
      `CHECKSUM TABLE ${tables.map((t) => `\`${t}\``).join(", ")} EXTENDED`,
      "openemr",
    );
    const files = (
      await root.sh(
        `cd ${SITE} && find . -printf '%p %M %U:%G\\n' | sort && find . -type f -print0 | sort -z | xargs -0 sha256sum`,
      )
    ).stdout;
    return `${tables.length} tables\n${checksums}\n${files}`;
  }

  /** What a run leaves that it should not: scratch databases, held sites, runtime dirs with credentials. */
  async function leftovers(): Promise<string[]> {
    const databases = (await mariadbSql(root, "SHOW DATABASES"))
      .split("\n")
      .filter((name) => /_(restore|before)_/.test(name));
    const files = (
      await root.sh(
        `ls -d ${SITES}/.restore-* /run/openemr-aws/openemr-restore.*` +
          ` /var/lib/openemr-aws/swaps/*.json 2>/dev/null || true`,
      )
    ).stdout
      .split("\n")
      .filter(Boolean);
    return [...databases, ...files];
  }

  /** The next run settles what a killed run left: `status` is the cheapest command. */
  async function settle(): Promise<{ kept: { id: string }[] }> {
    const status = await run([RESTORE, "status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    return { kept: JSON.parse(status.stdout.trim().split("\n").pop() ?? "[]") };
  }

  /** Starts a restore in its own process group; resolves to its pid (the group's id). */
  async function startRestore(): Promise<number> {
    const started = await root.sh(
      `OPENEMR_AWS_ETC=${ETC} setsid ${RESTORE} ${restoreArgs().join(" ")} >/var/log/restore-run.log 2>&1 & echo $!`,
    );
    return Number(started.stdout.trim());
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function waitForExit(pid: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (alive(pid) && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 50));
    expect(alive(pid), "restore still running").toBe(false);
  }

  beforeAll(async () => {
    root = await freshRoot("restore-safety");
    const db = await startMariadb(root);
    cpSync(join(REPO_ROOT, "infra/host/bin"), root.path("/opt/openemr-aws/bin"), { recursive: true });
    cpSync(join(REPO_ROOT, "infra/host/lib"), root.path("/opt/openemr-aws/lib"), { recursive: true });
    await mariadbSql(root, "CREATE DATABASE openemr CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
    const schema = readFileSync(join(SHARED_OPENEMR, "database.sql"), "utf8");
    const examples = readFileSync(join(SHARED_OPENEMR, "example_patient_data.sql"), "utf8");
    await root.run(["mariadb", "openemr"], { input: `${schema}\n${examples}` });
    // The site lives on its own small file system, so a test can fill it.
    await root.sh(`set -e
      mkdir -p ${SITES} && mount -t tmpfs -o size=64m,mode=0755 sites ${SITES}
      install -d -o www-data -g www-data -m 0700 ${SITE}/documents/certificates ${SITE}/documents/logs_and_misc/methods
      printf '<?php\\n$config = 1;\\n' > ${SITE}/sqlconf.php
      head -c 2000000 /dev/urandom > ${SITE}/documents/scan-0001.pdf
      head -c 64 /dev/urandom | base64 > ${SITE}/documents/logs_and_misc/methods/one
      chown -R www-data:www-data ${SITE}`);
    root.writeFile(
      `${ETC}/settings.env`,
      [
        "OPENEMR_MODE=onprem",
        "OPENEMR_STACK=clinic-test",
        "OPENEMR_TIER=standard",
        "OPENEMR_SITE=default",
        `DB_HOST=${db.host}`,
        `DB_PORT=${db.port}`,
        "DB_NAME=openemr",
        `DB_CA_FILE=${db.caFileInRoot}`,
        "SECRET_DB_MASTER=db-master",
        `BACKUP_DIR=${BACKUPS}`,
        "",
      ].join("\n"),
    );
    root.writeFile(`${ETC}/secrets.json`, JSON.stringify({ "db-master": db.admin }), 0o600);
    // The bootstrap makes this key on-prem; the backup signs with it and the restore checks it.
    await root.sh(makeSigningKeyShell(`${ETC}/backup-signing.key`));
    const backup = await run(["/opt/openemr-aws/bin/openemr-backup", "--json"]);
    expect(backup.code, backup.stderr).toBe(0);
    backupId = JSON.parse(backup.stdout.trim().split("\n").pop() ?? "{}").id;
    // Written after the backup: a restore replaces them, a rollback brings them back.
    await mariadbSql(root, "UPDATE users SET fname = 'After-Backup' WHERE username = 'admin'", "openemr");
    await root.sh(
      `printf 'after the backup' > ${SITE}/documents/late-note.txt && chown www-data: ${SITE}/documents/late-note.txt`,
    );
    original = await liveState();
  });

  afterAll(async () => {
    await root?.destroy();
  });

  let restoredState: string;
  let fullRunMs: number;

  it("restores beside the live copy, swaps, keeps the previous copy, and rolls it back exactly", async () => {
    const began = Date.now();
    const restored = await run([RESTORE, ...restoreArgs(backupId)]);
    fullRunMs = Date.now() - began;
    expect(restored.code, restored.stderr).toBe(0);
    restoredState = await liveState();
    expect(restoredState).not.toBe(original);
    expect(await mariadbSql(root, "SELECT fname FROM users WHERE username = 'admin'", "openemr")).not.toContain(
      "After-Backup",
    );
    const { kept } = await settle();
    expect(kept).toHaveLength(1);
    expect(restored.stdout).toContain(`openemr-restore rollback ${kept[0].id}`);

    const rolledBack = await run([RESTORE, "rollback", kept[0].id]);
    expect(rolledBack.code, rolledBack.stderr).toBe(0);
    expect(await liveState()).toBe(original);
    expect(await leftovers()).toEqual([]);
  });

  const killedTitle =
    `is killed at ${KILL_POINTS} points over its run; ` +
    "after each the live record is whole, and nothing is left behind";
  it(killedTitle, async () => {
    const outcomes: string[] = [];
    let killedWhileRunning = 0;
    for (let point = 1; point <= KILL_POINTS; point++) {
      const pid = await startRestore();
      await new Promise((wake) => setTimeout(wake, (fullRunMs * point) / (KILL_POINTS + 1)));
      try {
        process.kill(-pid, "SIGKILL");
        killedWhileRunning++;
      } catch {
        // finished before the kill
      }
      await waitForExit(pid);
      const { kept } = await settle();
      const state = await liveState();
      if (kept.length === 0) {
        expect(state, `kill point ${point}: the live record changed although the swap was undone`).toBe(original);
        outcomes.push("before");
      } else {
        expect(state, `kill point ${point}: the live record is not exactly the restored copy`).toBe(restoredState);
        outcomes.push("after");
        const back = await run([RESTORE, "rollback", kept[0].id]);
        expect(back.code, back.stderr).toBe(0);
        expect(await liveState()).toBe(original);
      }
      expect(await leftovers(), `kill point ${point}`).toEqual([]);
    }
    // The points span the run: most kills land while it runs, some of them before the swap.
    expect(killedWhileRunning).toBeGreaterThanOrEqual(KILL_POINTS / 2);
    expect(outcomes).toContain("before");
  });

  it("a full disk while extracting the site leaves the live record as it was", async () => {
    await root.sh(`fallocate -l $(( $(df --output=avail -B1 ${SITES} | tail -n 1) - 1000000 )) ${SITES}/filler`);
    try {
      const result = await run([RESTORE, ...restoreArgs(backupId)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("extracting sites.tar.zst of backup");
      expect(await liveState()).toBe(original);
      expect(await leftovers()).toEqual([]);
    } finally {
      await root.sh(`rm -f ${SITES}/filler`);
    }
  });

  it("the server stopping mid-load leaves the live record as it was, once it is back", async () => {
    const pid = await startRestore();
    await new Promise((wake) => setTimeout(wake, fullRunMs / 4));
    await stopMariadb(root);
    await waitForExit(pid);
    await startMariadb(root);
    await settle();
    expect(await liveState()).toBe(original);
    expect(await leftovers()).toEqual([]);
  });

  async function copyBackup(id: string, change: string): Promise<void> {
    // Signed again with the host's key, so each case reaches the check it is about.
    await root.sh(`set -e; cp -a ${BACKUPS}/${backupId} ${BACKUPS}/${id} && cd ${BACKUPS}/${id}
      jq -c '.id = "${id}"' manifest.json > m && mv m manifest.json
      ${change}
      ${signManifestShell(id, `${ETC}/backup-signing.key`)}`);
  }

  const unloadableTitle =
    "a part that passes its checksum but does not load fails without touching the live record or logging a row";
  it(unloadableTitle, async () => {
    const id = "20000101T000010Z";
    const brokenSql = `CREATE TABLE pnotes (id int);\\nINSERT INTO pnotes VALUES ('${PATIENT_MARKER}' 'broken);\\n`;
    const setPart = `'(.parts[] | select(.name == "db.sql.zst")) |= (.sha256 = $sha | .bytes = $bytes)'`;
    await copyBackup(
      id,
      `printf "${brokenSql}" | zstd -q > db.sql.zst
       jq -c --arg sha "$(sha256sum db.sql.zst | cut -c1-64)" --argjson bytes "$(stat -c %s db.sql.zst)" \
         ${setPart} manifest.json > m && mv m manifest.json`,
    );
    const result = await run([RESTORE, ...restoreArgs(id)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /loading the tables of backup 20000101T000010Z into openemr_restore_\w+ failed: ERROR \d+/,
    );
    expect(result.stdout + result.stderr).not.toContain(PATIENT_MARKER);
    expect(await liveState()).toBe(original);
    expect(await leftovers()).toEqual([]);
  });

  it("a row count that differs from the manifest fails before the swap", async () => {
    const id = "20000101T000011Z";
    await copyBackup(id, `jq -c '.tables.pnotes += 1' manifest.json > m && mv m manifest.json`);
    const result = await run([RESTORE, ...restoreArgs(id)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("differs from the manifest: pnotes");
    expect(await liveState()).toBe(original);
    expect(await leftovers()).toEqual([]);
  });

  const manifestChanges: [string, string, string][] = [
    ["format", ".format = 2", "format is not 1"],
    ["id", '.id = "20991231T000000Z"', "id does not match the backup folder"],
    ["site", '.site = "../../etc"', "site is not a plain site name"],
    ["database", '.database = "x`; DROP DATABASE openemr; --"', "database is not a plain name"],
    ["part names", '.parts[0].name = "../db.sql.zst"', "parts are not exactly db.sql.zst and sites.tar.zst"],
    ["part size", ".parts[0].bytes = -1", "a part size is not a whole number of bytes in range"],
    ["part sha256", '.parts[1].sha256 = "abc"', "a part sha256 is not 64 hex digits"],
    ["table names", '.tables["pnotes`; DROP TABLE users; --"] = 1', "a table name is not a plain name"],
    ["row counts", ".tables.pnotes = 1.5", "a table row count is not a whole number in range"],
    ["tables", ".tables = {}", "tables is not a non-empty object"],
  ];

  it.each(manifestChanges)(
    "refuses a manifest whose %s is altered, before touching anything",
    async (_field, change, problem) => {
      const id = `20000102T0000${String(manifestChanges.findIndex(([, c]) => c === change)).padStart(2, "0")}Z`;
      await copyBackup(id, `jq -c '${change.replace(/'/g, "'\\''")}' manifest.json > m && mv m manifest.json`);
      const result = await run([RESTORE, ...restoreArgs(id)]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`manifest.json of backup ${id} is refused: ${problem}`);
      expect(await liveState()).toBe(original);
      expect(await leftovers()).toEqual([]);
    },
  );

  it("commits a completed restore: the copy from before is dropped and the restored one stays live", async () => {
    const restored = await run([RESTORE, ...restoreArgs(backupId)]);
    expect(restored.code, restored.stderr).toBe(0);
    const { kept } = await settle();
    const committed = await run([RESTORE, "commit", kept[0].id]);
    expect(committed.code, committed.stderr).toBe(0);
    expect(await liveState()).toBe(restoredState);
    expect(await leftovers()).toEqual([]);
    expect((await settle()).kept).toEqual([]);
  });
});
