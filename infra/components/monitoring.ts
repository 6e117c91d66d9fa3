// Alarms on everything that can take OpenEMR down or lose its data, an encrypted SNS topic that
// e-mails them, and a dashboard drawn from the same alarm definitions.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import { type AwsConstraint, derivedNameProblem, STACK_NAME } from "../constraint";
import { dataMount } from "./host";

/** Namespace and metrics the host's backup and restore-drill scripts publish (docs/host-interface.md). */
export const BACKUP_METRICS_NAMESPACE = "OpenEMR";

/**
 * Alarm when the database holds more connections than this. MySQL's default max_connections on
 * db.t4g.medium is about 340 (DBInstanceClassMemory / 12582880); one host's PHP-FPM pool stays
 * far below, so this many means connections are leaking or piling up.
 */
const DB_CONNECTIONS_THRESHOLD = 200;
/** Alarm when the database has less free memory than this (bytes). */
const DB_FREEABLE_MEMORY_BYTES = 256 * 1024 * 1024;
/** Alarm when free database storage falls under this share of the allocated storage. */
const DB_FREE_STORAGE_SHARE = 0.1;
const GIB = 1024 * 1024 * 1024;
/** EFS burst credits, in bytes, below which throughput is an hour or so from its baseline. */
const EFS_BURST_CREDITS_LOW_BYTES = 100 * GIB;

export interface MonitoringArgs {
  /**
   * Prefix of the topic, alarm and dashboard names, and the `Stack` dimension of the backup
   * metrics (the stack name).
   */
  namePrefix: string;
  /**
   * Region of the alarmed resources (the EC2 recover action and the dashboard name it). Defaults
   * to the provider's region, where the alarms are created.
   */
  region?: pulumi.Input<string>;
  /** Customer KMS key ARN (the `alerts` key) that encrypts the topic. */
  alertsKeyArn: pulumi.Input<string>;
  /**
   * Addresses subscribed to the topic; each must confirm AWS's e-mail. Defaults to the stack's
   * `alertEmails`, none: there is no address to assume, and the topic (`topicArn`) takes any
   * subscription later.
   */
  alertEmails?: string[];
  /** The OpenEMR host (`single`, `standard`). */
  hostInstanceId?: pulumi.Input<string>;
  /**
   * The `ha` tier's hosts: their Auto Scaling group and the fewest hosts it keeps in service. Their
   * memory and disks are alarmed on the group's name, which their CloudWatch agent publishes under.
   */
  hostGroup?: { name: pulumi.Input<string>; minSize: number };
  /** The `ha` tier's EFS file system (`sites/`) and its throughput mode, which decides its alarm. */
  sharedFiles?: { fileSystemId: pulumi.Input<string>; throughputMode: "elastic" | "bursting" };
  /**
   * The NAT instance (`natGateway: instance`): EC2 recovers it when its hardware fails and reboots
   * it when its operating system does, as nothing else would bring the way out back.
   */
  natInstanceId?: pulumi.Input<string>;
  /**
   * Mount points whose disk use is alarmed (on the host, or on each host of the group). Defaults to
   * those the Host component's CloudWatch agent reports (docs/host-interface.md): `/`, and without
   * `database` (the `single` tier) the data volume's mount too.
   */
  diskPaths?: string[];
  /** The RDS instance (`standard` tier). */
  database?: {
    /** DB instance identifier. */
    identifier: pulumi.Input<string>;
    /** Allocated storage in GiB; the free-storage alarm is relative to it. */
    allocatedStorageGb: number;
    /** Multi-AZ (`ha`): its failover, failure and notification events reach the topic. */
    multiAz?: boolean;
  };
  /** ALB ARN suffix (`app/<name>/<id>`), the ALB metrics' dimension. */
  loadBalancerArnSuffix: pulumi.Input<string>;
  /** Target group ARN suffix (`targetgroup/<name>/<id>`). */
  targetGroupArnSuffix: pulumi.Input<string>;
  /** ACM certificate of the HTTPS listener. */
  certificateArn: pulumi.Input<string>;
  /** AWS Backup vault of the snapshots. */
  backupVaultName: pulumi.Input<string>;
  /**
   * Alarm when the host's binary log shipping (`BinlogShipSuccess`, every four minutes) stops.
   * Defaults to true without `database` (the `single` tier, whose MariaDB on the host ships its
   * binary log); RDS keeps its own.
   */
  binlogShipping?: boolean;
  /**
   * Declare the CloudWatch dashboard of the alarms. Defaults to the stack's `dashboard`, true.
   * Without it `dashboardName` is "" and the alarms, which are the control, are unchanged.
   */
  dashboard?: boolean;
}

/** The args with every default applied. */
type MonitoringSettings = MonitoringArgs &
  Required<Pick<MonitoringArgs, "region" | "alertEmails" | "diskPaths" | "binlogShipping">>;

/** One alarm, described once: the alarm and its dashboard widget are both made from it. */
interface AlarmSpec {
  /** Suffix of the alarm name and its logical name. */
  id: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic?: "Average" | "Sum" | "Minimum" | "Maximum";
  extendedStatistic?: string;
  period: number;
  evaluationPeriods: number;
  /** Breaching periods (of `evaluationPeriods`) that raise the alarm; all of them when omitted. */
  datapointsToAlarm?: number;
  comparisonOperator: "GreaterThanOrEqualToThreshold" | "GreaterThanThreshold" | "LessThanThreshold";
  threshold: number;
  treatMissingData: "breaching" | "notBreaching" | "missing";
  /** Actions besides the topic (the EC2 recover action). */
  extraAlarmActions?: pulumi.Input<string>[];
}

export class Monitoring extends pulumi.ComponentResource {
  public readonly topicArn: pulumi.Output<string>;
  /** Name of the dashboard; "" when `dashboard` is false. */
  public readonly dashboardName: pulumi.Output<string>;

  constructor(name: string, given: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:monitoring:Monitoring", name, {}, opts);
    const child = { parent: this };
    const args: MonitoringSettings = {
      ...given,
      region: given.region ?? aws.getRegionOutput({}, child).region,
      alertEmails: given.alertEmails ?? configDefault("alertEmails"),
      diskPaths: given.diskPaths ?? (given.database ? ["/"] : ["/", dataMount]),
      binlogShipping: given.binlogShipping ?? !given.database,
    };
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const partition = aws.getPartitionOutput({}, child).partition;

    const topic = new aws.sns.Topic(
      `${name}-alarms`,
      { name: alarmTopicName(args.namePrefix), kmsMasterKeyId: args.alertsKeyArn },
      child,
    );
    new aws.sns.TopicPolicy(
      `${name}-alarms`,
      {
        arn: topic.arn,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "AlarmsAndBackupNotificationsFromThisAccount",
              Effect: "Allow",
              Principal: { Service: ["cloudwatch.amazonaws.com", "backup.amazonaws.com", "events.amazonaws.com"] },
              Action: "sns:Publish",
              Resource: topic.arn,
              Condition: { StringEquals: { "aws:SourceAccount": accountId } },
            },
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "sns:Publish",
              Resource: topic.arn,
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      child,
    );
    args.alertEmails.forEach((email, index) => {
      new aws.sns.TopicSubscription(
        `${name}-email-${index}`,
        { topic: topic.arn, protocol: "email", endpoint: email },
        child,
      );
    });

    if (args.database?.multiAz) {
      // RDS's own events for the instance, through EventBridge as the backup job failures are:
      // the topic and its key already admit events.amazonaws.com (an RDS event subscription
      // would need events.rds.amazonaws.com admitted to the alerts key too). A Multi-AZ instance's
      // standby is not readable and has no replica lag to alarm on: these events are its signal.
      // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Events.Messages.html
      const databaseEvents = new aws.cloudwatch.EventRule(
        `${name}-db-events`,
        {
          description: "The OpenEMR database's failover, failure and notification events",
          eventPattern: pulumi.jsonStringify({
            source: ["aws.rds"],
            "detail-type": ["RDS DB Instance Event"],
            detail: {
              SourceIdentifier: [args.database.identifier],
              EventCategories: ["failover", "failure", "notification"],
            },
          }),
        },
        child,
      );
      new aws.cloudwatch.EventTarget(`${name}-db-events`, { rule: databaseEvents.name, arn: topic.arn }, child);
    }

    const specs = alarmSpecs(args, partition);
    const alarms = specs.map(
      (spec) =>
        new aws.cloudwatch.MetricAlarm(
          `${name}-${spec.id}`,
          {
            name: `${args.namePrefix}-openemr-${spec.id}`,
            alarmDescription: spec.description,
            namespace: spec.namespace,
            metricName: spec.metricName,
            dimensions: spec.dimensions,
            statistic: spec.statistic,
            extendedStatistic: spec.extendedStatistic,
            period: spec.period,
            evaluationPeriods: spec.evaluationPeriods,
            datapointsToAlarm: spec.datapointsToAlarm ?? spec.evaluationPeriods,
            comparisonOperator: spec.comparisonOperator,
            threshold: spec.threshold,
            treatMissingData: spec.treatMissingData,
            alarmActions: [...(spec.extraAlarmActions ?? []), topic.arn],
            okActions: [topic.arn],
          },
          child,
        ),
    );

    const dashboardName =
      (given.dashboard ?? configDefault("dashboard"))
        ? new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
              dashboardName: dashboardNameFor(args.namePrefix),
              dashboardBody: dashboardBody(args.region, specs, alarms),
            },
            child,
          ).dashboardName
        : pulumi.output("");

    this.topicArn = topic.arn;
    this.dashboardName = dashboardName;
    this.registerOutputs({ topicArn: this.topicArn, dashboardName: this.dashboardName });
  }
}

/** EC2's own action on an instance, from an alarm: recover it onto healthy hardware, or reboot it. */
function ec2AlarmAction(args: MonitoringSettings, partition: pulumi.Output<string>, action: "recover" | "reboot") {
  return pulumi.interpolate`arn:${partition}:automate:${args.region}:ec2:${action}`;
}

/** An instance's EC2 status check (`System`: AWS's hardware; `Instance`: its OS) failing for `minutes`. */
function statusCheckAlarm(
  id: string,
  check: "System" | "Instance",
  dimensions: AlarmSpec["dimensions"],
  minutes: number,
  action: pulumi.Output<string> | undefined,
  description: string,
): AlarmSpec {
  return {
    id,
    description,
    namespace: "AWS/EC2",
    metricName: `StatusCheckFailed_${check}`,
    dimensions,
    statistic: "Maximum",
    period: 60,
    evaluationPeriods: minutes,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    threshold: 1,
    treatMissingData: "missing",
    ...(action ? { extraAlarmActions: [action] } : {}),
  };
}

/** CPU above 80% for 15 minutes, the database's, the host's or the group's average. */
function cpuAlarm(
  id: string,
  namespace: "AWS/RDS" | "AWS/EC2",
  dimensions: AlarmSpec["dimensions"],
  description: string,
): AlarmSpec {
  return {
    id,
    description,
    namespace,
    metricName: "CPUUtilization",
    dimensions,
    statistic: "Average",
    period: 300,
    evaluationPeriods: 3,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 80,
    treatMissingData: "missing",
  };
}

function alarmSpecs(args: MonitoringSettings, partition: pulumi.Output<string>): AlarmSpec[] {
  const ec2Action = (action: "recover" | "reboot") => ec2AlarmAction(args, partition, action);
  const alb = { LoadBalancer: args.loadBalancerArnSuffix };
  const specs: AlarmSpec[] = [
    ...(args.hostInstanceId ? hostAlarmSpecs(args, args.hostInstanceId, partition) : []),
    ...(args.hostGroup ? hostGroupAlarmSpecs(args.hostGroup, args.diskPaths) : []),
    ...(args.sharedFiles ? [sharedFilesAlarmSpec(args.sharedFiles)] : []),
  ];

  if (args.natInstanceId) {
    const nat = { InstanceId: args.natInstanceId };
    specs.push(
      statusCheckAlarm(
        "nat-system-status",
        "System",
        nat,
        2,
        ec2Action("recover"),
        "The NAT instance's underlying AWS hardware failed its status check; EC2 recovers it onto healthy " +
          "hardware, keeping its address and the app subnets' route.",
      ),
      statusCheckAlarm(
        "nat-instance-status",
        "Instance",
        nat,
        3,
        ec2Action("reboot"),
        "The NAT instance's operating system failed its status check for 3 minutes; EC2 reboots it " +
          "(the host's way out to the internet and, without interface endpoints, to the AWS APIs).",
      ),
    );
  }

  if (args.database) {
    const db = { DBInstanceIdentifier: args.database.identifier };
    specs.push(
      cpuAlarm("db-cpu", "AWS/RDS", db, "Database CPU above 80% for 15 minutes."),
      {
        id: "db-free-storage",
        description:
          `Database free storage under ${DB_FREE_STORAGE_SHARE * 100}% ` +
          `of the ${args.database.allocatedStorageGb} GiB allocated.`,
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions: db,
        statistic: "Minimum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "LessThanThreshold",
        threshold: Math.round(args.database.allocatedStorageGb * GIB * DB_FREE_STORAGE_SHARE),
        treatMissingData: "missing",
      },
      {
        id: "db-freeable-memory",
        description: "Database freeable memory under 256 MiB for 15 minutes.",
        namespace: "AWS/RDS",
        metricName: "FreeableMemory",
        dimensions: db,
        statistic: "Average",
        period: 300,
        evaluationPeriods: 3,
        comparisonOperator: "LessThanThreshold",
        threshold: DB_FREEABLE_MEMORY_BYTES,
        treatMissingData: "missing",
      },
      {
        id: "db-connections",
        description: `More than ${DB_CONNECTIONS_THRESHOLD} database connections for 10 minutes.`,
        namespace: "AWS/RDS",
        metricName: "DatabaseConnections",
        dimensions: db,
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 2,
        comparisonOperator: "GreaterThanThreshold",
        threshold: DB_CONNECTIONS_THRESHOLD,
        treatMissingData: "missing",
      },
    );
  }

  specs.push(
    {
      id: "alb-5xx",
      description: "The load balancer itself answered more than 10 errors (5xx) in 5 minutes: often no healthy target.",
      namespace: "AWS/ApplicationELB",
      metricName: "HTTPCode_ELB_5XX_Count",
      dimensions: alb,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 10,
      treatMissingData: "notBreaching",
    },
    {
      id: "target-5xx",
      description: "OpenEMR answered more than 10 server errors (5xx) in 5 minutes.",
      namespace: "AWS/ApplicationELB",
      metricName: "HTTPCode_Target_5XX_Count",
      dimensions: alb,
      statistic: "Sum",
      period: 300,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 10,
      treatMissingData: "notBreaching",
    },
    {
      id: "unhealthy-hosts",
      description: "The host failed the load balancer's health check (/meta/health/livez) for 3 minutes.",
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions: { ...alb, TargetGroup: args.targetGroupArnSuffix },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 3,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      treatMissingData: "missing",
    },
    {
      id: "target-response-time",
      description: "OpenEMR's p95 response time above 3 seconds for 15 minutes.",
      namespace: "AWS/ApplicationELB",
      metricName: "TargetResponseTime",
      dimensions: alb,
      extendedStatistic: "p95",
      period: 300,
      evaluationPeriods: 3,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 3,
      treatMissingData: "notBreaching",
    },
    {
      // Hourly sums over 26 hours, every one of them empty or zero: a day between daily
      // backups plus room for the timer's random delay and the backup's own duration, so a
      // backup finishing a little later than yesterday's does not raise a false alarm.
      id: "backup-age",
      description:
        "No successful logical backup in the last 26 hours (a missing metric counts as a failure). " +
        "Run `openemr-backup` on the host through SSM and read its log.",
      namespace: BACKUP_METRICS_NAMESPACE,
      metricName: "BackupSuccess",
      dimensions: { Stack: args.namePrefix },
      statistic: "Sum",
      period: 3600,
      evaluationPeriods: 26,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    },
    ...(args.binlogShipping
      ? [
          {
            // Three five-minute sums, every one of them empty or zero: the timer ships every four
            // minutes, so fifteen minutes without a success is three runs or more missed or failed,
            // and the point-in-time recovery point is growing past its promise.
            id: "binlog-shipping",
            description:
              "No successful binary log shipping in the last 15 minutes (a missing metric counts as a failure). " +
              "Run `openemr-backup ship-binlogs` on the host through SSM and read its log.",
            namespace: BACKUP_METRICS_NAMESPACE,
            metricName: "BinlogShipSuccess",
            dimensions: { Stack: args.namePrefix },
            statistic: "Sum",
            period: 300,
            evaluationPeriods: 3,
            comparisonOperator: "LessThanThreshold",
            threshold: 1,
            treatMissingData: "breaching",
          } satisfies AlarmSpec,
        ]
      : []),
    {
      // Seven days is the longest window a CloudWatch alarm can evaluate (period x evaluation
      // periods <= 604,800 s), so the drill runs twice a week to always report within it.
      id: "restore-drill",
      description:
        "No successful restore drill in the last 7 days (a missing metric counts as a failure). " +
        "Run `openemr-restore drill` on the host.",
      namespace: BACKUP_METRICS_NAMESPACE,
      metricName: "RestoreDrillSuccess",
      dimensions: { Stack: args.namePrefix },
      statistic: "Sum",
      period: 604800,
      evaluationPeriods: 1,
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    },
    {
      id: "snapshot-jobs-failed",
      description: "An AWS Backup snapshot job of the host or database failed.",
      // AWS Backup publishes job counts in AWS/Backup by resource type and by backup vault.
      // https://docs.aws.amazon.com/aws-backup/latest/devguide/cloudwatch.html
      namespace: "AWS/Backup",
      metricName: "NumberOfBackupJobsFailed",
      dimensions: { BackupVaultName: args.backupVaultName },
      statistic: "Sum",
      period: 3600,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      treatMissingData: "notBreaching",
    },
    {
      id: "certificate-expiry",
      description:
        "The HTTPS certificate expires in less than 30 days. " +
        "ACM renews DNS-validated certificates itself; a self-signed one is renewed by `pulumi up`.",
      namespace: "AWS/CertificateManager",
      metricName: "DaysToExpiry",
      dimensions: { CertificateArn: args.certificateArn },
      statistic: "Minimum",
      period: 86400,
      evaluationPeriods: 1,
      comparisonOperator: "LessThanThreshold",
      threshold: 30,
      treatMissingData: "missing",
    },
  );
  return specs;
}

/** One host's alarms, by its instance id: status checks (EC2 recovers it), CPU, memory, disks. */
function hostAlarmSpecs(
  args: MonitoringSettings,
  instanceId: pulumi.Input<string>,
  partition: pulumi.Output<string>,
): AlarmSpec[] {
  const host = { InstanceId: instanceId };
  const ec2Action = (action: "recover" | "reboot") => ec2AlarmAction(args, partition, action);
  return [
    statusCheckAlarm(
      "host-system-status",
      "System",
      host,
      2,
      ec2Action("recover"),
      "The host's underlying AWS hardware failed its status check; EC2 recovers the instance onto healthy hardware.",
    ),
    statusCheckAlarm(
      "host-instance-status",
      "Instance",
      host,
      3,
      undefined,
      "The host's operating system failed its status check (kernel, network or disk trouble); " +
        "see the console output.",
    ),
    cpuAlarm("host-cpu", "AWS/EC2", host, "Host CPU above 80% for 15 minutes."),
    ...agentAlarmSpecs(args.diskPaths, {
      idPrefix: "host",
      dimensions: host,
      memoryStatistic: "Average",
      memoryDescription: "Host memory use above 90% for 15 minutes (CloudWatch agent).",
      diskWhere: "on the host",
    }),
  ];
}

/**
 * Memory and disk use (`diskPaths`) as the CloudWatch agent publishes them: of one host by its
 * `InstanceId`, or of the `ha` group's hosts together by their `AutoScalingGroupName`.
 */
function agentAlarmSpecs(
  diskPaths: string[],
  subject: {
    idPrefix: string;
    dimensions: AlarmSpec["dimensions"];
    memoryStatistic: "Average" | "Maximum";
    memoryDescription: string;
    diskWhere: string;
  },
): AlarmSpec[] {
  return [
    {
      id: `${subject.idPrefix}-memory`,
      description: subject.memoryDescription,
      namespace: "CWAgent",
      metricName: "mem_used_percent",
      dimensions: subject.dimensions,
      statistic: subject.memoryStatistic,
      period: 300,
      evaluationPeriods: 3,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 90,
      treatMissingData: "missing",
    },
    ...diskPaths.map((path): AlarmSpec => ({
      id: `${subject.idPrefix}-disk${path === "/" ? "-root" : path.replace(/[^a-z0-9]+/g, "-")}`,
      description: `Disk use of ${path} ${subject.diskWhere} above 85% (CloudWatch agent).`,
      namespace: "CWAgent",
      metricName: "disk_used_percent",
      dimensions: { ...subject.dimensions, path },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      comparisonOperator: "GreaterThanThreshold",
      threshold: 85,
      treatMissingData: "missing",
    })),
  ];
}

/**
 * The `ha` group: fewer hosts in service than its minimum, its hosts' CPU together, and the
 * memory and disks of its fullest host. Its hosts come and go, so no alarm can name one by its
 * instance id: the agent on each also publishes under the group's name (render_cloudwatch_config
 * in infra/host/lib/steps.sh), and the Maximum over that metric is the fullest host's value.
 */
function hostGroupAlarmSpecs(group: { name: pulumi.Input<string>; minSize: number }, diskPaths: string[]): AlarmSpec[] {
  const dimensions = { AutoScalingGroupName: group.name };
  return [
    {
      id: "host-group-in-service",
      description:
        `Fewer than ${group.minSize} hosts in service for 5 minutes: a zone or a host was lost and the group ` +
        "has not replaced it (launch failures, capacity, or a bootstrap that never turns healthy).",
      namespace: "AWS/AutoScaling",
      metricName: "GroupInServiceInstances",
      dimensions,
      statistic: "Minimum",
      period: 60,
      evaluationPeriods: 5,
      comparisonOperator: "LessThanThreshold",
      threshold: group.minSize,
      treatMissingData: "breaching",
    },
    cpuAlarm(
      "host-group-cpu",
      "AWS/EC2",
      dimensions,
      "The hosts' average CPU above 80% for 15 minutes: scaling on requests is not keeping up.",
    ),
    // Scaling in or out leaves no gap in the group's metric (a leaving host stops adding to it, a
    // joining one starts once its agent runs), so it goes missing only when no host's agent reports
    // at all: no sign of memory or disk pressure, and lost hosts raise host-group-in-service.
    ...agentAlarmSpecs(diskPaths, {
      idPrefix: "host-group",
      dimensions,
      memoryStatistic: "Maximum",
      memoryDescription:
        "The fullest host's memory use above 90% for 15 minutes (CloudWatch agent, the group's Maximum).",
      diskWhere: "on the fullest host",
    }),
  ];
}

/**
 * EFS in elastic mode has no credits to run out of, but General Purpose mode has an I/O limit
 * (PercentIOLimit); in bursting mode throughput stops at the baseline when credits run out.
 */
function sharedFilesAlarmSpec(files: { fileSystemId: pulumi.Input<string>; throughputMode: string }): AlarmSpec {
  const dimensions = { FileSystemId: files.fileSystemId };
  return files.throughputMode === "bursting"
    ? {
        id: "efs-burst-credits",
        description: "The sites/ file system's burst credits are nearly spent: throughput drops to its baseline.",
        namespace: "AWS/EFS",
        metricName: "BurstCreditBalance",
        dimensions,
        statistic: "Minimum",
        period: 300,
        evaluationPeriods: 3,
        comparisonOperator: "LessThanThreshold",
        threshold: EFS_BURST_CREDITS_LOW_BYTES,
        treatMissingData: "missing",
      }
    : {
        id: "efs-io-limit",
        description: "The sites/ file system is near its I/O limit (PercentIOLimit above 90% for 15 minutes).",
        namespace: "AWS/EFS",
        metricName: "PercentIOLimit",
        dimensions,
        statistic: "Maximum",
        period: 300,
        evaluationPeriods: 3,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 90,
        treatMissingData: "missing",
      };
}

/** An alarm-status widget over every alarm, then one graph per alarm with its threshold drawn. */
function dashboardBody(
  region: pulumi.Input<string>,
  specs: AlarmSpec[],
  alarms: aws.cloudwatch.MetricAlarm[],
): pulumi.Output<string> {
  const width = 8;
  const height = 6;
  const graphs = specs.map((spec, index) => ({
    type: "metric",
    x: (index % 3) * width,
    y: height + Math.floor(index / 3) * height,
    width,
    height,
    properties: {
      title: spec.description.split(/[.(]/)[0].trim(),
      region,
      period: spec.period,
      stat: spec.extendedStatistic ?? spec.statistic,
      view: "timeSeries",
      metrics: [[spec.namespace, spec.metricName, ...Object.entries(spec.dimensions).flat()]],
      annotations: { horizontal: [{ label: "alarm", value: spec.threshold }] },
    },
  }));
  return pulumi.jsonStringify({
    widgets: [
      {
        type: "alarm",
        x: 0,
        y: 0,
        width: 3 * width,
        height,
        properties: { title: "OpenEMR alarms", alarms: alarms.map((alarm) => alarm.arn) },
      },
      ...graphs,
    ],
  });
}

/** The alarm topic's name. */
export function alarmTopicName(namePrefix: string): string {
  return `${namePrefix}-openemr-alarms`;
}

/** The dashboard's name. */
export function dashboardNameFor(namePrefix: string): string {
  return `${namePrefix}-openemr`;
}

export const monitoringConstraints: AwsConstraint[] = [
  {
    id: "sns-topic-name",
    keys: [STACK_NAME],
    rule: "An SNS topic name is 1 to 256 letters, digits, `_` and `-`; the alarm topic is `<stack>-openemr-alarms`.",
    doc: "https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html",
    problems: ({ stackName }) => {
      const name = alarmTopicName(stackName);
      return derivedNameProblem(
        stackName,
        "SNS topic name",
        name,
        /^[\w-]{1,256}$/.test(name),
        "a stack name of letters, digits, '-' and '_' only (an SNS topic name allows no other character)",
      );
    },
  },
  {
    id: "cloudwatch-dashboard-name",
    keys: [STACK_NAME, "dashboard"],
    rule: "A CloudWatch dashboard name is 1 to 255 letters, digits, `_` and `-`; the stack's is `<stack>-openemr`.",
    doc: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html",
    problems: ({ config, stackName }) => {
      const name = dashboardNameFor(stackName);
      return config.dashboard
        ? derivedNameProblem(
            stackName,
            "CloudWatch dashboard name (openemr:dashboard is true)",
            name,
            /^[\w-]{1,255}$/.test(name),
            "a stack name of letters, digits, '-' and '_' only (a dashboard name allows no other character)",
          )
        : [];
    },
  },
];
