// Backups, restores and drills, run on the host through SSM by its own scripts
// (docs/host-interface.md), with their output streamed and their result read back from
// the manifest in the bucket.
import { quote } from "zx";
import { EXIT_FAILED, EXIT_OK, OpsError, UsageError } from "../lib/errors";
import type { Context } from "../lib/context";
import {
  ageHours,
  listStoredBackups,
  readManifest,
  verifyAgainstManifest,
  type BackupManifest,
  type StoredBackup,
} from "../lib/backups";
import { emit, formatAge, formatBytes, lastLine, renderTable } from "../lib/printing";
import { requireOutputs } from "../lib/stack-outputs";
import { commandHost, isHa } from "../lib/host-group";
import { lastJsonLine, READ_HOST_SETTINGS, runOnHost } from "../lib/ssm";
import { restoreRdsToTime } from "./restore-rds";

const BACKUP_TIMEOUT_SECONDS = 3 * 3600;
const BIN = "/opt/openemr-aws/bin";
const LIVE_SITES_DIR = "/var/www/openemr/sites";

/** Takes a backup now and returns its manifest as read back from the bucket. */
export async function takeBackup(ctx: Context): Promise<BackupManifest> {
  return backupOn(ctx, await commandHost(ctx, "backup"));
}

async function backupOn(ctx: Context, instanceId: string): Promise<BackupManifest> {
  const outputs = requireOutputs(ctx.outputs, "backup", ["backupBucket", "backupPrefix"]);
  const title = isHa(ctx)
    ? `backup on ${instanceId}, the first in-service node (openemr-backup)`
    : "backup on the host (openemr-backup)";
  const result = await ctx.progress.step(title, () =>
    runOnHost(ctx, {
      instanceId,
      purpose: "backup",
      script: `${BIN}/openemr-backup --json`,
      timeoutSeconds: BACKUP_TIMEOUT_SECONDS,
      stream: true,
    }),
  );
  if (result.exitCode !== 0)
    throw new OpsError(
      `backup failed on the host (exit ${result.exitCode}): ${lastLine(result.stderr || result.stdout)}; ` +
        "see `openemr-ops logs --log openemr-backup`",
    );
  const printed = lastJsonLine(result.stdout, "backup") as Partial<BackupManifest>;
  if (typeof printed.id !== "string") throw new OpsError("backup: the host's manifest has no id");
  return ctx.progress.step(`reading manifest of ${printed.id} from the bucket`, () =>
    readManifest(ctx, outputs.backupBucket, outputs.backupPrefix, printed.id!),
  );
}

export async function backup(ctx: Context): Promise<number> {
  const instanceId = await commandHost(ctx, "backup");
  const node = isHa(ctx) ? instanceId : undefined;
  const manifest = await backupOn(ctx, instanceId);
  const bytes = manifest.parts.reduce((sum, part) => sum + part.bytes, 0);
  emit(ctx, { command: "backup", ok: true, manifest, ...(node ? { instanceId: node } : {}) }, () =>
    [
      ...(node ? [`Ran on ${node}, the first of the group's in-service instances.`, ""] : []),
      renderTable(
        ["PART", "SIZE", "SHA256"],
        manifest.parts.map((part) => [part.name, formatBytes(part.bytes), part.sha256.slice(0, 16)]),
      ),
      "",
      `Verdict: OK: backup ${manifest.id} of ${manifest.database} (OpenEMR ${manifest.openemr_version}), ` +
        `${formatBytes(bytes)} in ${manifest.duration_seconds}s`,
    ].join("\n"),
  );
  return EXIT_OK;
}

interface ListedBackup {
  id: string;
  startedAt: string;
  ageHours: number;
  bytes: number;
  complete: boolean;
  /** `verified`: every part present with the manifest's size; `incomplete`: no manifest; else what differs. */
  verification: string;
  openemrVersion?: string;
}

/**
 * Lists backups from the bucket itself rather than through the host, so the list is there
 * when the host is not, which is when it matters most.
 */
export async function backups(ctx: Context, options: { limit: number }): Promise<number> {
  const outputs = requireOutputs(ctx.outputs, "backups", ["backupBucket", "backupPrefix"]);
  const stored = (
    await ctx.progress.step("listing backups", () => listStoredBackups(ctx, outputs.backupBucket, outputs.backupPrefix))
  ).slice(0, options.limit);
  const listed = await Promise.all(
    stored.map((item) => describe(ctx, outputs.backupBucket, outputs.backupPrefix, item)),
  );
  const newestComplete = listed.find((item) => item.complete);
  emit(ctx, { command: "backups", bucket: outputs.backupBucket, prefix: outputs.backupPrefix, backups: listed }, () =>
    [
      renderTable(
        ["ID", "AGE", "SIZE", "OPENEMR", "VERIFICATION"],
        listed.map((item) => [
          item.id,
          formatAge(item.ageHours),
          formatBytes(item.bytes),
          item.openemrVersion ?? "-",
          item.verification,
        ]),
      ),
      "",
      newestComplete
        ? `Newest complete backup: ${newestComplete.id} (${formatAge(newestComplete.ageHours)} old)`
        : "No complete backup: run `openemr-ops backup`",
    ].join("\n"),
  );
  return newestComplete ? EXIT_OK : EXIT_FAILED;
}

async function describe(ctx: Context, bucket: string, prefix: string, item: StoredBackup): Promise<ListedBackup> {
  const base = {
    id: item.id,
    startedAt: item.startedAt.toISOString(),
    ageHours: Math.round(ageHours(item.startedAt) * 10) / 10,
    bytes: item.bytes,
    complete: item.complete,
  };
  if (!item.complete) return { ...base, verification: "incomplete" };
  const manifest = await readManifest(ctx, bucket, prefix, item.id);
  const mismatches = verifyAgainstManifest(item, manifest);
  return {
    ...base,
    verification: mismatches.length ? mismatches.join("; ") : "verified",
    openemrVersion: manifest.openemr_version,
  };
}

/** Resolves `latest` to the newest complete backup; a named one must exist and be complete. */
async function resolveBackup(ctx: Context, requested: string): Promise<StoredBackup> {
  const outputs = requireOutputs(ctx.outputs, "restore", ["backupBucket", "backupPrefix"]);
  const stored = await listStoredBackups(ctx, outputs.backupBucket, outputs.backupPrefix);
  const found =
    requested === "latest" ? stored.find((item) => item.complete) : stored.find((item) => item.id === requested);
  if (!found)
    throw new OpsError(
      requested === "latest"
        ? "no complete backup to restore; run `openemr-ops backups`"
        : `--backup: no backup ${requested} in s3://${outputs.backupBucket}/${outputs.backupPrefix}/; ` +
            "run `openemr-ops backups`",
    );
  if (!found.complete)
    throw new OpsError(
      `--backup: backup ${requested} is incomplete (no manifest.json); pick another from \`openemr-ops backups\``,
    );
  return found;
}

export interface RestoreOptions {
  backup: string;
  /** Restore into this new database (and a scratch sites directory) instead of the live one. */
  newDatabase?: string;
  /** Restore the live database to this UTC time (`YYYY-MM-DDTHH:MM:SSZ`, in the past). */
  toTime?: string;
  /** Standard tier with --to-time: longest wait for the new RDS instance. */
  waitMinutes?: number;
  yes?: boolean;
}

export async function restore(ctx: Context, options: RestoreOptions): Promise<number> {
  if (options.toTime !== undefined) {
    const { tier } = requireOutputs(ctx.outputs, "restore --to-time", ["tier"]);
    if (tier === "standard")
      return restoreRdsToTime(ctx, { toTime: options.toTime, waitMinutes: options.waitMinutes ?? 120 });
  }
  const { hostInstanceId } = requireOutputs(ctx.outputs, "restore", ["hostInstanceId"]);
  const toTime = options.toTime;
  const chosen = await ctx.progress.step(
    toTime ? `finding the newest backup started before ${toTime}` : `finding backup ${options.backup}`,
    () => (toTime ? backupBefore(ctx, toTime) : resolveBackup(ctx, options.backup)),
  );
  const live = options.newDatabase === undefined;
  if (live) await confirmLiveRestore(ctx, chosen, options.yes === true, toTime);

  // settings.env names the live database. openemr-restore loads beside it and pauses Apache and
  // PHP for the swap alone, keeping the previous copy for `commit` or `rollback` on the host; a
  // new database gets its own sites directory beside the code.
  // With --to-time the host picks the same backup itself and rolls it forward with the shipped
  // binary logs (docs/host-interface.md).
  const target = live
    ? [
        READ_HOST_SETTINGS,
        `${BIN}/openemr-restore ${toTime ? `--to-time ${quote(toTime)}` : `--backup ${quote(chosen.id)}`} ` +
          `--database "$DB_NAME" --sites-dir ${LIVE_SITES_DIR} --yes`,
      ].join("\n")
    : [
        // A "new" database that is the live one would be overwritten without the confirmation.
        READ_HOST_SETTINGS,
        `if [ "$DB_NAME" = ${quote(options.newDatabase!)} ]; then ` +
          `echo "openemr-ops: --new-database ${options.newDatabase} is the live database; ` +
          `restore into it without --new-database" >&2; exit 2; fi`,
        `${BIN}/openemr-restore --backup ${quote(chosen.id)} --database ${quote(options.newDatabase!)} ` +
          `--sites-dir ${quote(`/var/lib/openemr-aws/restores/${options.newDatabase}/sites`)} --yes`,
      ].join("\n");
  const result = await ctx.progress.step(
    `restoring ${chosen.id}${toTime ? ` rolled forward to ${toTime}` : ""} into ` +
      (live ? "the live database" : options.newDatabase),
    () =>
      runOnHost(ctx, {
        instanceId: hostInstanceId,
        purpose: "restore",
        script: target,
        timeoutSeconds: BACKUP_TIMEOUT_SECONDS,
        stream: true,
      }),
  );
  const ok = result.exitCode === 0;
  const swap = ok ? keptSwap(result.stdout) : undefined;
  const stackFlag = ctx.stack ? ` --stack ${ctx.stack}` : "";
  emit(
    ctx,
    {
      command: "restore",
      ok,
      backupId: chosen.id,
      target: live ? "live" : options.newDatabase,
      exitCode: result.exitCode,
      ...(toTime ? { toTime } : {}),
      ...(swap ? { swapId: swap } : {}),
    },
    () =>
      [
        ...(swap
          ? [
              `The database and site from before the restore are kept on the host as swap ${swap}, ` +
                "for RESTORE_KEEP_DAYS (default 7) days:",
              `  openemr-ops restore rollback ${swap}${stackFlag}   put it back`,
              `  openemr-ops restore commit ${swap}${stackFlag}     drop it`,
              "",
            ]
          : []),
        ok
          ? `Verdict: OK: backup ${chosen.id} ${toTime ? `rolled forward to ${toTime} and ` : ""}restored into ` +
            (live ? "the live database; run `openemr-ops health`" : `database ${options.newDatabase}`)
          : `Verdict: FAILED: restore of ${chosen.id} exited ${result.exitCode}: ` +
            lastLine(result.stderr || result.stdout),
      ].join("\n"),
  );
  return ok ? EXIT_OK : EXIT_FAILED;
}

/** The swap a restore made, from the line `openemr-restore rollback <swap>` it prints last. */
export function keptSwap(stdout: string): string | undefined {
  return [...stdout.matchAll(/\bopenemr-restore rollback ([0-9]{8}t[0-9]{6}z)\b/g)].pop()?.[1];
}

/** With --to-time: the newest complete backup that started at or before it, as the host picks it. */
async function backupBefore(ctx: Context, toTime: string): Promise<StoredBackup> {
  const outputs = requireOutputs(ctx.outputs, "restore", ["backupBucket", "backupPrefix"]);
  const before = toTime.replace(/[-:]/g, "");
  const stored = await listStoredBackups(ctx, outputs.backupBucket, outputs.backupPrefix);
  const found = stored.find((item) => item.complete && item.id <= before);
  if (!found)
    throw new OpsError(
      `--to-time: no complete backup started before ${toTime} in s3://${outputs.backupBucket}/${outputs.backupPrefix}/`,
      "choose a later time; `openemr-ops backups` lists them",
    );
  return found;
}

/**
 * Restoring over the live database needs the backup id typed back (with --to-time, the time),
 * or --yes.
 */
async function confirmLiveRestore(ctx: Context, chosen: StoredBackup, yes: boolean, toTime?: string): Promise<void> {
  if (yes) return;
  if (!ctx.io.stdinIsTTY)
    throw new UsageError(
      "restore into the live database: confirm by typing on a terminal, or pass --yes" +
        (toTime ? "" : " (or restore with --new-database NAME)"),
    );
  ctx.io.err(
    toTime
      ? `This replaces the live OpenEMR database with backup ${chosen.id} rolled forward to ${toTime} ` +
          "with the shipped binary logs, and sites/ with that backup's. Changes after that time are lost."
      : `This replaces the live OpenEMR database and sites/ with backup ${chosen.id} ` +
          `(${formatAge(ageHours(chosen.startedAt))} old). Changes since then are lost.`,
  );
  const expected = toTime ?? chosen.id;
  const answer = (await ctx.io.ask(`Type the ${toTime ? "time" : "backup id"} (${expected}) to continue: `)).trim();
  if (answer !== expected)
    throw new OpsError(`confirmation "${answer}" does not match ${expected}; nothing was restored`);
}

interface DrillReport {
  ok?: boolean;
  [key: string]: unknown;
}

export async function drill(ctx: Context, options: { backup: string }): Promise<number> {
  const instanceId = await commandHost(ctx, "drill");
  const chosen = await ctx.progress.step(`finding backup ${options.backup}`, () => resolveBackup(ctx, options.backup));
  const where = isHa(ctx) ? ` on ${instanceId}, the first in-service node` : "";
  const result = await ctx.progress.step(`restore drill of ${chosen.id} into a scratch database${where}`, () =>
    runOnHost(ctx, {
      instanceId,
      purpose: "restore drill",
      script: `${BIN}/openemr-restore drill --backup ${quote(chosen.id)} --json`,
      timeoutSeconds: BACKUP_TIMEOUT_SECONDS,
      stream: true,
    }),
  );
  let report: DrillReport | undefined;
  try {
    report = lastJsonLine(result.stdout, "drill") as DrillReport;
  } catch (error) {
    if (result.exitCode === 0) throw error;
  }
  const ok = result.exitCode === 0;
  emit(ctx, { command: "drill", ok, backupId: chosen.id, exitCode: result.exitCode, report: report ?? null }, () =>
    [
      ...(report
        ? [
            renderTable(
              ["FIELD", "VALUE"],
              Object.entries(report).map(([key, value]) => [
                key,
                typeof value === "string" ? value : JSON.stringify(value),
              ]),
            ),
            "",
          ]
        : []),
      ok
        ? `Verdict: OK: backup ${chosen.id} restores and its row counts match the manifest`
        : `Verdict: FAILED: drill of ${chosen.id} exited ${result.exitCode}: ` +
          `${lastLine(result.stderr || result.stdout)}; the backup may not be restorable`,
    ].join("\n"),
  );
  return ok ? EXIT_OK : EXIT_FAILED;
}
