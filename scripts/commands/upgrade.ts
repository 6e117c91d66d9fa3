// `openemr-ops upgrade --to X.Y.Z`: a backup and a DB snapshot first, then the new release
// installed beside the old one and swapped in (sites/ kept), OpenEMR's schema upgrade, and a
// health gate. When the upgrade or the gate fails, the previous code and the pre-upgrade
// backup are put back automatically.
// On the ha tier the hosts are replaced rather than changed: after a health gate, a backup and
// a DB snapshot, the version is set in the stack config and `pulumi up` starts the group's
// instance refresh (new hosts boot the new release; AWS rolls back when they fail), which is
// followed to its end and checked on every node.
import { existsSync } from "node:fs";
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand } from "@aws-sdk/client-rds";
import { which } from "zx";
import { awsCall, EXIT_FAILED, EXIT_OK, OpsError, UsageError } from "../lib/errors";
import { renderFindings, verdictOf, type Finding } from "../lib/checks";
import { sleep, type Context } from "../lib/context";
import { emit, lastLine } from "../lib/printing";
import { requireOutputs } from "../lib/stack-outputs";
import { hostScript, runOnHost } from "../lib/ssm";
import { followInstanceRefresh, inServiceNodes, isHa, type RefreshOutcome } from "../lib/host-group";
import { runPulumi } from "../lib/pulumi";
import { collectHealth, type HealthOptions } from "./health";
import { takeBackup } from "./backups";
import { CONFIG_NAMESPACE, loadStackFile } from "../../infra/config";

export interface UpgradeOptions extends HealthOptions {
  to: string;
  sha256?: string;
  releaseUrl?: string;
  /** ha tier: the Pulumi project directory (Pulumi.yaml and Pulumi.<stack>.yaml). */
  cwd?: string;
  /** ha tier: deploy without the preview and the typed confirmation. */
  yes?: boolean;
  /** ha tier: longest wait for the instance refresh, in minutes. */
  waitMinutes?: number;
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

/** A manual RDS snapshot that outlives automated-backup retention, for the `standard` and `ha` tiers. */
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
  if (isHa(ctx)) return upgradeGroup(ctx, options);
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

const VERSION_KEY = `${CONFIG_NAMESPACE}:openemrVersion`;
const SHA256_KEY = `${CONFIG_NAMESPACE}:openemrSha256`;
const DEFAULT_REFRESH_WAIT_MINUTES = 180;

/** The stack and project an ha upgrade deploys, checked before anything is read or changed. */
interface Deployment {
  stack: string;
  cwd: string;
  /** The stack file's pinned openemrSha256 (the installed release's), if any. */
  pinnedSha256?: string;
}

async function deploymentOf(ctx: Context, options: UpgradeOptions): Promise<Deployment> {
  if (!ctx.stack)
    throw new UsageError(
      "--stack: upgrade on the ha tier sets the version in the stack's config and runs `pulumi up`, " +
        "so it needs the stack's name, e.g. --stack clinic-prod",
    );
  if (options.releaseUrl !== undefined)
    throw new UsageError(
      `--release-url: not used on the ha tier; its hosts download the release that ${VERSION_KEY} names`,
    );
  if (!options.yes && !ctx.io.stdinIsTTY)
    throw new UsageError("upgrade: confirm the deployment on a terminal, or pass --yes");
  const cwd = options.cwd ?? process.cwd();
  const file = `${cwd}/Pulumi.${ctx.stack}.yaml`;
  if (!existsSync(file))
    throw new UsageError(
      `--project-dir: ${file} does not exist; expected the directory of Pulumi.yaml and the stack file ` +
        `Pulumi.${ctx.stack}.yaml`,
    );
  const pinnedSha256 = loadStackFile(file)[SHA256_KEY];
  if (pinnedSha256 && !options.sha256)
    throw new UsageError(
      `--sha256: stack ${ctx.stack} pins ${SHA256_KEY} (the installed release's checksum); ` +
        `pass the sha256 of the ${options.to} release tarball`,
    );
  if (!(await which("pulumi", { nothrow: true })))
    throw new OpsError(
      "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) and log in, " +
        "then run upgrade again",
    );
  return { stack: ctx.stack, cwd, pinnedSha256 };
}

/** The installed version on every in-service node; throws when none is in service. */
async function groupVersions(ctx: Context): Promise<{ instanceId: string; version: string }[]> {
  const nodes = await inServiceNodes(ctx, "upgrade");
  return Promise.all(
    nodes.map(async (instanceId) => ({ instanceId, version: await installedVersion(ctx, instanceId) })),
  );
}

function nodeVersions(nodes: { instanceId: string; version: string }[]): string {
  return nodes.map((node) => `${node.instanceId} ${node.version}`).join(", ");
}

function criticalSummary(findings: Finding[]): string {
  return findings
    .filter((finding) => finding.status === "CRIT")
    .map((finding) => `${finding.check} (${finding.summary})`)
    .join(", ");
}

/** The ha tier: a health gate, backup and snapshot, the version deployed by `pulumi up`, its refresh followed. */
async function upgradeGroup(ctx: Context, options: UpgradeOptions): Promise<number> {
  const deployment = await deploymentOf(ctx, options);
  const { stack, cwd } = deployment;
  const outputs = requireOutputs(ctx.outputs, "upgrade on the ha tier", [
    "hostGroupName",
    "dbInstanceIdentifier",
    "backupBucket",
    "backupPrefix",
    "url",
  ]);
  const group = outputs.hostGroupName;

  const before = await ctx.progress.step("reading the installed version on every node", () => groupVersions(ctx));
  const found = [...new Set(before.map((node) => node.version))];
  if (found.length > 1)
    throw new OpsError(
      `upgrade: the nodes run different versions (${nodeVersions(before)}); an earlier change is unfinished`,
      "see the group's instance refreshes in EC2 Auto Scaling; when it has settled, " +
        "run `openemr-ops health` and upgrade again",
    );
  const from = found[0];
  if (compareVersions(options.to, from) <= 0)
    throw new UsageError(
      `--to: ${options.to} is not newer than the installed ${from}; expected a later release ` +
        "(going back is a restore of a pre-upgrade RDS snapshot or backup, not an upgrade)",
    );

  const preflight = await collectHealth(ctx, options);
  const report = { command: "upgrade", from, to: options.to, preflight };
  if (verdictOf(preflight) === "CRIT") {
    const reason = `the health gate before the upgrade failed: ${criticalSummary(preflight)}`;
    emit(
      ctx,
      {
        ...report,
        ok: false,
        stage: "preflight",
        preUpgradeBackup: null,
        dbSnapshot: null,
        rolledBack: false,
        reason,
        gate: [],
        refresh: null,
        installed: [],
      },
      () =>
        [
          renderFindings(preflight, outputs.url),
          "",
          `Verdict: FAILED: ${reason}. Nothing was changed; fix these first, then upgrade again.`,
        ].join("\n"),
    );
    return EXIT_FAILED;
  }

  const preBackup = await takeBackup(ctx);
  const dbSnapshot = await ctx.progress.step("RDS snapshot before the upgrade", () =>
    snapshotDatabase(ctx, outputs.dbInstanceIdentifier, options.to),
  );
  const kept = { ...report, preUpgradeBackup: preBackup.id, dbSnapshot };

  const setVersion = (version: string, sha256: string | undefined) =>
    ctx.progress.step(`pulumi config set ${VERSION_KEY} ${version}`, async () => {
      await runPulumi(ctx, cwd, ["config", "set", VERSION_KEY, version, "--stack", stack]);
      if (sha256) await runPulumi(ctx, cwd, ["config", "set", SHA256_KEY, sha256, "--stack", stack]);
    });
  await setVersion(options.to, options.sha256);
  const realign =
    `\`pulumi config set ${VERSION_KEY} ${from} --stack ${stack}\`` +
    (deployment.pinnedSha256
      ? ` and \`pulumi config set ${SHA256_KEY} ${deployment.pinnedSha256} --stack ${stack}\``
      : "") +
    `, then \`pulumi up --stack ${stack}\``;

  if (!options.yes) {
    await ctx.progress.step("pulumi preview", () => runPulumi(ctx, cwd, ["preview", "--stack", stack, "--diff"]));
    const answer = (
      await ctx.io.ask(`Upgrade stack ${stack} to OpenEMR ${options.to}? Type the stack name to continue: `)
    ).trim();
    if (answer !== stack) {
      await setVersion(from, deployment.pinnedSha256);
      throw new OpsError(
        `confirmation "${answer}" does not match ${stack}; nothing was deployed and the stack config is back at ` +
          `${from} (backup ${preBackup.id} and RDS snapshot ${dbSnapshot} were kept)`,
      );
    }
  }

  const deployStarted = new Date();
  let outcome: RefreshOutcome | undefined;
  let failure: string | undefined;
  try {
    await ctx.progress.step("pulumi up", () =>
      runPulumi(ctx, cwd, ["up", "--yes", "--skip-preview", "--stack", stack]),
    );
  } catch (error) {
    if (!(error instanceof OpsError)) throw error;
    failure = error.message;
  }
  if (!failure) {
    const waitMinutes = options.waitMinutes ?? DEFAULT_REFRESH_WAIT_MINUTES;
    outcome = await ctx.progress.step(
      `following the instance refresh of ${group} (at most ${waitMinutes} min)`,
      () => followInstanceRefresh(ctx, group, deployStarted, waitMinutes * 60_000),
      (result) => result.refresh?.status ?? "none",
    );
    const refresh = outcome.refresh;
    if (!refresh)
      failure =
        `pulumi up started no instance refresh of ${group}: is the launch template unchanged ` +
        `(was ${VERSION_KEY} already ${options.to})?`;
    else if (outcome.timedOut)
      failure =
        `the instance refresh ${refresh.id} of ${group} is still ${refresh.status} ` +
        `(${refresh.percentComplete}% done) after ${waitMinutes} minutes; it may still finish: ` +
        "follow it in EC2 Auto Scaling, then run `openemr-ops health`";
    else if (refresh.status !== "Successful")
      failure =
        `the instance refresh ${refresh.id} of ${group} ended ${refresh.status}` +
        `${refresh.statusReason ? `: ${refresh.statusReason}` : ""}`;
  }
  const refresh = outcome?.refresh ?? null;
  const rolledBack = refresh?.status === "RollbackSuccessful";

  let gate: Finding[] = [];
  let installed: { instanceId: string; version: string }[] = [];
  if (!failure) {
    gate = await collectHealth(ctx, options);
    installed = await ctx.progress.step("reading the installed version on every node", () => groupVersions(ctx));
    const behind = installed.filter((node) => node.version !== options.to);
    if (verdictOf(gate) === "CRIT") failure = `the health gate after the refresh failed: ${criticalSummary(gate)}`;
    else if (behind.length) failure = `not every node runs ${options.to}: ${nodeVersions(behind)}`;
  }

  const result = { ...kept, stage: failure && !refresh ? "deploy" : failure && !gate.length ? "refresh" : "verify" };
  if (!failure) {
    emit(ctx, { ...result, ok: true, rolledBack: false, reason: null, gate, refresh, installed }, () =>
      [
        renderFindings(gate, outputs.url),
        "",
        `Verdict: OK: OpenEMR upgraded ${from} -> ${options.to} on every node of ${group} ` +
          `(${installed.map((node) => node.instanceId).join(", ")}); the stack config says ${options.to}.`,
      ].join("\n"),
    );
    return EXIT_OK;
  }
  emit(ctx, { ...result, ok: false, rolledBack, reason: failure, gate, refresh, installed }, () =>
    [
      ...(gate.length ? [renderFindings(gate, outputs.url), ""] : []),
      `Verdict: FAILED: ${failure}.` +
        (rolledBack ? ` Auto Scaling put the hosts back on the previous launch template (${from}).` : ""),
      `The database schema may already be at ${options.to} (a new host upgrades it when it boots, and a rollback ` +
        `does not undo that): if OpenEMR ${from} does not run on it, restore the RDS snapshot ${dbSnapshot} ` +
        `(\`aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${dbSnapshot} ` +
        `--db-instance-identifier <new-id>\`) or load the pre-upgrade backup ${preBackup.id} ` +
        `(s3://${outputs.backupBucket}/${outputs.backupPrefix}/${preBackup.id}/, docs/backups.md).`,
      `The stack config still says ${options.to}: to go back to ${from}, run ${realign}.`,
    ].join("\n"),
  );
  return EXIT_FAILED;
}
