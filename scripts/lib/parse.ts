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

/**
 * A UTC time to the second, `YYYY-MM-DDTHH:MM:SSZ`, that exists and is in the past: what
 * `openemr-restore --to-time` and RDS's point-in-time restore take.
 */
export function pastUtcTime(value: string, now: number = Date.now()): string {
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(value) ? Date.parse(value) : NaN;
  // A round trip refuses dates the parser would roll over, such as 2026-02-30.
  if (Number.isNaN(time) || new Date(time).toISOString().replace(/\.000Z$/, "Z") !== value)
    throw new InvalidArgumentError(`expected a UTC time like 2026-11-30T14:05:00Z, got "${value}"`);
  if (time >= now)
    throw new InvalidArgumentError(
      `${value} is not in the past (it is now ${new Date(now).toISOString().replace(/\.\d+Z$/, "Z")})`,
    );
  return value;
}

/** A swap of `openemr-restore`: its UTC start, lower-case, e.g. `20261126t023000z`. */
export function swapId(value: string): string {
  if (!/^[0-9]{8}t[0-9]{6}z$/.test(value))
    throw new InvalidArgumentError(`expected a swap id like 20261126t023000z, got "${value}"`);
  return value;
}

/** An EC2 instance id, `i-` and 8 or 17 hex digits. */
export function instanceId(value: string): string {
  if (!/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(value))
    throw new InvalidArgumentError(`expected an EC2 instance id like i-0abc1234def567890, got "${value}"`);
  return value;
}
