// The `single` tier on-prem: the bootstrap configures and starts MariaDB on the same host
// itself (no database prepared by the test), reachable on 127.0.0.1 only, with DATA_DIR set as
// on EC2 (there the data volume is mounted at DATA_DIR; here it is a plain directory). The
// release is the test-made stand-in (the real one cannot be downloaded here; see
// lib/openemr-release.ts).
import { execFileSync } from "child_process";
import { randomBytes } from "crypto";
import { resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebianRoot, freshRoot, mariadbSql } from "./lib/debian-root";
import { useCloudImageAptSources } from "./lib/apt-sources";
import { buildRelease } from "./lib/openemr-release";
import { FAKE_SECRETS_MANAGER_CLI } from "./lib/fake-secrets-manager";
import { asBash } from "../../scripts/lib/ssm";
import { setPasswordScript } from "../../scripts/commands/admin-password";

const VERSION = "8.3.0";
const DATA_DIR = "/srv/openemr-data";

describe("openemr-bootstrap, tier single, on-prem", () => {
  let root: DebianRoot;
  let lastLine: string;
  let code: number;
  let adminPassword: string;

  // PHP's password_verify against the bcrypt hash in users_secure, as OpenEMR's login checks it.
  async function verifiesAdminPassword(password: string): Promise<boolean> {
    const hash = (
      await mariadbSql(root, "SELECT password FROM users_secure WHERE username = 'admin'", "openemr")
    ).trim();
    expect(hash).toMatch(/^\$2y\$\d\d\$/);
    const check = await root.run(["php", "-r", "exit(password_verify(getenv('CANDIDATE'), getenv('HASH')) ? 0 : 1);"], {
      check: false,
      env: { CANDIDATE: password, HASH: hash },
    });
    return check.code === 0;
  }

  beforeAll(async () => {
    root = await freshRoot("bootstrap-single");
    const release = buildRelease(root.path("/srv/release"), { version: VERSION });
    execFileSync("cp", ["-a", `${resolve(__dirname, "../../infra/host")}/.`, root.path("/opt/openemr-aws")]);
    const example = root.readFile("/opt/openemr-aws/settings.onprem.example.env");
    root.writeFile(
      "/etc/openemr-aws/settings.env",
      example
        .replace(/^OPENEMR_SHA256=.*$/m, `OPENEMR_SHA256=${release.sha256}`)
        .replace(/^OPENEMR_RELEASE_URL=.*$/m, `OPENEMR_RELEASE_URL=file:///srv/release/openemr-${VERSION}.tar.gz`)
        .replace(/^# DATA_DIR=.*$/m, `DATA_DIR=${DATA_DIR}`),
    );
    const password = () => randomBytes(24).toString("base64").replace(/[+/=]/g, "x");
    adminPassword = password();
    root.writeFile(
      "/etc/openemr-aws/secrets.json",
      JSON.stringify({
        "db-app": { username: "openemr_app", password: password() },
        "db-backup": { username: "openemr_backup", password: password() },
        "db-restore": { username: "openemr_restore", password: password() },
        "openemr-admin": { username: "admin", password: adminPassword },
      }),
      0o600,
    );
    useCloudImageAptSources(root);
    const run = await root.run(["/opt/openemr-aws/bin/openemr-bootstrap"], { check: false, timeoutMs: 600_000 });
    code = run.code;
    lastLine = root.readFile("/var/log/openemr-aws/bootstrap.log").trimEnd().split("\n").pop() ?? "";
  });

  afterAll(async () => {
    await root?.destroy();
  });

  it("succeeds from the on-prem example settings", () => {
    expect(lastLine).toMatch(/openemr-bootstrap: OK \(\d+s\)$/);
    expect(code).toBe(0);
  });

  it("runs MariaDB with utf8mb4 and LOCAL INFILE, listening on loopback only", async () => {
    expect(await mariadbSql(root, "SELECT @@bind_address, @@character_set_server, @@local_infile")).toBe(
      "127.0.0.1\tutf8mb4\t1\n",
    );
    const listening = await root.run(["ss", "-ltnH", "sport = :3306"]);
    expect(
      listening.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(/\s+/)[3]),
    ).toEqual(["127.0.0.1:3306"]);
  });

  it("gives the app user (localhost) its own database only, and the site is installed", async () => {
    const grants = (await mariadbSql(root, "SHOW GRANTS FOR 'openemr_app'@'localhost'")).trim().split("\n");
    expect(grants).toHaveLength(2);
    expect(grants[0]).toMatch(/^GRANT USAGE ON \*\.\* TO `openemr_app`@`localhost`/);
    expect(grants[1]).toBe("GRANT ALL PRIVILEGES ON `openemr`.* TO `openemr_app`@`localhost`");
    expect(await mariadbSql(root, "SELECT username FROM users", "openemr")).toBe("admin\n");
    expect(root.readFile("/var/www/openemr/sites/default/sqlconf.php")).toContain("$config = 1;");
  });

  it("has OpenEMR's whole schema, and the administrator as OpenEMR's installer creates it", async () => {
    const tables = await mariadbSql(
      root,
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'openemr' AND table_type = 'BASE TABLE'",
    );
    expect(Number(tables)).toBeGreaterThanOrEqual(281);
    expect(await mariadbSql(root, "SELECT v_major, v_minor, v_patch, v_database FROM version", "openemr")).toBe(
      "8\t3\t0\t538\n",
    );
    expect(await mariadbSql(root, "SELECT id, username, authorized, password FROM users", "openemr")).toBe(
      "1\tadmin\t1\tNoLongerUsed\n",
    );
    expect(await mariadbSql(root, "SELECT name, user FROM `groups`", "openemr")).toBe("Default\tadmin\n");
    expect(await verifiesAdminPassword(adminPassword)).toBe(true);
    // phpGACL: the administrator is an ARO in the "admin" group, which holds the superuser ACL.
    const acl = await mariadbSql(
      root,
      "SELECT g.value, acl.return_value FROM gacl_aro aro" +
        " JOIN gacl_groups_aro_map m ON m.aro_id = aro.id JOIN gacl_aro_groups g ON g.id = m.group_id" +
        " JOIN gacl_aro_groups_map am ON am.group_id = g.id JOIN gacl_acl acl ON acl.id = am.acl_id" +
        " JOIN gacl_aco_map aco ON aco.acl_id = acl.id" +
        " WHERE aro.section_value = 'users' AND aro.value = 'admin'" +
        " AND aco.section_value = 'admin' AND aco.value = 'super'",
      "openemr",
    );
    expect(acl).toBe("admin\twrite\n");
  });

  // rotate-admin-password's host step, run as the ops tool sends it, with the AWS CLI answering
  // from files (no Secrets Manager here): the new password lands in users_secure.
  it("sets a rotated admin password in OpenEMR's users_secure", async () => {
    const pending = "Oe1-rotated-" + randomBytes(12).toString("hex");
    const version = "11111111-2222-3333-4444-555555555555";
    root.writeFile(
      "/usr/local/bin/aws",
      `#!/bin/sh
# secretsmanager get-secret-value --region R --secret-id ID [--version-id V] --query SecretString --output text
while [ $# -gt 0 ]; do
  case $1 in --secret-id) id=$2; shift ;; --version-id) version=$2; shift ;; esac
  shift
done
cat "/srv/test-secrets/$id\${version:+.$version}"
`,
      0o755,
    );
    const secrets = JSON.parse(root.readFile("/etc/openemr-aws/secrets.json"));
    root.writeFile("/srv/test-secrets/db-app", JSON.stringify(secrets["db-app"]), 0o600);
    root.writeFile(
      `/srv/test-secrets/openemr-admin.${version}`,
      JSON.stringify({ username: "admin", password: pending }),
      0o600,
    );
    const before = await mariadbSql(root, "SELECT last_update_password FROM users_secure WHERE id = 1", "openemr");
    await new Promise((wake) => setTimeout(wake, 1100));
    const onHost = { check: false, env: { AWS_REGION: "us-east-1" } };
    const run = await root.run(["sh", "-c", asBash(setPasswordScript(version))], onHost);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("password updated for admin");
    expect(await verifiesAdminPassword(pending)).toBe(true);
    expect(await verifiesAdminPassword(adminPassword)).toBe(false);
    expect(await mariadbSql(root, "SELECT last_update_password FROM users_secure WHERE id = 1", "openemr")).not.toBe(
      before,
    );
    root.writeFile(
      `/srv/test-secrets/openemr-admin.${version}`,
      JSON.stringify({ username: "nobody", password: pending }),
      0o600,
    );
    const missing = await root.run(["sh", "-c", asBash(setPasswordScript(version))], onHost);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no OpenEMR user named nobody");
  });

  it("logs every change in the binary log, and backs up, ships and drills with the jobs' own accounts", async () => {
    expect(await mariadbSql(root, "SELECT @@log_bin, @@binlog_format, @@binlog_checksum")).toBe("1\tROW\tCRC32\n");
    const backupGrants = await mariadbSql(root, "SHOW GRANTS FOR 'openemr_backup'@'localhost'");
    expect(backupGrants).toContain("GRANT RELOAD, BINLOG MONITOR ON *.* TO `openemr_backup`@`localhost`");
    expect(backupGrants).toContain("GRANT SELECT, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER ON `openemr`.*");
    const backup = await root.run(["/opt/openemr-aws/bin/openemr-backup", "--json"], { check: false });
    expect(backup.code, backup.stderr).toBe(0);
    const manifest = JSON.parse(backup.stdout.trim().split("\n").pop() ?? "{}");
    expect(manifest.binlog?.file, backup.stderr).toMatch(/^openemr-bin\.\d{6}$/);
    const shipped = await root.run(["/opt/openemr-aws/bin/openemr-backup", "ship-binlogs"], { check: false });
    expect(shipped.code, shipped.stderr).toBe(0);
    const drill = await root.run(["/opt/openemr-aws/bin/openemr-restore", "drill", "--json"], { check: false });
    expect(drill.code, drill.stderr).toBe(0);
    expect(drill.stdout).toContain('"ok":true');
  });

  it("keeps MariaDB's data and the web tree, code and sites/, in DATA_DIR", async () => {
    expect(await mariadbSql(root, "SELECT @@datadir")).toBe(`${DATA_DIR}/mysql/\n`);
    expect(root.readFile(`${DATA_DIR}/www/openemr/sites/default/sqlconf.php`)).toContain("$config = 1;");
    expect(
      root
        .readFile("/etc/fstab")
        .split("\n")
        .filter((line) => line.includes(" /var/www ")),
    ).toEqual([`${DATA_DIR}/www /var/www none bind,nofail,x-systemd.requires-mounts-for=${DATA_DIR} 0 0`]);
    expect((await root.run(["mountpoint", "/var/www"], { check: false })).code).toBe(0);
  });

  it("makes its own self-signed host certificate, valid 397 days, when none was provided", async () => {
    expect(root.readFile("/etc/openemr-aws/tls/host.self-signed")).toBe("");
    const dates = await root.run([
      "openssl",
      "x509",
      "-noout",
      "-subject",
      "-checkend",
      String(396 * 86400),
      "-in",
      "/etc/openemr-aws/tls/host.crt",
    ]);
    expect(dates.stdout).toContain("CN=emr.clinic.example");
    expect(
      (
        await root.run(
          ["openssl", "x509", "-noout", "-checkend", String(398 * 86400), "-in", "/etc/openemr-aws/tls/host.crt"],
          { check: false },
        )
      ).code,
    ).toBe(1);
  });

  it("changes nothing on a second run", async () => {
    const snapshot = async () =>
      (await root.sh("find /etc /var/www -xdev -printf '%p %m %U %G %T@ %s\\n' | sort")).stdout;
    const before = await snapshot();
    const run = await root.run(["/opt/openemr-aws/bin/openemr-bootstrap"], { check: false, timeoutMs: 600_000 });
    expect(run.code, run.stdout.slice(-2000)).toBe(0);
    expect(await snapshot()).toBe(before);
  });

  // A replaced instance: a fresh root volume (no mount, no state, MariaDB on its packaged
  // data directory) with the same DATA_DIR. The site and its data come back, not reinstalled.
  it("brings the same site back on a host rebuilt on its DATA_DIR", async () => {
    await mariadbSql(root, "INSERT INTO users (username) VALUES ('written-before-the-rebuild')", "openemr");
    await root.sh(`service mariadb stop
      umount /var/www
      sed -i '\\| /var/www |d' /etc/fstab
      rm -f /etc/mysql/mariadb.conf.d/91-openemr-datadir.cnf
      rm -rf /var/lib/openemr-aws
      test ! -e /var/www/openemr`);
    const run = await root.run(["/opt/openemr-aws/bin/openemr-bootstrap"], { check: false, timeoutMs: 600_000 });
    expect(run.code, run.stdout.slice(-2000)).toBe(0);
    const log = root.readFile("/var/log/openemr-aws/bootstrap.log");
    expect(log).toContain(`OpenEMR ${VERSION} already installed`);
    expect(await mariadbSql(root, "SELECT username FROM users ORDER BY username", "openemr")).toBe(
      "admin\nwritten-before-the-rebuild\n",
    );
    expect(root.readFile("/var/lib/openemr-aws/openemr.version")).toBe(`${VERSION}\n`);
    expect((await root.run(["stat", "-c", "%a", "/var/lib/openemr-aws"])).stdout).toBe("700\n");
  });

  // openemr-rotate-db-password as on EC2 (the settings say ec2; a fake `aws`,
  // lib/fake-secrets-manager.ts, keeps the secret's versions and stages in files and logs each
  // change): the account takes the new password, sqlconf.php holds it, PHP-FPM serves with it,
  // and the stages move only after that.
  it("rotates the app database password: AWSPENDING, account, sqlconf.php, PHP-FPM, then AWSCURRENT", async () => {
    const secrets = JSON.parse(root.readFile("/etc/openemr-aws/secrets.json"));
    const oldPassword: string = secrets["db-app"].password;
    const sqlconf = "/var/www/openemr/sites/default/sqlconf.php";
    const modeOf = async () => (await root.run(["stat", "-c", "%a %U %G", sqlconf])).stdout;
    const modeBefore = await modeOf();
    root.writeFile("/usr/local/bin/aws", FAKE_SECRETS_MANAGER_CLI, 0o755);
    root.writeFile("/srv/sm/versions/v1", JSON.stringify(secrets["db-app"]), 0o600);
    root.writeFile("/srv/sm/stages/AWSCURRENT", "v1\n", 0o600);
    root.writeFile(
      "/srv/rotate-etc/settings.env",
      root
        .readFile("/etc/openemr-aws/settings.env")
        .replace(/^OPENEMR_MODE=.*$/m, "OPENEMR_MODE=ec2")
        .concat("\nAWS_REGION=us-east-1\nSECRET_DB_APP=db-app\nDB_PASSWORD_ROTATION_DAYS=30\n"),
    );
    const env = { OPENEMR_AWS_ETC: "/srv/rotate-etc" };
    const rotate = (...args: string[]) =>
      root.run(["/opt/openemr-aws/bin/openemr-rotate-db-password", ...args], { check: false, env });

    const due = await rotate("--if-due");
    expect(due.code, due.stderr).toBe(0);
    const calls = root.readFile("/srv/sm/calls").trim().split("\n");
    const pending = root.readFile("/srv/sm/stages/AWSCURRENT").trim();
    expect(pending).not.toBe("v1");
    expect(calls).toEqual([
      `put ${pending} AWSPENDING`,
      `stage AWSCURRENT ${pending} from v1`,
      `stage AWSPENDING - from ${pending}`,
    ]);
    const newPassword: string = JSON.parse(root.readFile(`/srv/sm/versions/${pending}`)).password;
    expect(newPassword).not.toBe(oldPassword);
    expect(due.stderr).not.toContain(newPassword);
    expect(due.stderr).not.toContain(oldPassword);
    const connects = async (password: string) =>
      (
        await root.run(["mariadb", "-u", "openemr_app", "--batch", "-e", "SELECT 1", "openemr"], {
          check: false,
          env: { MYSQL_PWD: password },
        })
      ).code === 0;
    expect(await connects(newPassword)).toBe(true);
    expect(await connects(oldPassword)).toBe(false);
    expect(root.readFile(sqlconf)).toContain(`$pass\t= '${newPassword}';`);
    expect(root.readFile(sqlconf)).not.toContain(oldPassword);
    expect(await modeOf()).toBe(modeBefore);
    const ready = await root.run(["curl", "-sk", "https://localhost/meta/health/readyz"], { check: false });
    expect(JSON.parse(ready.stdout).status).toBe("ready");
    // Promotion refused after the account and sqlconf.php changed: AWSCURRENT stays, the site
    // keeps working with the pending password, and the next run finishes with that same version.
    root.writeFile("/srv/sm/refuse-stage-moves", "");
    const stopped = await rotate();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toContain("run again to finish");
    expect(root.readFile("/srv/sm/stages/AWSCURRENT").trim()).toBe(pending);
    const second = root.readFile("/srv/sm/stages/AWSPENDING").trim();
    const secondPassword: string = JSON.parse(root.readFile(`/srv/sm/versions/${second}`)).password;
    expect(await connects(secondPassword)).toBe(true);
    await root.run(["rm", "/srv/sm/refuse-stage-moves"], { check: false });
    const resumed = await rotate();
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`resuming with the pending version ${second}`);
    expect(root.readFile("/srv/sm/stages/AWSCURRENT").trim()).toBe(second);
    expect(root.readFile(sqlconf)).toContain(`$pass\t= '${secondPassword}';`);
    expect(await connects(newPassword)).toBe(false);
    expect(JSON.parse((await root.run(["curl", "-sk", "https://localhost/meta/health/readyz"])).stdout).status).toBe(
      "ready",
    );
    // With DB_PASSWORD_ROTATION_DAYS=0 the timer's run changes nothing.
    root.writeFile(
      "/srv/rotate-etc/settings.env",
      root
        .readFile("/srv/rotate-etc/settings.env")
        .replace("DB_PASSWORD_ROTATION_DAYS=30", "DB_PASSWORD_ROTATION_DAYS=0"),
    );
    const off = await rotate("--if-due");
    expect(off.code, off.stderr).toBe(0);
    expect(off.stderr).toContain("rotation off");
    expect(root.readFile("/srv/sm/calls").trim().split("\n")).toHaveLength(6);
  });
});
