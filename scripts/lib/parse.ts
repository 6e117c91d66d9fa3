// Parsers for option values: each rejects a bad value with a message naming the option,
// what was given and what is expected (commander turns it into a usage error, exit 2).
import { InvalidArgumentError } from "commander";

export function positiveInteger(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return Number(value);
}

/** `30s`, `15m`, `2h` or `1d`, in milliseconds. */
export function duration(value: string): number {
  const match = /^([1-9][0-9]*)([smhd])$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected a duration such as 30s, 15m, 2h or 1d, got "${value}"`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s" | "m" | "h" | "d"];
}

/** A release version `X.Y.Z`. */
export function version(value: string): string {
  if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(value))
    throw new InvalidArgumentError(`expected a release version X.Y.Z (e.g. 8.3.1), got "${value}"`);
  return value;
}

/** `latest` or a backup id, the UTC start time `YYYYMMDDTHHMMSSZ`. */
export function backupId(value: string): string {
  if (value !== "latest" && !/^\d{8}T\d{6}Z$/.test(value))
    throw new InvalidArgumentError(`expected "latest" or a backup id like 20261126T023000Z, got "${value}"`);
  return value;
}

/** A database name OpenEMR accepts. */
export function databaseName(value: string): string {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(value))
    throw new InvalidArgumentError(`expected a database name of letters, digits and _ (at most 64), got "${value}"`);
  return value;
}

export function sha256(value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value)) throw new InvalidArgumentError(`expected 64 lowercase hex digits, got "${value}"`);
  return value;
}
