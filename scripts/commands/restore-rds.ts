// `restore --to-time` on the `standard` tier: RDS's own point-in-time restore, always to a
// NEW instance beside the stack's (RDS cannot restore in place). The new instance gets the
// source's network, parameter group, TLS and protection settings; its KMS key is the source's
// by RDS's rule (a restore cannot choose one) and is checked. Nothing on the host is switched:
// the command ends by printing how to point the host at the new instance and how to go back.
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
} from "@aws-sdk/client-rds";
import { quote } from "zx";
import { sleep, type Context } from "../lib/context";
import { awsCall, EXIT_FAILED, EXIT_OK, OpsError } from "../lib/errors";
import { emit, renderTable } from "../lib/printing";
import { requireOutputs } from "../lib/stack-outputs";

/** Statuses from which an instance being restored never becomes available. */
const DEAD_ENDS = new Set([
  "failed",
  "incompatible-restore",
  "incompatible-parameters",
  "incompatible-network",
  "inaccessible-encryption-credentials",
  "inaccessible-encryption-credentials-recoverable",
  "storage-full",
  "deleting",
  "deleted",
]);

/** RDS polls are slower than SSM's: one every ten of the CLI's poll intervals (30 s by default). */
const POLLS_PER_RDS_POLL = 10;
/** A progress line at least this often while the status stays the same. */
const PROGRESS_EVERY_MS = 5 * 60_000;

export interface RdsRestoreOptions {
  /** `YYYY-MM-DDTHH:MM:SSZ`, already checked to be in the past. */
  toTime: string;
  /** Longest wait for the new instance to become available. */
  waitMinutes: number;
}

interface SettingCheck {
  name: string;
  source: string | null;
  restored: string | null;
}

/** `clinic-prod-db` restored to 2026-11-30T14:05:00Z: `clinic-prod-db-pitr-202611301405`. */
export function pitrInstanceId(source: string, toTime: string): string {
  const id = `${source}-pitr-${toTime.replace(/[-:T]/g, "").slice(0, 12)}`;
  if (id.length > 63)
    throw new OpsError(
      `the new instance's name ${id} is longer than RDS's 63 characters`,
      "restore it by hand with `aws rds restore-db-instance-to-point-in-time` and a shorter name",
    );
  return id;
}

export async function restoreRdsToTime(ctx: Context, options: RdsRestoreOptions): Promise<number> {
  const outputs = requireOutputs(ctx.outputs, "restore --to-time (standard tier)", [
    "dbInstanceIdentifier",
    "hostInstanceId",
    "bootstrapDocumentName",
  ]);
  const sourceId = outputs.dbInstanceIdentifier;
  const target = pitrInstanceId(sourceId, options.toTime);
  const source = await ctx.progress.step(`reading RDS instance ${sourceId}`, async () => {
    const found = await describeInstance(ctx, sourceId);
    if (!found) throw new OpsError(`RDS instance ${sourceId} (stack output dbInstanceIdentifier) does not exist`);
    return found;
  });
  const window = await ctx.progress.step("checking the restorable window", () =>
    restorableWindow(ctx, source, options.toTime),
  );
  const existing = await describeInstance(ctx, target);
  if (existing)
    throw new OpsError(
      `RDS instance ${target} already exists (${existing.DBInstanceStatus}): ` +
        "a restore to this minute was started before",
      `wait for it with \`aws rds wait db-instance-available --db-instance-identifier ${target}\`, ` +
        "or delete it and run this again",
    );

  await ctx.progress.step(`starting the restore of ${sourceId} to ${options.toTime} as ${target}`, () =>
    awsCall("RDS RestoreDBInstanceToPointInTime", () =>
      ctx.aws.rds.send(new RestoreDBInstanceToPointInTimeCommand(restoreInput(source, target, options.toTime))),
    ),
  );
  const restored = await ctx.progress.step(
    `waiting for ${target} to be available (at most ${options.waitMinutes} min)`,
    () => waitAvailable(ctx, target, options.waitMinutes * 60_000),
    (instance) => (instance?.DBInstanceStatus === "available" ? "ok" : "WAIT"),
  );

  const status = restored?.DBInstanceStatus ?? "creating";
  const available = status === "available";
  const settings = available ? compareSettings(source, restored!) : [];
  const differing = settings.filter((setting) => setting.source !== setting.restored);
  const ok = available && differing.length === 0;
  const endpoint = restored?.Endpoint?.Address ?? null;
  const port = restored?.Endpoint?.Port ?? null;
  const region = typeof ctx.outputs.region === "string" && ctx.outputs.region ? ctx.outputs.region : undefined;
  const steps = available && endpoint ? switchSteps({ ...outputs, region, source, target, endpoint }) : [];
  emit(
    ctx,
    {
      command: "restore",
      ok,
      target: "rds-instance",
      toTime: options.toTime,
      sourceInstance: sourceId,
      instance: target,
      status,
      endpoint,
      port,
      restoreWindow: window,
      settings,
      settingsLine: endpoint ? `DB_HOST=${endpoint}` : null,
    },
    () =>
      [
        ...(settings.length
          ? [
              renderTable(
                ["SETTING", sourceId.toUpperCase(), target.toUpperCase(), ""],
                settings.map((setting) => [
                  setting.name,
                  setting.source ?? "-",
                  setting.restored ?? "-",
                  setting.source === setting.restored ? "same" : "DIFFERS",
                ]),
              ),
              "",
            ]
          : []),
        ...steps,
        !available
          ? `Verdict: FAILED: ${target} is ${status} after ${options.waitMinutes} min; ` +
            (DEAD_ENDS.has(status)
              ? `RDS could not restore it: see its events (\`aws rds describe-events --source-identifier ${target} ` +
                "--source-type db-instance`) and delete it"
              : "it may still become available: " +
                `\`aws rds wait db-instance-available --db-instance-identifier ${target}\``)
          : differing.length
            ? `Verdict: FAILED: ${target} is available at ${endpoint}:${port} but differs from ${sourceId} in ` +
              `${differing.map((setting) => setting.name).join(", ")}: fix that before pointing the host at it`
            : `Verdict: OK: ${sourceId} restored to ${options.toTime} as ${target} at ${endpoint}:${port}; ` +
              "the host still uses " +
              sourceId,
      ].join("\n"),
  );
  return ok ? EXIT_OK : EXIT_FAILED;
}

async function describeInstance(ctx: Context, id: string): Promise<DBInstance | undefined> {
  try {
    const answer = await ctx.aws.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }));
    return answer.DBInstances?.find((instance) => instance.DBInstanceIdentifier === id);
  } catch (error) {
    if ((error as { name?: string }).name === "DBInstanceNotFoundFault") return undefined;
    return awsCall("RDS DescribeDBInstances", () => Promise.reject(error as Error));
  }
}

/** The restorable window; the time must lie inside it, else the error says which end it misses. */
async function restorableWindow(
  ctx: Context,
  source: DBInstance,
  toTime: string,
): Promise<{ earliest: string; latest: string }> {
  const id = source.DBInstanceIdentifier!;
  const answer = await awsCall("RDS DescribeDBInstanceAutomatedBackups", () =>
    ctx.aws.rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: id })),
  );
  const current = (answer.DBInstanceAutomatedBackups ?? []).find(
    (backup) => backup.DbiResourceId === source.DbiResourceId || backup.Status === "active",
  );
  const earliest = current?.RestoreWindow?.EarliestTime;
  const latest = source.LatestRestorableTime ?? current?.RestoreWindow?.LatestTime;
  if (!earliest || !latest || !source.BackupRetentionPeriod)
    throw new OpsError(
      `RDS instance ${id} has no restorable window (automated backups: ` +
        `${source.BackupRetentionPeriod ? `kept ${source.BackupRetentionPeriod} days, none listed` : "off"})`,
      "restore a logical backup instead: `openemr-ops restore --backup ID`",
    );
  const at = Date.parse(toTime);
  const iso = (date: Date) => date.toISOString().replace(/\.\d+Z$/, "Z");
  if (at > latest.getTime())
    throw new OpsError(
      `--to-time ${toTime} is after ${id}'s latest restorable time ${iso(latest)} ` +
        "(RDS uploads its transaction logs every 5 minutes)",
      `choose a time at or before ${iso(latest)}, or wait a few minutes and run this again`,
    );
  if (at < earliest.getTime())
    throw new OpsError(
      `--to-time ${toTime} is before ${id}'s earliest restorable time ${iso(earliest)} ` +
        `(automated backups are kept ${source.BackupRetentionPeriod} days)`,
      `choose a time at or after ${iso(earliest)}, or restore an older logical backup: \`openemr-ops backups\``,
    );
  return { earliest: iso(earliest), latest: iso(latest) };
}

/**
 * The source's own settings, so the new instance is reachable by the host alone, on the same
 * parameter group (TLS required) and CA, as protected, and no bigger or smaller. A source
 * without a subnet group or security groups is refused rather than restored with defaults
 * (the default VPC, the default security group).
 */
function restoreInput(source: DBInstance, target: string, toTime: string) {
  const id = source.DBInstanceIdentifier!;
  const subnetGroup = source.DBSubnetGroup?.DBSubnetGroupName;
  const securityGroups = (source.VpcSecurityGroups ?? []).flatMap((group) =>
    group.VpcSecurityGroupId ? [group.VpcSecurityGroupId] : [],
  );
  const parameterGroup = source.DBParameterGroups?.[0]?.DBParameterGroupName;
  const missing = !subnetGroup ? "subnet group" : securityGroups.length === 0 ? "VPC security group" : undefined;
  if (missing || !parameterGroup)
    throw new OpsError(
      `RDS instance ${id} shows no ${missing ?? "parameter group"}; ` +
        "refusing to restore a copy of it with RDS's defaults",
    );
  const provisionedIops = source.StorageType === "io1" || source.StorageType === "io2";
  return {
    SourceDBInstanceIdentifier: id,
    TargetDBInstanceIdentifier: target,
    RestoreTime: new Date(toTime),
    DBInstanceClass: source.DBInstanceClass,
    Port: source.Endpoint?.Port ?? source.DbInstancePort,
    DBSubnetGroupName: subnetGroup,
    VpcSecurityGroupIds: securityGroups,
    DBParameterGroupName: parameterGroup,
    OptionGroupName: source.OptionGroupMemberships?.[0]?.OptionGroupName,
    CACertificateIdentifier: source.CACertificateIdentifier,
    DeletionProtection: source.DeletionProtection,
    PubliclyAccessible: false,
    MultiAZ: source.MultiAZ,
    StorageType: source.StorageType,
    // gp3 below its threshold refuses explicit IOPS and throughput; only provisioned IOPS carry over.
    Iops: provisionedIops ? source.Iops : undefined,
    MaxAllocatedStorage: source.MaxAllocatedStorage,
    AutoMinorVersionUpgrade: source.AutoMinorVersionUpgrade,
    CopyTagsToSnapshot: source.CopyTagsToSnapshot,
    BackupRetentionPeriod: source.BackupRetentionPeriod,
    EnableCloudwatchLogsExports: source.EnabledCloudwatchLogsExports,
    EnableIAMDatabaseAuthentication: source.IAMDatabaseAuthenticationEnabled,
    Tags: [
      ...(source.TagList ?? []).filter((tag) => tag.Key && !tag.Key.startsWith("aws:")),
      { Key: "openemr-aws:restored-from", Value: id },
      { Key: "openemr-aws:restored-to-time", Value: toTime },
    ],
  };
}

async function waitAvailable(ctx: Context, id: string, waitMs: number): Promise<DBInstance | undefined> {
  const started = Date.now();
  let shown = "";
  let shownAt = started;
  let instance: DBInstance | undefined;
  for (;;) {
    instance = await describeInstance(ctx, id);
    const status = instance?.DBInstanceStatus ?? "not yet listed";
    const elapsed = Date.now() - started;
    if (status !== shown || Date.now() - shownAt >= PROGRESS_EVERY_MS) {
      ctx.progress.line(`${id}: ${status} (${Math.round(elapsed / 60_000)} min)`);
      shown = status;
      shownAt = Date.now();
    }
    if (status === "available" || DEAD_ENDS.has(status) || elapsed >= waitMs) return instance;
    await sleep(ctx.pollIntervalMs * POLLS_PER_RDS_POLL);
  }
}

function compareSettings(source: DBInstance, restored: DBInstance): SettingCheck[] {
  const text = (value: string | boolean | (string | undefined)[] | undefined): string | null =>
    value === undefined ? null : Array.isArray(value) ? [...value].sort().join(",") : String(value);
  const pick = (instance: DBInstance) => ({
    "subnet group": instance.DBSubnetGroup?.DBSubnetGroupName,
    "security groups": (instance.VpcSecurityGroups ?? []).map((group) => group.VpcSecurityGroupId),
    "parameter group": instance.DBParameterGroups?.[0]?.DBParameterGroupName,
    "storage encrypted": instance.StorageEncrypted,
    "KMS key": instance.KmsKeyId,
    "deletion protection": instance.DeletionProtection,
    "CA certificate": instance.CACertificateIdentifier,
    "publicly accessible": instance.PubliclyAccessible,
    "instance class": instance.DBInstanceClass,
    "engine version": instance.EngineVersion,
  });
  const before = pick(source);
  const after = pick(restored);
  return (Object.keys(before) as (keyof typeof before)[]).map((name) => ({
    name,
    source: text(before[name]),
    restored: text(after[name]),
  }));
}

/**
 * What to do next, printed, never done: the host keeps the stack's instance until the operator
 * points it at the new one. The stack's SSM document rewrites settings.env as the stack
 * declares it, so it is the way back, not the way there.
 */
function switchSteps(args: {
  hostInstanceId: string;
  bootstrapDocumentName: string;
  region?: string;
  source: DBInstance;
  target: string;
  endpoint: string;
}): string[] {
  const region = args.region ? ` --region ${args.region}` : "";
  const sourceId = args.source.DBInstanceIdentifier!;
  const sourceEndpoint = args.source.Endpoint?.Address ?? "(the old endpoint)";
  const onHost = [
    "bash -eu <<'SWITCH'",
    `new=${quote(args.endpoint)}`,
    "site=$(sed -n 's/^OPENEMR_SITE=//p' /etc/openemr-aws/settings.env)",
    "cp -p /etc/openemr-aws/settings.env /etc/openemr-aws/settings.env.before-pitr",
    `sed -i "s|^DB_HOST=.*|DB_HOST=$new|" /etc/openemr-aws/settings.env`,
    "/opt/openemr-aws/bin/openemr-bootstrap",
    "cp -p /var/www/openemr/sites/$site/sqlconf.php /var/www/openemr/sites/$site/sqlconf.php.before-pitr",
    `sed -i "s|^\\$host[[:space:]]*=.*|\\$host = '$new';|" /var/www/openemr/sites/$site/sqlconf.php`,
    "systemctl restart php8.4-fpm",
    "SWITCH",
  ];
  return [
    `The host still uses ${sourceId}: nothing was switched. To point it at ${args.target}:`,
    "",
    `1. On the host as root (\`aws ssm start-session${region} --target ${args.hostInstanceId}\`, then \`sudo -i\`),`,
    "   run the lines below. settings.env gets the line",
    `     DB_HOST=${args.endpoint}`,
    "   the bootstrap connects to it over TLS and sets the accounts' passwords from their secrets,",
    "   and OpenEMR's sqlconf.php follows (each file's previous copy is kept as .before-pitr):",
    "",
    ...onHost.map((line) => `     ${line}`),
    "",
    `   If the bootstrap says access denied for the master user, ${sourceId}'s master password`,
    "   (Secrets Manager, rotated by RDS) changed after the restore time: give the new instance the",
    "   secret's current one (`aws rds modify-db-instance --db-instance-identifier " + args.target,
    "   --master-user-password ... --apply-immediately`) and run the bootstrap again.",
    "2. `openemr-ops health`, then check in OpenEMR that the data is as it was at the restore time.",
    `3. The stack still declares ${sourceId}: its SSM document and \`pulumi up\` rewrite settings.env`,
    `   with DB_HOST=${sourceEndpoint}. Re-running the document is the way back`,
    `     aws ssm send-command${region} --document-name ${args.bootstrapDocumentName} ` +
      `--instance-ids ${args.hostInstanceId}`,
    "   (then put sqlconf.php.before-pitr back and restart php8.4-fpm). To keep the new instance,",
    "   make the stack declare it before the next deploy.",
    `4. ${args.target} is billed like ${sourceId} until it is deleted, and ${sourceId} is kept`,
    "   as it was: delete the one you no longer need (deletion protection is on: turn it off first).",
    "",
  ];
}
