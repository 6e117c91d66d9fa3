// `openemr-ops upgrade --to X.Y.Z`: a backup and a DB snapshot first, then the new release
// installed beside the old one and swapped in (sites/ kept), OpenEMR's schema upgrade, and a
// health gate. When the upgrade or the gate fails, the previous code and the pre-upgrade
// backup are put back automatically.
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand } from "@aws-sdk/client-rds";
import { awsCall, EXIT_FAILED, EXIT_OK, OpsError, UsageError } from "../lib/errors";
import { renderFindings, verdictOf, type Finding } from "../lib/checks";
import { sleep, type Context } from "../lib/context";
import { emit, lastLine } from "../lib/printing";
import { requireOutputs } from "../lib/stack-outputs";
import { hostScript, runOnHost } from "../lib/ssm";
import { collectHealth, type HealthOptions } from "./health";
import { takeBackup } from "./backups";

export interface UpgradeOptions extends HealthOptions {
  to: string;
  sha256?: string;
  releaseUrl?: string;
}

const SWAPPED = "openemr-upgrade: code swapped";
const SNAPSHOT_TIMEOUT_MS = 2 * 3600_000;

function compareVersions(a: string, b: string): number {
  const [x, y] = [a, b].map((version) => version.split(".").map(Number));
  for (let index = 0; index < 3; index += 1) if (x[index] !== y[index]) return x[index] - y[index];
  return 0;
}

async function installedVersion(ctx: Context, instanceId: string): Promise<string> {
  const result = await runOnHost(ctx, {
    instanceId,
    purpose: "reading the installed version",
    script: hostScript("installed-version"),
    timeoutSeconds: 60,
  });
  const found = result.stdout.trim().split("\n").pop() ?? "";
  if (result.exitCode !== 0 || !/^\d+\.\d+\.\d+$/.test(found))
    throw new OpsError(
      `cannot read the installed OpenEMR version on ${instanceId} (exit ${result.exitCode}): ` +
        (result.stderr || found).trim().slice(0, 200),
    );
  return found;
}

/** A manual RDS snapshot that outlives automated-backup retention, for the `standard` tier. */
async function snapshotDatabase(ctx: Context, dbInstanceIdentifier: string, to: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").toLowerCase();
  const snapshotId = `${dbInstanceIdentifier}-pre-upgrade-${to.replace(/\./g, "-")}-${stamp}`;
  await awsCall("RDS CreateDBSnapshot", () =>
    ctx.aws.rds.send(
      new CreateDBSnapshotCommand({
        DBInstanceIdentifier: dbInstanceIdentifier,
        DBSnapshotIdentifier: snapshotId,
        Tags: [{ Key: "Purpose", Value: `pre-upgrade to ${to}` }],
      }),
    ),
  );
  const deadline = Date.now() + SNAPSHOT_TIMEOUT_MS;
  for (;;) {
    await sleep(ctx.pollIntervalMs);
    const described = await awsCall("RDS DescribeDBSnapshots", () =>
      ctx.aws.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId })),
    );
    const status = described.DBSnapshots?.[0]?.Status;
    if (status === "available") return snapshotId;
    if (status === "failed" || status === "deleted")
      throw new OpsError(`DB snapshot ${snapshotId} ended as ${status}; nothing was upgraded`);
    if (Date.now() > deadline)
      throw new OpsError(
        `DB snapshot ${snapshotId} not available after ${SNAPSHOT_TIMEOUT_MS / 3600_000}h (status ${status}); ` +
          "nothing was upgraded",
      );
  }
}

export async function upgrade(ctx: Context, options: UpgradeOptions): Promise<number> {
  if (ctx.outputs.tier === "ha")
    throw new UsageError(
      "upgrade does not run on the ha tier; there an upgrade is an instance refresh of the host group: " +
        `set openemrVersion to ${options.to} in the stack's config and run \`pulumi up\`, ` +
        "which replaces the group's instances (new ones in service before old ones go) " +
        "and rolls back by itself if the new ones fail their health checks",
    );
  const outputs = requireOutputs(ctx.outputs, "upgrade", [
    "hostInstanceId",
    "tier",
    "backupBucket",
    "backupPrefix",
    "url",
  ]);
  const instanceId = outputs.hostInstanceId;
  const from = await ctx.progress.step("reading the installed version", () => installedVersion(ctx, instanceId));
  if (compareVersions(options.to, from) <= 0)
    throw new UsageError(
      `--to: ${options.to} is not newer than the installed ${from}; ` +
        "expected a later release (downgrades are restores: see `openemr-ops restore`)",
    );

  const preBackup = await takeBackup(ctx);
  let dbSnapshot: string | undefined;
  if (outputs.tier === "standard") {
    const { dbInstanceIdentifier } = requireOutputs(ctx.outputs, "upgrade on the standard tier", [
      "dbInstanceIdentifier",
    ]);
    dbSnapshot = await ctx.progress.step("RDS snapshot before the upgrade", () =>
      snapshotDatabase(ctx, dbInstanceIdentifier, options.to),
    );
  }

  const installed = await ctx.progress.step(`upgrading OpenEMR ${from} -> ${options.to} on the host`, () =>
    runOnHost(ctx, {
      instanceId,
      purpose: "upgrade",
      script: hostScript("upgrade", {
        FROM_VERSION: from,
        TO_VERSION: options.to,
        RELEASE_SHA256: options.sha256 ?? "",
        RELEASE_URL: options.releaseUrl ?? "",
      }),
      timeoutSeconds: 3600,
      stream: true,
    }),
  );
  const report = {
    command: "upgrade",
    from,
    to: options.to,
    preUpgradeBackup: preBackup.id,
    dbSnapshot: dbSnapshot ?? null,
  };
  if (installed.exitCode !== 0 && !installed.stdout.includes(SWAPPED)) {
    // Failed before the live code changed (download, checksum, unpacking): nothing to undo.
    const reason = lastLine(installed.stderr || installed.stdout);
    emit(
      ctx,
      { ...report, ok: false, rolledBack: false, reason, gate: [] },
      () => `Verdict: FAILED: the upgrade stopped before changing anything: ${reason}`,
    );
    return EXIT_FAILED;
  }

  let gate: Finding[] = [];
  let reason: string | undefined;
  if (installed.exitCode !== 0) {
    reason = `the upgrade failed on the host: ${lastLine(installed.stderr || installed.stdout)}`;
  } else {
    gate = await collectHealth(ctx, options);
    if (verdictOf(gate) === "CRIT")
      reason = `the health gate failed: ${gate
        .filter((finding) => finding.status === "CRIT")
        .map((finding) => `${finding.check} (${finding.summary})`)
        .join(", ")}`;
  }
  if (!reason) {
    emit(ctx, { ...report, ok: true, rolledBack: false, reason: null, gate }, () =>
      [
        renderFindings(gate, outputs.url),
        "",
        `Verdict: OK: OpenEMR upgraded ${from} -> ${options.to}. ` +
          `Set \`openemr:openemrVersion\` to ${options.to} in the stack config so the next \`pulumi up\` keeps it.`,
      ].join("\n"),
    );
    return EXIT_OK;
  }

  ctx.io.err(`${reason}; rolling back to ${from} and backup ${preBackup.id}`);
  const rollback = await ctx.progress.step(`rolling back to ${from} and backup ${preBackup.id}`, () =>
    runOnHost(ctx, {
      instanceId,
      purpose: "rollback",
      script: hostScript("rollback", { FROM_VERSION: from, BACKUP_ID: preBackup.id }),
      timeoutSeconds: 3 * 3600,
      stream: true,
    }),
  );
  const rolledBack = rollback.exitCode === 0;
  emit(ctx, { ...report, ok: false, rolledBack, reason, gate }, () =>
    [
      ...(gate.length ? [renderFindings(gate, outputs.url), ""] : []),
      rolledBack
        ? `Verdict: FAILED: ${reason}. Rolled back to ${from} with backup ${preBackup.id}; run \`openemr-ops health\`.`
        : `Verdict: FAILED: ${reason}, and the rollback failed too ` +
          `(exit ${rollback.exitCode}: ${lastLine(rollback.stderr || rollback.stdout)}). ` +
          `Restore by hand: \`openemr-ops restore --backup ${preBackup.id}\`` +
          `${dbSnapshot ? ` or the RDS snapshot ${dbSnapshot}` : ""}.`,
    ].join("\n"),
  );
  return EXIT_FAILED;
}
