// What AWS says about the stack: its CloudWatch alarms, the RDS instance and the backup bucket.
import {
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  type MetricAlarm,
  type CompositeAlarm,
} from "@aws-sdk/client-cloudwatch";
import { DescribeDBInstancesCommand, DescribePendingMaintenanceActionsCommand } from "@aws-sdk/client-rds";
import type { Finding } from "../lib/checks";
import type { Context } from "../lib/context";
import { awsCall } from "../lib/errors";
import {
  ageHours,
  BACKUP_AGE_CRIT_HOURS,
  BACKUP_AGE_WARN_HOURS,
  listStoredBackups,
  manifestKey,
  objectEncryption,
  readManifest,
  verifyAgainstManifest,
} from "../lib/backups";
import { formatAge, formatBytes } from "../lib/printing";

/** The stack's alarms are those that notify its SNS topic; ALARM is CRIT, INSUFFICIENT_DATA is WARN. */
export async function alarmFindings(ctx: Context, alarmTopicArn: string): Promise<Finding[]> {
  const alarms: (MetricAlarm | CompositeAlarm)[] = [];
  let token: string | undefined;
  do {
    const page = await awsCall("CloudWatch DescribeAlarms", () =>
      ctx.aws.cloudwatch.send(
        new DescribeAlarmsCommand({ AlarmTypes: ["MetricAlarm", "CompositeAlarm"], NextToken: token }),
      ),
    );
    alarms.push(...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? []));
    token = page.NextToken;
  } while (token);
  const ours = alarms.filter((alarm) =>
    [...(alarm.AlarmActions ?? []), ...(alarm.InsufficientDataActions ?? [])].includes(alarmTopicArn),
  );
  const findings: Finding[] = ours
    .filter((alarm) => alarm.StateValue === "ALARM" || alarm.StateValue === "INSUFFICIENT_DATA")
    .map((alarm) => ({
      check: `alarm.${alarm.AlarmName}`,
      status: alarm.StateValue === "ALARM" ? "CRIT" : "WARN",
      summary: `${alarm.AlarmName} is ${alarm.StateValue}`,
      evidence: { reason: alarm.StateReason, since: alarm.StateUpdatedTimestamp?.toISOString() },
      action:
        alarm.StateValue === "ALARM"
          ? "read the alarm's reason (its evidence) and the stack's dashboard"
          : "the alarm has no data: the metric's source (agent, backup timer) may be stopped",
    }));
  if (ours.length === 0)
    return [
      {
        check: "alarms",
        status: "WARN",
        summary: "no CloudWatch alarm notifies this stack's topic",
        evidence: { alarmTopicArn },
        action: "the stack's alarms are missing: run `pulumi up`",
      },
    ];
  return findings.length
    ? findings
    : [
        {
          check: "alarms",
          status: "OK",
          summary: `${ours.length} alarms, none firing`,
          evidence: { watched: ours.length },
        },
      ];
}

export const RDS_FREE_WARN_PERCENT = 20;
export const RDS_FREE_CRIT_PERCENT = 10;

/** RDS (`standard`): status, storage headroom and pending maintenance. */
export async function rdsFindings(ctx: Context, dbInstanceIdentifier: string): Promise<Finding[]> {
  const described = await awsCall("RDS DescribeDBInstances", () =>
    ctx.aws.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: dbInstanceIdentifier })),
  );
  const db = described.DBInstances?.[0];
  if (!db)
    return [
      {
        check: "rds.status",
        status: "CRIT",
        summary: `RDS instance ${dbInstanceIdentifier} not found`,
        evidence: {},
        action: "check the stack outputs and the region",
      },
    ];
  const findings: Finding[] = [];
  const status = db.DBInstanceStatus ?? "unknown";
  const busy = [
    "backing-up",
    "modifying",
    "maintenance",
    "upgrading",
    "configuring-enhanced-monitoring",
    "storage-optimization",
  ];
  findings.push({
    check: "rds.status",
    status: status === "available" ? "OK" : busy.includes(status) ? "WARN" : "CRIT",
    summary: `RDS ${dbInstanceIdentifier} is ${status}`,
    evidence: { status, engine: `${db.Engine} ${db.EngineVersion}`, multiAz: db.MultiAZ },
    ...(status === "available" ? {} : { action: "see the instance's events in the RDS console" }),
  });

  const now = new Date();
  const metric = await awsCall("CloudWatch GetMetricStatistics", () =>
    ctx.aws.cloudwatch.send(
      new GetMetricStatisticsCommand({
        Namespace: "AWS/RDS",
        MetricName: "FreeStorageSpace",
        Dimensions: [{ Name: "DBInstanceIdentifier", Value: dbInstanceIdentifier }],
        StartTime: new Date(now.getTime() - 30 * 60_000),
        EndTime: now,
        Period: 300,
        Statistics: ["Minimum"],
      }),
    ),
  );
  const latest = [...(metric.Datapoints ?? [])].sort(
    (a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0),
  )[0];
  const allocatedBytes = (db.AllocatedStorage ?? 0) * 1024 ** 3;
  if (latest?.Minimum === undefined || allocatedBytes === 0) {
    findings.push({
      check: "rds.storage",
      status: "WARN",
      summary: "no FreeStorageSpace data in the last 30 minutes",
      evidence: { allocatedGb: db.AllocatedStorage },
      action: "check the instance in the RDS console",
    });
  } else {
    const freePercent = Math.round((latest.Minimum / allocatedBytes) * 100);
    // Storage autoscaling grows the volume up to MaxAllocatedStorage: low space is then a warning.
    const canGrow = (db.MaxAllocatedStorage ?? 0) > (db.AllocatedStorage ?? 0);
    const status =
      freePercent < RDS_FREE_CRIT_PERCENT && !canGrow ? "CRIT" : freePercent < RDS_FREE_WARN_PERCENT ? "WARN" : "OK";
    findings.push({
      check: "rds.storage",
      status,
      summary: `${freePercent}% of ${db.AllocatedStorage} GiB free`,
      evidence: { freeBytes: latest.Minimum, allocatedGb: db.AllocatedStorage, maxAllocatedGb: db.MaxAllocatedStorage },
      ...(status === "OK" ? {} : { action: "raise `dbMaxStorageGb` (or `dbStorageGb`) and run `pulumi up`" }),
    });
  }

  const pending = await awsCall("RDS DescribePendingMaintenanceActions", () =>
    ctx.aws.rds.send(new DescribePendingMaintenanceActionsCommand({ ResourceIdentifier: db.DBInstanceArn })),
  );
  const actions = (pending.PendingMaintenanceActions ?? []).flatMap(
    (resource) => resource.PendingMaintenanceActionDetails ?? [],
  );
  findings.push(
    actions.length === 0
      ? { check: "rds.maintenance", status: "OK", summary: "no pending maintenance", evidence: {} }
      : {
          check: "rds.maintenance",
          status: "WARN",
          summary: `${actions.length} pending: ${actions.map((action) => action.Action).join(", ")}`,
          evidence: {
            actions: actions.map((action) => ({
              action: action.Action,
              description: action.Description,
              autoAppliedAfter: action.AutoAppliedAfterDate?.toISOString(),
              forcedApplyDate: action.ForcedApplyDate?.toISOString(),
            })),
          },
          action: "it applies in the maintenance window; apply earlier from the RDS console after a backup",
        },
  );
  return findings;
}

/** The backup bucket: the newest complete backup's age, size and encryption. */
export async function bucketFindings(
  ctx: Context,
  bucket: string,
  prefix: string,
  now = new Date(),
): Promise<Finding[]> {
  const backups = await listStoredBackups(ctx, bucket, prefix);
  const newest = backups.find((backup) => backup.complete);
  if (!newest)
    return [
      {
        check: "bucket.backup",
        status: "CRIT",
        summary: `no complete backup in s3://${bucket}/${prefix}/`,
        evidence: { folders: backups.length },
        action: "run `openemr-ops backup` and check the host's backup timer",
      },
    ];
  const manifest = await readManifest(ctx, bucket, prefix, newest.id);
  const hours = ageHours(newest.startedAt, now);
  const mismatches = verifyAgainstManifest(newest, manifest);
  const encryption = await objectEncryption(ctx, bucket, manifestKey(prefix, newest.id));
  const evidence = {
    newest: newest.id,
    ageHours: Math.round(hours * 10) / 10,
    bytes: newest.bytes,
    encryption,
    mismatches,
  };
  const findings: Finding[] = [];
  if (hours > BACKUP_AGE_CRIT_HOURS)
    findings.push({
      check: "bucket.backup",
      status: "CRIT",
      summary: `newest backup is ${formatAge(hours)} old`,
      evidence,
      action: "backups have stopped: run `openemr-ops backup` and check the host's backup timer",
    });
  else if (hours > BACKUP_AGE_WARN_HOURS)
    findings.push({
      check: "bucket.backup",
      status: "WARN",
      summary: `newest backup is ${formatAge(hours)} old`,
      evidence,
      action: "the daily backup is late: check the host's backup timer",
    });
  else if (mismatches.length)
    findings.push({
      check: "bucket.backup",
      status: "CRIT",
      summary: `newest backup does not match its manifest: ${mismatches.join("; ")}`,
      evidence,
      action: "run `openemr-ops backup` and `openemr-ops drill`",
    });
  else
    findings.push({
      check: "bucket.backup",
      status: "OK",
      summary: `newest backup ${formatAge(hours)} old, ${formatBytes(newest.bytes)}`,
      evidence,
    });
  findings.push(
    encryption === "aws:kms"
      ? { check: "bucket.encryption", status: "OK", summary: "backups encrypted with KMS", evidence: { encryption } }
      : {
          check: "bucket.encryption",
          status: "CRIT",
          summary: `newest backup encrypted with ${encryption}, not KMS`,
          evidence: { encryption },
          action:
            "the host must upload with SSE-KMS (BACKUP_KMS_KEY_ID); " +
            "check settings.env and the bucket's default encryption",
        },
  );
  return findings;
}
