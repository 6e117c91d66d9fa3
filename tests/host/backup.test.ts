// openemr-backup and openemr-restore for real, inside a fresh Debian 13 root: OpenEMR's own
// schema and example data in a TLS-only MariaDB, a sites/default/ with documents and keys,
// backups to a directory (on-prem) and to a local S3-compatible server (EC2 mode).
//
// The S3 side is moto's server (Debian's python3-moto) on the root's loopback: it speaks S3,
// Secrets Manager, KMS and CloudWatch, stores the SSE-KMS headers a request carries and
// returns them on HEAD, but it neither encrypts the object nor checks that the caller may use
// the key: those are AWS's side of the contract and are not verified here.
import { cpSync, readFileSync } from "fs";
import { join, resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebianRoot, MariadbServer, RunResult, freshRoot, mariadbSql, startMariadb } from "./lib/debian-root";
import { makeSigningKeyShell, signManifestShell } from "./lib/signing";

const REPO_ROOT = resolve(__dirname, "../..");
const SHARED_OPENEMR = process.env.OPENEMR_SHARED_DIR ?? resolve(REPO_ROOT, "../shared/openemr");
const BIN = "/opt/openemr-aws/bin";
const SITE = "/var/www/openemr/sites/default";
const ONPREM_ETC = "/etc/openemr-aws";
const EC2_ETC = "/etc/openemr-aws-ec2";
const SIGNING_KEY = `${ONPREM_ETC}/backup-signing.key`;
const MOTO = "http://127.0.0.1:5000";
const AWS_ENV = {
  AWS_ENDPOINT_URL: MOTO,
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_REGION: "us-east-1",
  AWS_PAGER: "",
};
// Rows whose strings hold what a naive counter would take for row boundaries.
const TRICKY_NOTES = ["a'),('b", "line one\nline two ),( (", "back\\slash'); DROP", "ünïcødé ( ) ,"];

function sqlString(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`;
}

describe("on-host backup and restore", () => {
  let root: DebianRoot;
  let db: MariadbServer;
  let kmsKeyArn: string;

  const onprem = (argv: string[]) => root.run(argv, { check: false, env: { OPENEMR_AWS_ETC: ONPREM_ETC } });
  const ec2 = (argv: string[]) => root.run(argv, { check: false, env: { OPENEMR_AWS_ETC: EC2_ETC, ...AWS_ENV } });
  const aws = async (args: string[]) =>
    JSON.parse((await root.run(["aws", ...args, "--output", "json"], { env: AWS_ENV })).stdout || "null");

  /** Exact row count of every base table, counted by the server. */
  async function rowCounts(database: string): Promise<Record<string, number>> {
    const tables = (
      await mariadbSql(
        root,
        `SELECT table_name FROM information_schema.tables WHERE table_schema='${database}'` +
          " AND table_type='BASE TABLE' ORDER BY 1",
      )
    )
      .trim()
      .split("\n")
      .filter(Boolean);
    const query = tables.map((table) => `SELECT '${table}', COUNT(*) FROM \`${table}\``).join(" UNION ALL ");
    const counts: Record<string, number> = {};
    for (const line of (await mariadbSql(root, query, database)).trim().split("\n")) {
      const [table, count] = line.split("\t");
      counts[table] = Number(count);
    }
    return counts;
  }

  /** sha256, mode and owner of every file and directory under dir, relative to it. */
  async function treeFingerprint(dir: string): Promise<string> {
    return (
      await root.sh(
        `cd '${dir}' && find . -printf '%p %M %U:%G\\n' | sort && ` +
          "find . -type f -print0 | sort -z | xargs -0 sha256sum",
      )
    ).stdout;
  }

  async function databases(): Promise<string[]> {
    return (await mariadbSql(root, "SHOW DATABASES")).trim().split("\n");
  }

  function lastJson(result: RunResult): any {
    const lines = result.stdout.trim().split("\n");
    return JSON.parse(lines[lines.length - 1]);
  }

  beforeAll(async () => {
    root = await freshRoot("backup");
    db = await startMariadb(root);
    cpSync(join(REPO_ROOT, "infra/host/bin"), root.path("/opt/openemr-aws/bin"), { recursive: true });
    cpSync(join(REPO_ROOT, "infra/host/lib"), root.path("/opt/openemr-aws/lib"), { recursive: true });

    await mariadbSql(root, "CREATE DATABASE openemr CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci");
    const schema = readFileSync(join(SHARED_OPENEMR, "database.sql"), "utf8");
    const examples = readFileSync(join(SHARED_OPENEMR, "example_patient_data.sql"), "utf8");
    await root.run(["mariadb", "openemr"], { input: schema + "\n" + examples });
    await mariadbSql(
      root,
      TRICKY_NOTES.map(
        (body, i) =>
          "INSERT INTO pnotes (date, body, pid, user, groupname, activity, authorized, title, assigned_to, deleted," +
          ` message_status) VALUES (NOW(), ${sqlString(body)}, ${i + 1},` +
          " 'admin', 'Default', 1, 1, 'Unassigned', 'admin', 0, 'New');",
      ).join("\n"),
      "openemr",
    );

    // A site as OpenEMR leaves it: config, documents, the DB CA, OAuth and disk encryption keys.
    const siteDirs = `${SITE}/documents/certificates ${SITE}/documents/logs_and_misc/methods ${SITE}/documents/edi`;
    await root.sh(`set -e
      install -d -o www-data -g www-data -m 0700 ${siteDirs}
      printf '<?php\\n$host = "db";\\n$config = 1;\\n' > ${SITE}/sqlconf.php
      head -c 300000 /dev/urandom > ${SITE}/documents/scan-0001.pdf
      printf 'ISA*00*\\n' > ${SITE}/documents/edi/claim.837
      cp ${db.caFileInRoot} ${SITE}/documents/certificates/mysql-ca
      head -c 64 /dev/urandom | base64 > ${SITE}/documents/logs_and_misc/methods/one
      head -c 32 /dev/urandom > ${SITE}/documents/certificates/oaprivate.key
      chown -R www-data:www-data ${SITE}
      chmod 0400 ${SITE}/documents/certificates/oaprivate.key ${SITE}/sqlconf.php`);

    const common = [
      "OPENEMR_STACK=clinic-test",
      "OPENEMR_TIER=standard",
      "OPENEMR_SITE=default",
      "OPENEMR_VERSION=8.3.0",
      `DB_HOST=${db.host}`,
      `DB_PORT=${db.port}`,
      "DB_NAME=openemr",
      `DB_CA_FILE=${db.caFileInRoot}`,
    ];
    root.writeFile(
      `${ONPREM_ETC}/settings.env`,
      [
        ...common,
        "OPENEMR_MODE=onprem",
        "SECRET_DB_MASTER=db-master",
        "BACKUP_DIR=/var/backups/openemr",
        `BACKUP_SIGNING_KEY_FILE=${SIGNING_KEY}`,
        "",
      ].join("\n"),
    );
    root.writeFile(`${ONPREM_ETC}/secrets.json`, JSON.stringify({ "db-master": db.admin }), 0o600);
    await root.sh(makeSigningKeyShell(SIGNING_KEY));

    await root.startDaemon(
      "moto",
      ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "5000"],
      async () =>
        (await root.run(["curl", "-fsS", "-o", "/dev/null", `${MOTO}/moto-api/`], { check: false })).code === 0,
    );
    await aws(["s3api", "create-bucket", "--bucket", "clinic-test-backups"]);
    kmsKeyArn = (await aws(["kms", "create-key", "--description", "backups"])).KeyMetadata.Arn;
    const signingKeyArn = (
      await aws(["kms", "create-key", "--key-usage", "SIGN_VERIFY", "--key-spec", "ECC_NIST_P256"])
    ).KeyMetadata.Arn;
    const secretArn = (
      await aws([
        "secretsmanager",
        "create-secret",
        "--name",
        "clinic-test/db-master",
        "--secret-string",
        JSON.stringify(db.admin),
      ])
    ).ARN;
    root.writeFile(
      `${EC2_ETC}/settings.env`,
      [
        ...common,
        "OPENEMR_MODE=ec2",
        "AWS_REGION=us-east-1",
        `SECRET_DB_MASTER=${secretArn}`,
        "BACKUP_BUCKET=clinic-test-backups",
        "BACKUP_PREFIX=backups/default",
        `BACKUP_KMS_KEY_ID=${kmsKeyArn}`,
        `BACKUP_SIGNING_KEY_ID=${signingKeyArn}`,
        "",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    await root?.destroy();
  });

  describe("on-prem, to a directory", () => {
    let manifest: any;
    let backupOutput: RunResult;

    beforeAll(async () => {
      backupOutput = await onprem([`${BIN}/openemr-backup`, "--json"]);
      expect(backupOutput.stderr).not.toMatch(/ERROR/);
      expect(backupOutput.code).toBe(0);
      manifest = lastJson(backupOutput);
    });

    it("writes the three parts with a manifest whose sizes, hashes and row counts are right", async () => {
      expect(manifest).toMatchObject({
        format: 1,
        stack: "clinic-test",
        site: "default",
        database: "openemr",
        openemr_version: expect.any(String),
      });
      expect(manifest.id).toMatch(/^\d{8}T\d{6}Z$/);
      expect(manifest.db_server_version).toMatch(/MariaDB/);
      const dir = `/var/backups/openemr/${manifest.id}`;
      const listing = (await root.sh(`cd ${dir} && stat -c '%n %s %a' * && sha256sum db.sql.zst sites.tar.zst`)).stdout;
      expect(listing).toMatch(
        /^db\.sql\.zst \d+ 600\nmanifest\.json \d+ 600\nmanifest\.sig \d+ 600\nsites\.tar\.zst \d+ 600\n/,
      );
      expect(JSON.parse(root.readFile(`${dir}/manifest.sig`))).toMatchObject({ format: 1 });
      for (const part of manifest.parts) {
        expect(listing).toContain(`${part.name} ${part.bytes} 600`);
        expect(listing).toContain(`${part.sha256}  ${part.name}`);
      }
      const actual = await rowCounts("openemr");
      expect(Object.keys(actual).length).toBeGreaterThan(280);
      expect(manifest.tables).toEqual(actual);
      expect(manifest.tables.pnotes).toBe(TRICKY_NOTES.length);
    });

    it("dumps with OpenEMR's flags and never writes the password anywhere", async () => {
      const dump = (await root.sh(`zstd -dc /var/backups/openemr/${manifest.id}/db.sql.zst`)).stdout;
      expect(dump).toMatch(/^INSERT INTO `pnotes` VALUES/m);
      expect(dump).not.toMatch(/CREATE DATABASE|^USE /m);
      for (const text of [backupOutput.stdout, backupOutput.stderr, dump])
        expect(text).not.toContain(db.admin.password);
      expect(backupOutput.stderr).toContain(`openemr-backup: backup ${manifest.id} complete`);
    });

    it("lists backups newest first and marks a folder without manifest.json incomplete", async () => {
      await root.run(["install", "-d", "-m", "0700", "/var/backups/openemr/29990101T000000Z"]);
      const listed = JSON.parse((await onprem([`${BIN}/openemr-backup`, "list", "--json"])).stdout);
      expect(listed[0]).toEqual({ id: "29990101T000000Z", bytes: 0, complete: false });
      const entry = listed.find((backup: any) => backup.id === manifest.id);
      expect(entry.complete).toBe(true);
      const manifestBytes = Number(
        (
          await root.sh(
            `cd /var/backups/openemr/${manifest.id} && ` +
              "stat -c %s manifest.json manifest.sig | awk '{ s += $1 } END { print s }'",
          )
        ).stdout,
      );
      expect(entry.bytes).toBe(manifest.parts[0].bytes + manifest.parts[1].bytes + manifestBytes);
      const human = await onprem([`${BIN}/openemr-backup`, "list"]);
      expect(human.stdout).toMatch(new RegExp(`${manifest.id} +\\d+ {2}complete`));
      expect(human.stdout).toMatch(/29990101T000000Z +0 {2}incomplete/);
    });

    it("restores the latest complete backup into a new database and directory, identical", async () => {
      const restored = await onprem([
        `${BIN}/openemr-restore`,
        "--database",
        "openemr_restored",
        "--sites-dir",
        "/srv/restore",
      ]);
      expect(restored.stderr).toContain(`backup ${manifest.id}: every part matches its size and sha256`);
      expect(restored.code).toBe(0);
      expect(await rowCounts("openemr_restored")).toEqual(await rowCounts("openemr"));
      expect(await mariadbSql(root, "SELECT body FROM pnotes ORDER BY id", "openemr_restored")).toBe(
        await mariadbSql(root, "SELECT body FROM pnotes ORDER BY id", "openemr"),
      );
      expect(await treeFingerprint("/srv/restore/default")).toBe(await treeFingerprint(SITE));
    });

    it("refuses to overwrite a database or directory without --yes, and replaces them with it", async () => {
      const refused = await onprem([
        `${BIN}/openemr-restore`,
        "--database",
        "openemr_restored",
        "--sites-dir",
        "/srv/other",
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("database openemr_restored exists and has tables; pass --yes to replace it");
      await mariadbSql(root, "DELETE FROM list_options", "openemr_restored");
      const replaced = await onprem([
        `${BIN}/openemr-restore`,
        "--backup",
        manifest.id,
        "--database",
        "openemr_restored",
        "--sites-dir",
        "/srv/restore",
        "--yes",
      ]);
      expect(replaced.code).toBe(0);
      expect(await rowCounts("openemr_restored")).toEqual(await rowCounts("openemr"));
    });

    async function copyBackup(id: string, damage: string): Promise<void> {
      await root.sh(
        `cp -a /var/backups/openemr/${manifest.id} /var/backups/openemr/${id} && cd /var/backups/openemr/${id} && ` +
          `jq -c '.id = "${id}"' manifest.json > m && mv m manifest.json && ${damage} && ` +
          signManifestShell(id, SIGNING_KEY),
      );
    }

    const signatureTitle = "refuses an unsigned backup, an altered manifest and another key's signature";
    it(`${signatureTitle}, unless --allow-unsigned`, async () => {
      const restoreInto = (id: string, name: string, ...extra: string[]) =>
        onprem([`${BIN}/openemr-restore`, "--backup", id, "--database", name, "--sites-dir", `/srv/${name}`, ...extra]);
      await copyBackup("20000101T000004Z", "true");
      await root.sh("rm /var/backups/openemr/20000101T000004Z/manifest.sig");
      const unsigned = await restoreInto("20000101T000004Z", "unsigned");
      expect(unsigned.code).toBe(1);
      expect(unsigned.stderr).toContain(
        "backup 20000101T000004Z is refused: it is unsigned (no manifest.sig); " +
          "pass --allow-unsigned to restore it anyway",
      );
      expect(await databases()).not.toContain("unsigned");
      const allowed = await restoreInto("20000101T000004Z", "unsigned", "--allow-unsigned");
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stderr).toContain("restoring it because --allow-unsigned was given");

      await copyBackup("20000101T000005Z", "true");
      await root.sh(
        "cd /var/backups/openemr/20000101T000005Z && " +
          `jq -c '.stack = "elsewhere"' manifest.json > m && mv m manifest.json`,
      );
      const altered = await restoreInto("20000101T000005Z", "altered");
      expect(altered.code).toBe(1);
      expect(altered.stderr).toContain("is refused: manifest.json is not the manifest that was signed");

      await copyBackup("20000101T000006Z", "true");
      await root.sh(
        `${makeSigningKeyShell("/root/other.key")} && cd /var/backups/openemr/20000101T000006Z && ` +
          signManifestShell("20000101T000006Z", "/root/other.key"),
      );
      const foreign = await restoreInto("20000101T000006Z", "foreign");
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toContain("is refused: the signature does not match this host's signing key");
      expect(await databases()).not.toContain("foreign");
    });

    it("refuses a part with one flipped byte before touching anything", async () => {
      await copyBackup(
        "20000101T000001Z",
        `printf '\\x%02x' $(( $(od -An -tu1 -j100 -N1 db.sql.zst) ^ 1 ))` +
          " | dd of=db.sql.zst bs=1 seek=100 conv=notrunc status=none",
      );
      const result = await onprem([
        `${BIN}/openemr-restore`,
        "--backup",
        "20000101T000001Z",
        "--database",
        "flipped",
        "--sites-dir",
        "/srv/flipped",
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          /backup 20000101T000001Z: db\.sql\.zst is corrupt: sha256 [0-9a-f]{64}, /.source +
            /the manifest says [0-9a-f]{64}; refusing to restore/.source,
        ),
      );
      expect(await databases()).not.toContain("flipped");
      expect((await root.run(["test", "-e", "/srv/flipped"], { check: false })).code).not.toBe(0);
    });

    it("refuses a truncated part before touching anything", async () => {
      await copyBackup("20000101T000002Z", "truncate -s -1000 sites.tar.zst");
      const result = await onprem([
        `${BIN}/openemr-restore`,
        "--backup",
        "20000101T000002Z",
        "--database",
        "truncated",
        "--sites-dir",
        "/srv/truncated",
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `backup 20000101T000002Z: sites.tar.zst is truncated or altered: ${manifest.parts[1].bytes - 1000} bytes,` +
          ` the manifest says ${manifest.parts[1].bytes}; refusing to restore`,
      );
      expect(await databases()).not.toContain("truncated");
      expect((await root.run(["test", "-e", "/srv/truncated"], { check: false })).code).not.toBe(0);
    });

    it("drills the latest backup: restores into a scratch database, matches every table, drops it", async () => {
      const drill = await onprem([`${BIN}/openemr-restore`, "drill", "--json"]);
      expect(drill.code).toBe(0);
      expect(lastJson(drill)).toMatchObject({
        ok: true,
        backup: manifest.id,
        tables_checked: Object.keys(manifest.tables).length,
        mismatches: [],
      });
      expect((await databases()).filter((name) => name.startsWith("openemr_drill_"))).toEqual([]);
    });

    it("fails the drill when a row count differs from the manifest, and still drops the scratch copy", async () => {
      await copyBackup("20000101T000003Z", `jq -c '.tables.pnotes += 1' manifest.json > m && mv m manifest.json`);
      const drill = await onprem([`${BIN}/openemr-restore`, "drill", "--backup", "20000101T000003Z", "--json"]);
      expect(drill.code).toBe(1);
      expect(lastJson(drill)).toMatchObject({
        ok: false,
        backup: "20000101T000003Z",
        mismatches: [{ table: "pnotes", expected: TRICKY_NOTES.length + 1, actual: TRICKY_NOTES.length }],
      });
      expect(drill.stderr).toContain("drill of backup 20000101T000003Z FAILED: row counts differ: pnotes");
      expect((await databases()).filter((name) => name.startsWith("openemr_drill_"))).toEqual([]);
    });

    it("answers usage mistakes with exit 2 and a one-line reason", async () => {
      const cases: [string[], string][] = [
        [[`${BIN}/openemr-backup`, "--bogus"], "openemr-backup: unknown argument '--bogus'"],
        [[`${BIN}/openemr-restore`, "--sites-dir", "/srv/x"], "openemr-restore: --database is required"],
        [[`${BIN}/openemr-restore`, "--database", "x"], "openemr-restore: --sites-dir is required"],
        [
          [`${BIN}/openemr-restore`, "--database", "bad-name", "--sites-dir", "/srv/x"],
          "openemr-restore: --database is 'bad-name', expected letters, digits or _ (at most 40)",
        ],
        [
          [`${BIN}/openemr-restore`, "--backup", "yesterday", "--database", "x", "--sites-dir", "/srv/x"],
          "openemr-restore: --backup is 'yesterday', expected latest or an id like 20261126T023000Z",
        ],
        [[`${BIN}/openemr-restore`, "--database"], "openemr-restore: --database needs a value"],
        [
          [`${BIN}/openemr-restore`, "drill", "--database", "x"],
          "openemr-restore: drill restores into a scratch database; --database and --sites-dir are not used",
        ],
      ];
      for (const [argv, message] of cases) {
        const result = await onprem(argv);
        expect({ argv, code: result.code, first: result.stderr.split("\n")[0] }).toEqual({
          argv,
          code: 2,
          first: message,
        });
      }
      const missing = await onprem([
        `${BIN}/openemr-restore`,
        "--backup",
        "20010101T000000Z",
        "--database",
        "x",
        "--sites-dir",
        "/srv/x",
      ]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain("backup 20010101T000000Z has no manifest.json");
    });
  });

  describe("EC2 mode, to S3 with SSE-KMS", () => {
    let manifest: any;

    beforeAll(async () => {
      const backup = await ec2([`${BIN}/openemr-backup`, "--json"]);
      expect(backup.stderr).not.toMatch(/ERROR/);
      expect(backup.code).toBe(0);
      manifest = lastJson(backup);
    });

    it("uploads every part under the prefix with SSE-KMS and the configured key, manifest included", async () => {
      for (const name of ["db.sql.zst", "sites.tar.zst", "manifest.json"]) {
        const head = await aws([
          "s3api",
          "head-object",
          "--bucket",
          "clinic-test-backups",
          "--key",
          `backups/default/${manifest.id}/${name}`,
        ]);
        expect({ name, sse: head.ServerSideEncryption, key: head.SSEKMSKeyId }).toEqual({
          name,
          sse: "aws:kms",
          key: kmsKeyArn,
        });
        const part = manifest.parts.find((p: any) => p.name === name);
        if (part) expect(head.ContentLength).toBe(part.bytes);
      }
      expect(manifest.tables).toEqual(await rowCounts("openemr"));
    });

    it("publishes success, size and duration in namespace OpenEMR with the Stack dimension", async () => {
      const metrics = await aws(["cloudwatch", "list-metrics", "--namespace", "OpenEMR"]);
      const names = metrics.Metrics.filter((m: any) =>
        m.Dimensions.some((d: any) => d.Name === "Stack" && d.Value === "clinic-test"),
      ).map((m: any) => m.MetricName);
      expect(new Set(names)).toEqual(new Set(["BackupSuccess", "BackupBytes", "BackupDurationSeconds"]));
    });

    it("restores from S3 into a new database and directory, identical", async () => {
      const restored = await ec2([
        `${BIN}/openemr-restore`,
        "--database",
        "openemr_from_s3",
        "--sites-dir",
        "/srv/from-s3",
      ]);
      expect(restored.code).toBe(0);
      expect(await rowCounts("openemr_from_s3")).toEqual(await rowCounts("openemr"));
      expect(await treeFingerprint("/srv/from-s3/default")).toBe(await treeFingerprint(SITE));
    });

    it("drills from S3 and publishes RestoreDrillSuccess", async () => {
      const drill = await ec2([`${BIN}/openemr-restore`, "drill", "--json"]);
      expect(drill.code).toBe(0);
      expect(lastJson(drill)).toMatchObject({ ok: true, backup: manifest.id });
      const metrics = await aws([
        "cloudwatch",
        "get-metric-statistics",
        "--namespace",
        "OpenEMR",
        "--metric-name",
        "RestoreDrillSuccess",
        "--dimensions",
        "Name=Stack,Value=clinic-test",
        "--start-time",
        "2000-01-01T00:00:00Z",
        "--end-time",
        "2100-01-01T00:00:00Z",
        "--period",
        "86400",
        "--statistics",
        "Maximum",
      ]);
      expect(metrics.Datapoints.map((d: any) => d.Maximum)).toEqual([1]);
    });

    it("refuses a corrupted object in the bucket", async () => {
      const part = `s3://clinic-test-backups/backups/default/${manifest.id}/db.sql.zst`;
      await root.sh(
        `set -e
        aws s3 cp ${part} /tmp/db.sql.zst --only-show-errors
        printf 'X' | dd of=/tmp/db.sql.zst bs=1 seek=50 conv=notrunc status=none
        aws s3 cp /tmp/db.sql.zst ${part} --only-show-errors`,
        { env: AWS_ENV },
      );
      const result = await ec2([
        `${BIN}/openemr-restore`,
        "--database",
        "openemr_bad_s3",
        "--sites-dir",
        "/srv/bad-s3",
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `backup ${manifest.id}: db\\.sql\\.zst is corrupt: sha256 [0-9a-f]{64},` +
            ` the manifest says ${manifest.parts[0].sha256}; refusing to restore`,
        ),
      );
      expect(await databases()).not.toContain("openemr_bad_s3");
    });
  });
});
