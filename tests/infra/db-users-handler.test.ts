// The database-accounts function's SQL (infra/lambda/db-users): what it runs on RDS, from the
// grant list the bootstrap also reads, and what it refuses to run.
import { describe, expect, it } from "vitest";
import { usersSql, type Request } from "../../infra/lambda/db-users";
import { rdsGrants } from "../../infra/components/database-users";

const request = (overrides: Partial<Request> = {}): Request => ({
  host: "openemr-clinic.c1.eu-west-1.rds.amazonaws.com",
  port: 3306,
  masterSecretArn: "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1",
  database: { name: "openemr", characterSet: "utf8mb4", collation: "utf8mb4_general_ci" },
  accountHost: "10.40.64.0/255.255.192.0",
  accounts: (["app", "backup", "restore"] as const).map((role) => ({
    role,
    secretArn: `arn:aws:secretsmanager:eu-west-1:111122223333:secret:${role}`,
    grants: rdsGrants()[role],
  })),
  ...overrides,
});
const credentials = {
  app: { username: "openemr_app", password: "Aa1!app-password-xx" },
  backup: { username: "openemr_backup", password: "Bb2#backup-password" },
  restore: { username: "openemr_restore", password: "Cc3%restore-password" },
};

describe("db-users function: SQL", () => {
  it("creates the database, then each account with TLS required and its grants, as the bootstrap does", () => {
    const app = "'openemr_app'@'10.40.64.0/255.255.192.0'";
    const backup = "'openemr_backup'@'10.40.64.0/255.255.192.0'";
    const restore = "'openemr_restore'@'10.40.64.0/255.255.192.0'";
    expect(usersSql(request(), credentials)).toEqual([
      "CREATE DATABASE IF NOT EXISTS `openemr` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci",
      `CREATE USER IF NOT EXISTS ${app} IDENTIFIED BY 'Aa1!app-password-xx' REQUIRE SSL`,
      `ALTER USER ${app} IDENTIFIED BY 'Aa1!app-password-xx' REQUIRE SSL`,
      `GRANT ALL PRIVILEGES ON \`openemr\`.* TO ${app}`,
      `GRANT APPLICATION_PASSWORD_ADMIN ON *.* TO ${app}`,
      `CREATE USER IF NOT EXISTS ${backup} IDENTIFIED BY 'Bb2#backup-password' REQUIRE SSL`,
      `ALTER USER ${backup} IDENTIFIED BY 'Bb2#backup-password' REQUIRE SSL`,
      `GRANT SELECT, SHOW VIEW, TRIGGER, LOCK TABLES, EVENT ON \`openemr\`.* TO ${backup}`,
      `CREATE USER IF NOT EXISTS ${restore} IDENTIFIED BY 'Cc3%restore-password' REQUIRE SSL`,
      `ALTER USER ${restore} IDENTIFIED BY 'Cc3%restore-password' REQUIRE SSL`,
      `GRANT ALL PRIVILEGES ON \`openemr\`.* TO ${restore}`,
      `GRANT ALL PRIVILEGES ON \`openemr\\_%\`.* TO ${restore}`,
    ]);
  });
  it("makes a grant that names servers only on those: MySQL's APPLICATION_PASSWORD_ADMIN is not MariaDB's", () => {
    const app = "'openemr_app'@'10.40.64.0/255.255.192.0'";
    expect(usersSql(request(), credentials, "mysql")).toContain(`GRANT APPLICATION_PASSWORD_ADMIN ON *.* TO ${app}`);
    const onMariadb = usersSql(request(), credentials, "mariadb");
    expect(onMariadb.filter((statement) => statement.includes("APPLICATION_PASSWORD_ADMIN"))).toEqual([]);
    expect(onMariadb).toContain(`GRANT ALL PRIVILEGES ON \`openemr\`.* TO ${app}`);
  });
  it("escapes _ in the copies' pattern, so openemr_x\\_% does not match openemrYx", () => {
    const sql = usersSql(request({ database: { ...request().database, name: "openemr_x" } }), credentials);
    expect(sql).toContain(
      "GRANT ALL PRIVILEGES ON `openemr\\_x\\_%`.* TO 'openemr_restore'@'10.40.64.0/255.255.192.0'",
    );
  });
  it.each([
    ["a password with a quote", { app: { ...credentials.app, password: "x'; DROP USER root; --xx" } }, /app password/],
    ["a short password", { app: { ...credentials.app, password: "short" } }, /at least 12/],
    ["a user name with a quote", { app: { ...credentials.app, username: "a'b" } }, /app username is "a'b"/],
    ["an account with no secret read", { app: undefined }, /credentials of account app/],
  ])("refuses %s", (_what, override, message) => {
    expect(() => usersSql(request(), { ...credentials, ...override } as typeof credentials)).toThrow(message);
  });
  it("refuses a privilege or a scope the grant list cannot hold, and a database name with a backquote", () => {
    const grantAll = request({
      accounts: [
        { role: "app", secretArn: "x", grants: [{ privileges: ["ALL PRIVILEGES", "GRANT OPTION"], on: "database" }] },
      ],
    });
    expect(() => usersSql(grantAll, credentials)).toThrow(/app privilege is "GRANT OPTION"/);
    const anywhere = request({
      accounts: [{ role: "app", secretArn: "x", grants: [{ privileges: ["SELECT"], on: "mysql" as "database" }] }],
    });
    expect(() => usersSql(anywhere, credentials)).toThrow(
      /grant scope is "mysql"; expected database, copies or server/,
    );
    const quoted = request({ database: { ...request().database, name: "open`emr" } });
    expect(() => usersSql(quoted, credentials)).toThrow(/database.name/);
  });
});
