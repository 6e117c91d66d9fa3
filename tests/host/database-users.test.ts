// The database-accounts function's code (infra/lambda/db-users), run for real from this process
// against the MariaDB of a fresh Debian 13 root that requires TLS (a test CA stands in for the RDS
// CA bundle; the secrets are read from a map instead of Secrets Manager). Twice, as a re-deploy
// would; then the accounts are checked as MariaDB sees them and as a client uses them.
import { randomBytes } from "crypto";
import { execFileSync } from "child_process";
import { resolve } from "path";
import { createConnection } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebianRoot, MariadbServer, freshRoot, makeTestCa, mariadbSql, startMariadb } from "./lib/debian-root";
import { ensureDatabaseUsers, type Credentials, type Request } from "../../infra/lambda/db-users";
import { rdsGrants } from "../../infra/components/database-users";

describe("db-users function against MariaDB with TLS required", () => {
  let root: DebianRoot;
  let db: MariadbServer;
  let secrets: Record<string, Credentials>;
  let request: Request;
  // The block the test's side of the namespace link is in, as the stack passes the app subnets'.
  const accountHost = "10.231.0.0/255.255.0.0";
  const account = (username: string) => `'${username}'@'${accountHost}'`;
  const run = () => ensureDatabaseUsers(request, { readSecret: async (arn) => secrets[arn], ca: db.caPem });
  // The bootstrap's side on AWS (no master secret): its wait for the accounts, run in the root
  // with the bundle's own functions, as an on-prem host reading secrets.json.
  const bootstrapWait = (seconds: number) =>
    root.sh(
      [
        "set -euo pipefail",
        "BUNDLE_DIR=/opt/openemr-aws PROG=openemr-bootstrap",
        "source $BUNDLE_DIR/lib/common.sh",
        "source $BUNDLE_DIR/lib/steps.sh",
        "OPENEMR_MODE=onprem OPENEMR_TIER=standard OPENEMR_STACK=clinic-test",
        `DB_HOST=${db.host} DB_PORT=${db.port} DB_NAME=openemr DB_CA_FILE=${db.caFileInRoot}`,
        "SECRET_DB_BACKUP=backup SECRET_DB_RESTORE=restore SECRET_DB_MASTER=",
        `DB_ACCOUNTS_WAIT_SECONDS=${seconds}`,
        "RUN_DIR=$(mktemp -d)",
        "load_credentials DB_APP app",
        'write_client_options "$RUN_DIR/app.cnf" "$DB_APP_USER" "$DB_APP_PASSWORD"',
        "wait_for_db_accounts",
        "echo accounts ready",
      ].join("\n"),
      { check: false, timeoutMs: 120_000 },
    );
  const grantsOf = async (username: string) =>
    (await mariadbSql(root, `SHOW GRANTS FOR ${account(username)}`)).trim().split("\n").sort();

  beforeAll(async () => {
    root = await freshRoot("db-users");
    db = await startMariadb(root);
    execFileSync("cp", ["-a", `${resolve(__dirname, "../../infra/host")}/.`, root.path("/opt/openemr-aws")]);
    // Generated like the Pulumi program's: no '=', quotes, backslashes or spaces.
    const password = () => randomBytes(24).toString("base64").replace(/[+/=]/g, "x");
    secrets = {
      master: db.admin,
      app: { username: "openemr_app", password: password() },
      backup: { username: "openemr_backup", password: password() },
      restore: { username: "openemr_restore", password: password() },
    };
    root.writeFile(
      "/etc/openemr-aws/secrets.json",
      JSON.stringify({ app: secrets.app, backup: secrets.backup, restore: secrets.restore }),
      0o600,
    );
    request = {
      host: db.host,
      port: db.port,
      masterSecretArn: "master",
      database: { name: "openemr", characterSet: "utf8mb4", collation: "utf8mb4_general_ci" },
      accountHost,
      accounts: (["app", "backup", "restore"] as const).map((role) => ({
        role,
        secretArn: role,
        grants: rdsGrants()[role],
      })),
    };
  });

  afterAll(async () => {
    await root?.destroy();
  });

  it("refuses a server whose certificate another CA signed, and creates nothing", async () => {
    const other = await makeTestCa(root.path("/root/other-ca"), "not the database's CA");
    await expect(
      ensureDatabaseUsers(request, { readSecret: async (arn) => secrets[arn], ca: other.caPem }),
    ).rejects.toThrow(/certificate/i);
    expect(await mariadbSql(root, "SELECT COUNT(*) FROM mysql.user WHERE User LIKE 'openemr\\_%'")).toBe("0\n");
  });

  it("the bootstrap, with no master secret, waits for the accounts and then stops naming the function", async () => {
    const waited = await bootstrapWait(12);
    expect(waited.code).not.toBe(0);
    expect(waited.stderr).toContain("waiting for the database accounts");
    expect(waited.stderr).toMatch(
      /ERROR: app user openemr_app cannot connect to openemr on .*\/aws\/lambda\/openemr-aws-clinic-test-db-users/,
    );
  });

  it("creates the database and the accounts, and a second run changes nothing", async () => {
    const first = await run();
    expect(first.accounts.map((entry) => entry.user)).toEqual([
      `openemr_app@${accountHost}`,
      `openemr_backup@${accountHost}`,
      `openemr_restore@${accountHost}`,
    ]);
    expect(JSON.stringify(first)).not.toContain(secrets.app.password);
    const before = await Promise.all(["openemr_app", "openemr_backup", "openemr_restore"].map(grantsOf));
    await run();
    expect(await Promise.all(["openemr_app", "openemr_backup", "openemr_restore"].map(grantsOf))).toEqual(before);
    expect(await mariadbSql(root, "SHOW CREATE DATABASE openemr")).toContain("utf8mb4");
  });

  it("grants what the grant list says, and nothing on other databases", async () => {
    // MariaDB prints accounts with backquotes: `user`@`host`.
    const grant = (what: string, on: string, username: string) =>
      expect.stringMatching(
        new RegExp(`^GRANT ${what} ON ${on} TO \`${username}\`@\`${accountHost.replace(/[./]/g, "\\$&")}\``),
      );
    expect(await grantsOf("openemr_app")).toEqual([
      grant("ALL PRIVILEGES", "`openemr`\\.\\*", "openemr_app"),
      grant("USAGE", "\\*\\.\\*", "openemr_app"),
    ]);
    expect(await grantsOf("openemr_backup")).toEqual([
      grant("SELECT, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER", "`openemr`\\.\\*", "openemr_backup"),
      grant("USAGE", "\\*\\.\\*", "openemr_backup"),
    ]);
    expect(await grantsOf("openemr_restore")).toEqual([
      // `openemr\_%`: the batch output doubles the backslash that escapes the LIKE pattern's `_`.
      grant("ALL PRIVILEGES", "`openemr\\\\\\\\_%`\\.\\*", "openemr_restore"),
      grant("ALL PRIVILEGES", "`openemr`\\.\\*", "openemr_restore"),
      grant("USAGE", "\\*\\.\\*", "openemr_restore"),
    ]);
  });

  it("every account requires TLS: the app user connects over verified TLS, and not over plain TCP", async () => {
    for (const username of ["openemr_app", "openemr_backup", "openemr_restore"])
      expect(await mariadbSql(root, `SHOW CREATE USER ${account(username)}`)).toContain("REQUIRE SSL");
    const tls = await createConnection({
      host: db.host,
      port: db.port,
      user: secrets.app.username,
      password: secrets.app.password,
      database: "openemr",
      ssl: { ca: db.caPem, rejectUnauthorized: true, verifyIdentity: true },
    });
    try {
      const [rows] = await tls.query("SELECT CURRENT_USER() AS account");
      expect(rows).toEqual([{ account: `openemr_app@${accountHost}` }]);
      const [cipher] = await tls.query("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
      expect((cipher as { Value: string }[])[0].Value).not.toBe("");
    } finally {
      await tls.end();
    }
    await expect(
      createConnection({
        host: db.host,
        port: db.port,
        user: secrets.app.username,
        password: secrets.app.password,
        database: "openemr",
      }),
    ).rejects.toThrow(/secure transport|SSL|Access denied/i);
  });

  it("the bootstrap, with no master secret, goes on once the app, backup and restore accounts connect", async () => {
    const waited = await bootstrapWait(30);
    expect(waited.stderr).not.toContain("ERROR");
    expect(waited.stdout).toBe("accounts ready\n");
    expect(waited.code).toBe(0);
  });

  it("a changed password is set on the next run", async () => {
    secrets.app = { ...secrets.app, password: randomBytes(24).toString("base64").replace(/[+/=]/g, "y") };
    await run();
    const connection = await createConnection({
      host: db.host,
      port: db.port,
      user: secrets.app.username,
      password: secrets.app.password,
      ssl: { ca: db.caPem, rejectUnauthorized: true },
    });
    await connection.end();
  });
});
