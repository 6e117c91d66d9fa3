// Point-in-time recovery on `single`: MariaDB's binary log, on with the host's own
// 92-openemr-binlog.cnf, shipped by `openemr-backup ship-binlogs` to the backup store with a
// sha256 each, and `openemr-restore --to-time` replaying them on top of the last full backup
// before that time, through the same load-beside-then-swap path as every restore. Rows written
// before the chosen time come back, rows written after it do not; a corrupt shipped log is
// refused before anything changes.
import { cpSync, readFileSync } from "fs";
import { join, resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebianRoot, freshRoot, mariadbSql, startMariadb } from "./lib/debian-root";
import { makeSigningKeyShell } from "./lib/signing";

const REPO_ROOT = resolve(__dirname, "../..");
const SHARED_OPENEMR = process.env.OPENEMR_SHARED_DIR ?? resolve(REPO_ROOT, "../shared/openemr");
const BIN = "/opt/openemr-aws/bin";
const SITES = "/var/www/openemr/sites";
const BACKUPS = "/var/backups/openemr";
const ETC = "/etc/openemr-aws";

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

describe("point-in-time recovery from shipped binary logs", () => {
  let root: DebianRoot;

  const run = (argv: string[]) => root.run(argv, { check: false, env: { OPENEMR_AWS_ETC: ETC } });

  async function note(body: string): Promise<void> {
    await mariadbSql(
      root,
      "INSERT INTO pnotes (date, body, pid, user, groupname, activity, authorized, title, assigned_to, deleted," +
        ` message_status) VALUES (NOW(), '${body}', 1, 'admin', 'Default', 1, 1, 'Unassigned', 'admin', 0, 'New')`,
      "openemr",
    );
  }

  async function notes(): Promise<string[]> {
    const bodies = await mariadbSql(root, "SELECT body FROM pnotes WHERE body LIKE 'pitr-%' ORDER BY id", "openemr");
    return bodies.split("\n").filter(Boolean);
  }

  /** The live database and site restored to TIME, as an operator would. */
  const restoreLiveTo = (time: string) =>
    run([`${BIN}/openemr-restore`, "--to-time", time, "--database", "openemr", "--sites-dir", SITES, "--yes"]);

  async function ship(): Promise<void> {
    const shipped = await run([`${BIN}/openemr-backup`, "ship-binlogs"]);
    expect(shipped.code, shipped.stderr).toBe(0);
  }

  beforeAll(async () => {
    root = await freshRoot("pitr");
    cpSync(join(REPO_ROOT, "infra/host/bin"), root.path("/opt/openemr-aws/bin"), { recursive: true });
    cpSync(join(REPO_ROOT, "infra/host/lib"), root.path("/opt/openemr-aws/lib"), { recursive: true });
    root.writeFile(
      "/etc/mysql/mariadb.conf.d/92-openemr-binlog.cnf",
      readFileSync(join(REPO_ROOT, "infra/host/conf/mariadb/92-openemr-binlog.cnf"), "utf8"),
    );
    await startMariadb(root);
    await mariadbSql(root, "CREATE DATABASE openemr CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
    const schema = readFileSync(join(SHARED_OPENEMR, "database.sql"), "utf8");
    const examples = readFileSync(join(SHARED_OPENEMR, "example_patient_data.sql"), "utf8");
    await root.run(["mariadb", "openemr"], { input: `${schema}\n${examples}` });
    await root.sh(`set -e
      install -d -o www-data -g www-data -m 0700 ${SITES}/default/documents
      printf '<?php\\n$config = 1;\\n' > ${SITES}/default/sqlconf.php
      chown -R www-data:www-data ${SITES}/default`);
    await root.sh(`mkdir -p ${ETC} && ${makeSigningKeyShell(`${ETC}/backup-signing.key`)}`);
    // `single` as on EC2, with a directory for the store: root over the local socket.
    root.writeFile(
      `${ETC}/settings.env`,
      [
        "OPENEMR_MODE=onprem",
        "OPENEMR_TIER=single",
        "OPENEMR_STACK=clinic-test",
        "OPENEMR_SITE=default",
        "DB_HOST=localhost",
        "DB_NAME=openemr",
        `BACKUP_DIR=${BACKUPS}`,
        "",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    await root?.destroy();
  });

  let manifest: { id: string; binlog?: { file: string; position: number } };

  it("notes the binary log position of the backup's snapshot in its manifest", async () => {
    await note("pitr-in-backup");
    const backup = await run([`${BIN}/openemr-backup`, "--json"]);
    expect(backup.code, backup.stderr).toBe(0);
    manifest = JSON.parse(backup.stdout.trim().split("\n").pop() ?? "{}");
    expect(manifest.binlog?.file).toMatch(/^openemr-bin\.\d{6}$/);
    expect(manifest.binlog?.position).toBeGreaterThan(0);
  });

  it("ships every closed binary log with its size and sha256, once", async () => {
    await note("pitr-before-1");
    await ship();
    await ship();
    const listing = (await root.sh(`cd ${BACKUPS}/binlogs && ls`)).stdout.split("\n").filter(Boolean);
    expect(listing).toContain(`${manifest.binlog?.file}.zst`);
    expect(listing).toContain(`${manifest.binlog?.file}.json`);
    for (const name of listing.filter((file) => file.endsWith(".json"))) {
      const meta = JSON.parse(root.readFile(`${BACKUPS}/binlogs/${name}`));
      const zst = name.replace(/\.json$/, ".zst");
      const sha = (await root.sh(`sha256sum ${BACKUPS}/binlogs/${zst} | cut -c1-64`)).stdout.trim();
      expect(meta).toMatchObject({ format: 1, name: name.replace(/\.json$/, ""), sha256: sha });
    }
    const shipped = root.readFile("/var/lib/openemr-aws/binlogs.shipped").trim().split("\n");
    expect(new Set(shipped).size).toBe(shipped.length);
  });

  let chosen: string;

  it("restores to a chosen time: exactly the rows written before it come back", async () => {
    await note("pitr-before-2");
    await sleep(1100);
    chosen = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
    await sleep(1100);
    await note("pitr-after-1");
    await note("pitr-after-2");
    await ship();
    expect(await notes()).toEqual(["pitr-in-backup", "pitr-before-1", "pitr-before-2", "pitr-after-1", "pitr-after-2"]);

    const restored = await restoreLiveTo(chosen);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toContain(`to ${chosen} into openemr_restore_`);
    expect(await notes()).toEqual(["pitr-in-backup", "pitr-before-1", "pitr-before-2"]);
  });

  it("drills to the chosen time: the backup and the binary logs replay into a scratch database", async () => {
    const drill = await run([`${BIN}/openemr-restore`, "drill", "--to-time", chosen, "--json"]);
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stderr).toContain(`to ${chosen} into openemr_drill_`);
    expect(JSON.parse(drill.stdout.trim().split("\n").pop() ?? "{}")).toMatchObject({ ok: true, mismatches: [] });
  });

  it("drills to a random time between the backup and the newest shipped log, as the drill timer does", async () => {
    const drill = await run([`${BIN}/openemr-restore`, "drill", "--to-time", "random", "--json"]);
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stderr).toMatch(/rolling backup \d{8}T\d{6}Z forward to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, drawn/);
    expect(drill.stderr).toContain("replaying");
    expect(JSON.parse(drill.stdout.trim().split("\n").pop() ?? "{}")).toMatchObject({ ok: true });
    const refused = await run([
      `${BIN}/openemr-restore`,
      "--to-time",
      "random",
      "--database",
      "x",
      "--sites-dir",
      "/x",
    ]);
    expect(refused.code).toBe(2);
  });

  it("refuses a shipped binary log that was altered, before touching the live database", async () => {
    const before = await notes();
    const part = `${BACKUPS}/binlogs/${manifest.binlog?.file}.zst`;
    await root.sh(
      `cp -a ${part} /root/binlog.orig && ` +
        `printf '\\x%02x' $(( $(od -An -tu1 -j20 -N1 ${part}) ^ 1 )) | ` +
        `dd of=${part} bs=1 seek=20 conv=notrunc status=none`,
    );
    const refused = await restoreLiveTo(chosen);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`binary log ${manifest.binlog?.file} is corrupt`);
    expect(await notes()).toEqual(before);
    await root.sh(`cp -a /root/binlog.orig ${part}`);
  });

  it("refuses a time no shipped binary log reaches yet", async () => {
    await sleep(1100);
    const future = new Date(Math.floor(Date.now() / 1000) * 1000 - 100).toISOString().replace(/\.\d{3}Z$/, "Z");
    const refused = await run([
      `${BIN}/openemr-restore`,
      "--to-time",
      future,
      "--database",
      "x",
      "--sites-dir",
      "/srv/x",
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("the binary logs shipped so far reach");
  });
});
