// A deployed stack as AWS would describe it, through aws-sdk-client-mock: every client the
// tooling uses is mocked, answers as a healthy `standard` stack does, and can be changed
// per test. Host commands sent through SSM are answered by `host.handle`.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mockClient } from "aws-sdk-client-mock";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
  type MetricAlarm,
} from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  CreateDBSnapshotCommand,
  DescribePendingMaintenanceActionsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";

export const INSTANCE_ID = "i-0abc1234def567890";
export const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:clinic-prod-alarms";
export const BUCKET = "clinic-prod-backups-1a2b3c";
export const PREFIX = "backups/default";
export const DB_ID = "clinic-prod-db";

export function stackOutputs(url: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url,
    adminPasswordSecretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:clinic-prod-admin-AbCdEf",
    hostInstanceId: INSTANCE_ID,
    dbEndpoint: `${DB_ID}.cabc.us-east-1.rds.amazonaws.com:3306`,
    backupBucket: BUCKET,
    backupPrefix: PREFIX,
    alarmTopicArn: TOPIC_ARN,
    dashboardName: "clinic-prod",
    region: "us-east-1",
    tier: "standard",
    logGroupPrefix: "/openemr-aws/clinic-prod",
    bootstrapDocumentName: "clinic-prod-bootstrap",
    dbInstanceIdentifier: DB_ID,
    ...overrides,
  };
}

/** Writes the outputs as `pulumi stack output --json` would, and returns the file. */
export function writeOutputs(outputs: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), "ops-outputs-")), "outputs.json");
  writeFileSync(file, JSON.stringify(outputs));
  return file;
}

/** A backup id (its UTC start time) `hours` ago. */
export function backupIdAgo(hours: number): string {
  return new Date(Date.now() - hours * 3_600_000)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
}

export function manifestFor(id: string) {
  return {
    format: 1,
    id,
    stack: "clinic-prod",
    site: "default",
    started_at: new Date().toISOString(),
    finished_at: new Date().toISOString(),
    duration_seconds: 72,
    openemr_version: "8.3.0",
    db_server_version: "8.4.3",
    database: "openemr",
    parts: [
      { name: "db.sql.zst", bytes: 123456, sha256: "a".repeat(64) },
      { name: "sites.tar.zst", bytes: 654321, sha256: "b".repeat(64) },
    ],
    tables: { patient_data: 1200 },
  };
}

export interface HostReportState {
  tier: string;
  services: { apache2: string; "php-fpm": string; mariadb: string };
  disks: { path: string; used_percent: number }[];
  memory: { total_mb: number; available_mb: number };
  db: { exit_code: number; tls: boolean; output: string };
  backups: { exit_code: number; output: string };
}

export function healthyHostReport(newestBackupId: string): HostReportState {
  return {
    tier: "standard",
    services: { apache2: "active", "php-fpm": "active", mariadb: "" },
    disks: [{ path: "/", used_percent: 41 }],
    memory: { total_mb: 3900, available_mb: 2100 },
    db: { exit_code: 0, tls: true, output: "Verification: OK\nProtocol version: TLSv1.3" },
    backups: { exit_code: 0, output: JSON.stringify([{ id: newestBackupId, bytes: 777777, complete: true }]) },
  };
}

/** The line scripts/host/health.sh prints for this state. */
export function hostReportLine(state: HostReportState): string {
  const b64 = (text: string) => Buffer.from(text).toString("base64");
  return `OPENEMR-HEALTH ${JSON.stringify({
    format: 1,
    tier: state.tier,
    services: state.services,
    disks: state.disks,
    memory: state.memory,
    db: { exit_code: state.db.exit_code, tls: state.db.tls, output_b64: b64(state.db.output) },
    backups: { exit_code: state.backups.exit_code, output_b64: b64(state.backups.output) },
  })}`;
}

export interface HostAnswer {
  status?: "Success" | "Failed" | "TimedOut" | "Cancelled";
  statusDetails?: string;
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: "client", $metadata: {} });
}

/** Mocks every AWS client as a healthy `standard` stack whose newest backup is `backupAgeHours` old. */
export function mockStack(options: { backupAgeHours?: number } = {}) {
  const backupId = backupIdAgo(options.backupAgeHours ?? 3);
  const mocks = {
    ssm: mockClient(SSMClient),
    cloudwatch: mockClient(CloudWatchClient),
    logs: mockClient(CloudWatchLogsClient),
    ec2: mockClient(EC2Client),
    rds: mockClient(RDSClient),
    s3: mockClient(S3Client),
    secrets: mockClient(SecretsManagerClient),
    quotas: mockClient(ServiceQuotasClient),
    sts: mockClient(STSClient),
  };
  const host = {
    report: healthyHostReport(backupId),
    /** Scripts sent to the host, in order. */
    scripts: [] as string[],
    /** Answers a script; the default answers the health script with `report`. */
    handle: (script: string): HostAnswer =>
      script.includes("OPENEMR-HEALTH") ? { stdout: `${hostReportLine(host.report)}\n` } : { stdout: "" },
  };
  const commands = new Map<string, HostAnswer>();
  mocks.ssm
    .on(DescribeInstanceInformationCommand)
    .resolves({ InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: "Online" }] });
  mocks.ssm.on(SendCommandCommand).callsFake((input) => {
    const script = input.Parameters.commands[0] as string;
    host.scripts.push(script);
    const commandId = `cmd-${host.scripts.length}`;
    commands.set(commandId, host.handle(script));
    return { Command: { CommandId: commandId } };
  });
  mocks.ssm.on(GetCommandInvocationCommand).callsFake((input) => {
    const answer = commands.get(input.CommandId)!;
    const status = answer.status ?? ((answer.exitCode ?? 0) === 0 ? "Success" : "Failed");
    return {
      CommandId: input.CommandId,
      Status: status,
      StatusDetails: answer.statusDetails ?? status,
      ResponseCode: answer.exitCode ?? 0,
      StandardOutputContent: answer.stdout ?? "",
      StandardErrorContent: answer.stderr ?? "",
    };
  });

  const alarms: MetricAlarm[] = [
    { AlarmName: "clinic-prod-host-cpu", StateValue: "OK", AlarmActions: [TOPIC_ARN] },
    { AlarmName: "clinic-prod-backup-age", StateValue: "OK", AlarmActions: [TOPIC_ARN] },
    { AlarmName: "other-stack-cpu", StateValue: "ALARM", AlarmActions: ["arn:aws:sns:us-east-1:111122223333:other"] },
  ];
  mocks.cloudwatch.on(DescribeAlarmsCommand).callsFake(() => ({ MetricAlarms: alarms }));
  mocks.cloudwatch
    .on(GetMetricStatisticsCommand)
    .resolves({ Datapoints: [{ Timestamp: new Date(), Minimum: 35 * 1024 ** 3 }] });

  mocks.rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: DB_ID,
        DBInstanceArn: `arn:aws:rds:us-east-1:111122223333:db:${DB_ID}`,
        DBInstanceStatus: "available",
        Engine: "mysql",
        EngineVersion: "8.4.3",
        AllocatedStorage: 50,
        MaxAllocatedStorage: 200,
        MultiAZ: false,
      },
    ],
  });
  mocks.rds.on(DescribePendingMaintenanceActionsCommand).resolves({ PendingMaintenanceActions: [] });
  mocks.rds.on(CreateDBSnapshotCommand).resolves({ DBSnapshot: { Status: "creating" } });
  mocks.rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: "available" }] });

  // `backups` are complete folders, `incomplete` ones have no manifest.json yet.
  const bucket = { backups: [backupId] as string[], incomplete: [] as string[], encryption: "aws:kms" };
  const manifests = new Map<string, ReturnType<typeof manifestFor>>();
  const manifestOf = (id: string) => manifests.get(id) ?? manifestFor(id);
  mocks.s3.on(ListObjectsV2Command).callsFake(() => ({
    // Stored sizes are the ones a backup really has; a test may change what its manifest claims.
    Contents: [
      ...bucket.backups.flatMap((id) => [
        ...manifestFor(id).parts.map((part) => ({ Key: `${PREFIX}/${id}/${part.name}`, Size: part.bytes })),
        { Key: `${PREFIX}/${id}/manifest.json`, Size: 900 },
      ]),
      ...bucket.incomplete.map((id) => ({ Key: `${PREFIX}/${id}/db.sql.zst`, Size: 4096 })),
    ],
  }));
  mocks.s3.on(GetObjectCommand).callsFake((input) => {
    const id = String(input.Key).split("/").slice(-2)[0];
    return { Body: { transformToString: async () => JSON.stringify(manifestOf(id)) } };
  });
  mocks.s3.on(HeadObjectCommand).callsFake(() => ({ ServerSideEncryption: bucket.encryption }));

  return {
    mocks,
    host,
    alarms,
    bucket,
    manifests,
    backupId,
    reset: () => Object.values(mocks).forEach((mock) => mock.restore()),
  };
}
