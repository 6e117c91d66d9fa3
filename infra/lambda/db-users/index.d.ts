// Types of the db-users function (index.js, plain JavaScript so the Lambda runs it unbuilt).

export interface Grant {
  privileges: string[];
  on: "database" | "copies" | "server";
  /** Only on these servers (a privilege one of them lacks); every server when absent. */
  servers?: ServerKind[];
}

export type ServerKind = "mysql" | "mariadb";

export interface Account {
  /** app, backup or restore: the key of the account's entry in infra/host/lib/db-grants.json. */
  role: string;
  /** The account's own secret: `{"username": ..., "password": ...}`. */
  secretArn: string;
  grants: Grant[];
}

export interface Request {
  host: string;
  port: number;
  masterSecretArn: string;
  database: { name: string; characterSet: string; collation: string };
  /** The host part of every account (MySQL's `address/netmask` form). */
  accountHost: string;
  accounts: Account[];
}

export interface Credentials {
  username: string;
  password: string;
}

export interface Result {
  database: string;
  accounts: { role: string; user: string; grants: number }[];
}

export function usersSql(request: Request, credentials: Record<string, Credentials>, server?: ServerKind): string[];

export function ensureDatabaseUsers(
  request: Request,
  options?: { readSecret?: (arn: string) => Promise<Credentials>; ca?: string | string[] },
): Promise<Result>;

export function handler(event: Request): Promise<Result>;
