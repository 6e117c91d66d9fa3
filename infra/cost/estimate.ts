// The monthly estimate of an offline run (the plan's capture): each cloud resource priced from
// the region's price table and the usage assumptions, or listed as free (with why), or as
// "not priced" (with why). Nothing is silently zero.
import type { OfflineRun, PlannedResource } from "../offline/run";
import type { Assumption, PriceTable } from "./tables";
import { NAT_ROLE_TAG } from "../components/nat-instance";

/** Hours in a month (365 x 24 / 12), as AWS's pricing examples use. */
export const HOURS_PER_MONTH = 730;
const DAYS_PER_MONTH = 365 / 12;

export interface CostItem {
  urn: string;
  type: string;
  name: string;
  /** The component it belongs to: its parent's name, or `stack`. */
  component: string;
  /** What of the resource this line prices (compute, storage, requests, ...). */
  part: string;
  monthlyUsd: number;
  /** `<units> x <price>`, with the assumption named when the units are assumed. */
  basis: string;
  /** The price keys used, so a reader can find each in the region's file. */
  prices: string[];
}

export interface UnpricedResource {
  urn: string;
  type: string;
  name: string;
  component: string;
  reason: string;
}

export interface StackEstimate {
  stack: string;
  tier: string;
  region: string;
  monthlyUsd: number;
  items: CostItem[];
  /** Resources AWS does not bill (or bills on another resource), each with why. */
  free: UnpricedResource[];
  /** Resources AWS bills that this estimate could not price: the total leaves them out. */
  notPriced: UnpricedResource[];
  /** The assumptions in force, with any `--assume` overrides applied. */
  assumptions: Record<string, number>;
  overridden: string[];
}

/** A price the region's table lacks: the resource becomes "not priced". */
class MissingPrice extends Error {}

interface Line {
  part: string;
  usd: number;
  basis: string;
  prices: string[];
}

interface Context {
  run: OfflineRun;
  price: (key: string) => number;
  /** A price in the copy region (`copyRegion`); the resource is not priced without its file. */
  copyPrice: (key: string) => number;
  assume(key: string): number;
  byState(key: string, value: unknown): PlannedResource | undefined;
  ofType(type: string): PlannedResource[];
}

type Rule = (resource: PlannedResource, ctx: Context) => Line[];

const money = (usd: number): string =>
  `$${usd >= 0.01 || usd === 0 ? usd.toFixed(usd < 1 ? 4 : 2) : usd.toPrecision(2)}`;
const num = (value: number): string => (Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3))));

/** One line: `units x price`, units named. */
function line(
  ctx: Context,
  part: string,
  units: number,
  unitLabel: string,
  key: string,
  divisor = 1,
  price = ctx.price(key),
): Line {
  const unit = divisor === 1 ? "" : ` per ${num(divisor)}`;
  return {
    part,
    usd: (units / divisor) * price,
    basis: `${num(units)} ${unitLabel} x ${money(price)}${unit} (${key})`,
    prices: [key],
  };
}

const free = (part: string, why: string): Line => ({ part, usd: 0, basis: why, prices: [] });

const gbMonthsOfRetention = (retentionDays: number | undefined, ctx: Context): number =>
  retentionDays ? retentionDays / DAYS_PER_MONTH : ctx.assume("logsNoRetentionMonths");

/** The log groups of one kind share that kind's assumed volume. */
function logKind(name: string): { kind: string; assumption: string } {
  if (name.includes("vpc-flow-logs")) return { kind: "flow", assumption: "flowLogsGbPerMonth" };
  if (name.startsWith("aws-waf-logs")) return { kind: "waf", assumption: "wafLogsGbPerMonth" };
  if (name.startsWith("/aws/rds/")) return { kind: "rds", assumption: "databaseLogsGbPerMonth" };
  if (name.endsWith("/cloudtrail")) return { kind: "trail", assumption: "cloudtrailLogsGbPerMonth" };
  return { kind: "host", assumption: "hostLogsGbPerMonth" };
}

const storageClassKeys: Record<string, string> = {
  STANDARD: "s3.standard.storage",
  STANDARD_IA: "s3.standardIa.storage",
  GLACIER_IR: "s3.glacierIr.storage",
  GLACIER: "s3.glacier.storage",
  DEEP_ARCHIVE: "s3.deepArchive.storage",
};

/**
 * Steady-state storage of a bucket that receives `gbPerDay` a day: each day's objects spend the
 * lifecycle's days in each storage class, then (versioned) stay as noncurrent versions for
 * `noncurrentDays` in the last class before they go.
 */
function bucketStorage(
  bucket: PlannedResource,
  gbPerDay: number,
  source: string,
  ctx: Context,
  arrival: { storageClass: string; price: (key: string) => number } = { storageClass: "STANDARD", price: ctx.price },
): Line[] {
  const lifecycle = ctx
    .ofType("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    .find((config) => config.inputs.bucket === bucket.state.id || config.inputs.bucket === bucket.state.bucket);
  const rule = (lifecycle?.inputs.rules ?? []).find(
    (candidate: any) => candidate.status === "Enabled" && (candidate.expiration || candidate.transitions),
  );
  const expiry: number | undefined = rule?.expiration?.days;
  const horizon = expiry ?? Math.round(ctx.assume("logsNoRetentionMonths") * DAYS_PER_MONTH);
  const stages: { storageClass: string; from: number }[] = [
    { storageClass: arrival.storageClass, from: 0 },
    ...((rule?.transitions ?? []) as { days: number; storageClass: string }[])
      .map((transition) => ({ storageClass: transition.storageClass, from: transition.days }))
      .sort((a, b) => a.from - b.from),
  ];
  const noncurrent = rule?.noncurrentVersionExpiration?.noncurrentDays ?? 0;
  return stages.map((stage, index) => {
    const last = index === stages.length - 1;
    const until = last ? horizon + noncurrent : Math.min(stages[index + 1].from, horizon);
    const days = Math.max(0, until - stage.from);
    const key = storageClassKeys[stage.storageClass];
    if (!key) throw new MissingPrice(`storage class ${stage.storageClass}`);
    const gb = gbPerDay * days;
    const why = `${num(gbPerDay)} GB a day (${source}) kept ${days} days`;
    const price = arrival.price(key);
    return {
      part: `storage ${stage.storageClass}`,
      usd: gb * price,
      basis: `${num(gb)} GB-month (${why}) x ${money(price)} (${key})`,
      prices: [key],
    };
  });
}

/** GB a snapshot chain keeps: the used blocks once, plus each day's changes for the retention. */
function snapshotGb(sizeGb: number, retentionDays: number, ctx: Context): number {
  const used = sizeGb * ctx.assume("snapshotUsedFraction");
  return used * (1 + ctx.assume("snapshotDailyChangeFraction") * Math.max(0, retentionDays - 1));
}

/**
 * Load balancer capacity units used in a month. AWS bills each hour the largest of four dimensions,
 * fractionally (https://aws.amazon.com/elasticloadbalancing/pricing/): processed bytes (1 GB an
 * LCU-hour to EC2 targets), new connections (25 a second), active connections (3,000 a minute) and
 * rule evaluations (1,000 a second, the first 10 rules free; this stack has fewer). Their sum over
 * the month bounds that from above: the responses served (`internetEgressGb`), at most one new
 * connection a request, and the connections held open (`albActiveConnections`).
 */
function albLcuHours(ctx: Context): number {
  const processedBytes = ctx.assume("internetEgressGb");
  const newConnections = ctx.assume("requestsPerMonth") / (25 * 3600);
  const activeConnections = (ctx.assume("albActiveConnections") / 3000) * HOURS_PER_MONTH;
  return processedBytes + newConnections + activeConnections;
}

const rules: Record<string, Rule> = {
  "aws:ec2/instance:Instance": (resource, ctx) => {
    const inputs = resource.inputs;
    const lines = [
      line(ctx, "compute", HOURS_PER_MONTH, `h ${inputs.instanceType}`, `ec2.instance.${inputs.instanceType}`),
    ];
    const root = inputs.rootBlockDevice ?? {};
    lines.push(
      line(
        ctx,
        "root volume",
        root.volumeSize ?? 8,
        `GB ${root.volumeType ?? "gp3"}`,
        `ebs.${root.volumeType ?? "gp3"}.storage`,
      ),
    );
    if (inputs.monitoring)
      lines.push(
        line(
          ctx,
          "detailed monitoring",
          ctx.assume("ec2DetailedMonitoringMetrics"),
          "metrics (ec2DetailedMonitoringMetrics)",
          "cloudwatch.metric",
        ),
      );
    if (inputs.associatePublicIpAddress)
      lines.push(line(ctx, "public IPv4", HOURS_PER_MONTH, "h", "vpc.publicIpv4.hour"));
    // The NAT instance runs no CloudWatch agent; the OpenEMR host does.
    if (inputs.tags?.[NAT_ROLE_TAG.key] !== NAT_ROLE_TAG.value)
      lines.push(
        line(ctx, "agent metrics", ctx.assume("hostCustomMetrics"), "metrics (hostCustomMetrics)", "cloudwatch.metric"),
      );
    return lines;
  },
  "aws:autoscaling/group:Group": (resource, ctx) => {
    // The `ha` hosts: the group's steady capacity (its minimum, unless a desired capacity is set),
    // each priced as the instance its launch template makes.
    const hosts: number = resource.inputs.desiredCapacity ?? resource.inputs.minSize;
    const template = ctx.byState("id", resource.inputs.launchTemplate?.id);
    if (!template) throw new MissingPrice("the group's launch template (not a resource of this plan)");
    const { instanceType, blockDeviceMappings, monitoring } = template.inputs;
    const root = blockDeviceMappings?.[0]?.ebs ?? {};
    const volumeType = root.volumeType ?? "gp3";
    const each = `x ${hosts} hosts`;
    return [
      line(ctx, "compute", HOURS_PER_MONTH * hosts, `h ${instanceType} (${each})`, `ec2.instance.${instanceType}`),
      line(
        ctx,
        "root volumes",
        (root.volumeSize ?? 8) * hosts,
        `GB ${volumeType} (${each})`,
        `ebs.${volumeType}.storage`,
      ),
      ...(monitoring?.enabled
        ? [
            line(
              ctx,
              "detailed monitoring",
              ctx.assume("ec2DetailedMonitoringMetrics") * hosts,
              `metrics (ec2DetailedMonitoringMetrics ${each})`,
              "cloudwatch.metric",
            ),
          ]
        : []),
      line(
        ctx,
        "agent metrics",
        ctx.assume("hostCustomMetrics") * hosts,
        `metrics (hostCustomMetrics ${each})`,
        "cloudwatch.metric",
      ),
      line(
        ctx,
        "group metrics",
        (resource.inputs.enabledMetrics ?? []).length,
        "Auto Scaling group metrics enabled",
        "cloudwatch.metric",
      ),
    ];
  },
  // Target tracking creates and manages two alarms (scale out, scale in): priced as standard alarms.
  "aws:autoscaling/policy:Policy": (resource, ctx) =>
    resource.inputs.policyType === "TargetTrackingScaling"
      ? [line(ctx, "alarms", 2, "alarms target tracking manages", "cloudwatch.alarm.standard")]
      : [],
  "aws:efs/fileSystem:FileSystem": (resource, ctx) => [
    line(ctx, "storage", ctx.assume("efsStorageGb"), "GB-month Standard (efsStorageGb)", "efs.standard.storage"),
    // Elastic throughput bills data read and written; bursting bills storage only.
    ...((resource.inputs.throughputMode ?? "bursting") === "elastic"
      ? [
          line(
            ctx,
            "reads",
            ctx.assume("efsElasticReadGbPerMonth"),
            "GB (efsElasticReadGbPerMonth)",
            "efs.elastic.read",
          ),
          line(
            ctx,
            "writes",
            ctx.assume("efsElasticWriteGbPerMonth"),
            "GB (efsElasticWriteGbPerMonth)",
            "efs.elastic.write",
          ),
        ]
      : []),
  ],
  "aws:elasticache/replicationGroup:ReplicationGroup": (resource, ctx) => {
    const nodes: number = resource.inputs.numCacheClusters ?? 1;
    const engine = String(resource.inputs.engine ?? "redis");
    return [
      line(
        ctx,
        "nodes",
        HOURS_PER_MONTH * nodes,
        `node-h ${resource.inputs.nodeType} (x ${nodes} nodes)`,
        `elasticache.${engine}.${resource.inputs.nodeType}`,
      ),
    ];
  },
  "aws:ebs/volume:Volume": (resource, ctx) => {
    const { type = "gp2", size, iops, throughput } = resource.inputs;
    const lines = [line(ctx, "storage", size, `GB ${type}`, `ebs.${type}.storage`)];
    if (type === "gp3" && iops > 3000) lines.push(line(ctx, "IOPS", iops - 3000, "IOPS above 3,000", "ebs.gp3.iops"));
    if (type === "gp3" && throughput > 125)
      lines.push(line(ctx, "throughput", throughput - 125, "MiB/s above 125", "ebs.gp3.throughput"));
    return lines;
  },
  "aws:ec2/natGateway:NatGateway": (_resource, ctx) => {
    const gateways = ctx.ofType("aws:ec2/natGateway:NatGateway").length;
    return [
      line(ctx, "hours", HOURS_PER_MONTH, "h", "vpc.natGateway.hour"),
      line(
        ctx,
        "data processed",
        ctx.assume("natGbPerMonth") / gateways,
        `GB (natGbPerMonth / ${gateways})`,
        "vpc.natGateway.gb",
      ),
    ];
  },
  "aws:ec2/eip:Eip": (_resource, ctx) => [line(ctx, "public IPv4", HOURS_PER_MONTH, "h", "vpc.publicIpv4.hour")],
  "aws:lb/loadBalancer:LoadBalancer": (resource, ctx) => {
    const lines = [
      line(ctx, "hours", HOURS_PER_MONTH, "h", "elb.alb.hour"),
      line(
        ctx,
        "capacity",
        albLcuHours(ctx),
        "LCU-h (internetEgressGb + requests and albActiveConnections)",
        "elb.alb.lcu",
      ),
    ];
    if (!resource.inputs.internal) {
      const zones = (resource.inputs.subnets ?? []).length || 2;
      lines.push(
        line(ctx, "public IPv4", HOURS_PER_MONTH * zones, `address-h (one per zone, ${zones})`, "vpc.publicIpv4.hour"),
      );
      lines.push(
        line(
          ctx,
          "internet egress",
          ctx.assume("internetEgressGb"),
          "GB (internetEgressGb)",
          "dataTransfer.internetOut.gb",
        ),
      );
    }
    return lines;
  },
  "aws:ec2/vpcEndpoint:VpcEndpoint": (resource, ctx) => {
    if (resource.inputs.vpcEndpointType !== "Interface")
      return [free("gateway endpoint", "gateway endpoints (S3, DynamoDB) have no hourly or data charge")];
    const interfaces = ctx
      .ofType("aws:ec2/vpcEndpoint:VpcEndpoint")
      .filter((item) => item.inputs.vpcEndpointType === "Interface").length;
    const zones = (resource.inputs.subnetIds ?? []).length || 1;
    return [
      line(ctx, "hours", HOURS_PER_MONTH * zones, `endpoint-h (${zones} zones)`, "vpc.interfaceEndpoint.hour"),
      line(
        ctx,
        "data processed",
        ctx.assume("interfaceEndpointGbPerMonth") / interfaces,
        `GB (interfaceEndpointGbPerMonth / ${interfaces})`,
        "vpc.interfaceEndpoint.gb",
      ),
    ];
  },
  "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList": (resource, ctx) => [
    line(ctx, "domains", (resource.inputs.domains ?? []).length, "domain-months", "route53.dnsFirewall.domain"),
  ],
  "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation": (_resource, ctx) => [
    line(
      ctx,
      "queries",
      ctx.assume("dnsQueriesPerMonth"),
      "million queries (dnsQueriesPerMonth)",
      "route53.dnsFirewall.query",
    ),
  ],
  "aws:cognito/userPool:UserPool": (_resource, ctx) => [
    line(
      ctx,
      "users",
      ctx.assume("cognitoMonthlyActiveUsers"),
      "monthly active users (cognitoMonthlyActiveUsers)",
      "cognito.plus.mau",
    ),
  ],
  "aws:rds/instance:Instance": (resource, ctx) => {
    const inputs = resource.inputs;
    const deployment = inputs.multiAz ? "multiAz" : "singleAz";
    const engine = String(inputs.engine ?? "mysql");
    const storageType = inputs.storageType ?? "gp2";
    const lines = [
      line(
        ctx,
        "compute",
        HOURS_PER_MONTH,
        `h ${inputs.instanceClass} ${deployment}`,
        `rds.${engine}.${inputs.instanceClass}.${deployment}`,
      ),
      line(ctx, "storage", inputs.allocatedStorage, `GB ${storageType}`, `rds.${storageType}.storage.${deployment}`),
    ];
    const retention = inputs.backupRetentionPeriod ?? 1;
    const kept = snapshotGb(inputs.allocatedStorage, retention, ctx);
    const billed = Math.max(0, kept - inputs.allocatedStorage);
    lines.push({
      ...line(
        ctx,
        "backup storage",
        billed,
        `GB above the free ${inputs.allocatedStorage} GB (${num(kept)} GB kept ${retention} days)`,
        "rds.backup.storage",
      ),
    });
    if (inputs.manageMasterUserPassword)
      lines.push(line(ctx, "master secret", 1, "RDS-managed secret", "secretsmanager.secret"));
    if (inputs.monitoringInterval > 0)
      lines.push(
        line(
          ctx,
          "enhanced monitoring",
          ctx.assume("enhancedMonitoringGbPerMonth"),
          "GB (enhancedMonitoringGbPerMonth)",
          "cloudwatch.logs.ingest",
        ),
      );
    if (inputs.performanceInsightsEnabled) {
      if ((inputs.performanceInsightsRetentionPeriod ?? 7) > 7)
        throw new MissingPrice("Performance Insights retention beyond 7 days");
      lines.push(free("Performance Insights", "7-day Performance Insights retention has no charge"));
    }
    return lines;
  },
  "aws:cloudwatch/logGroup:LogGroup": (resource, ctx) => {
    const name = String(resource.inputs.name ?? resource.name);
    const { kind, assumption } = logKind(name);
    const peers = ctx
      .ofType("aws:cloudwatch/logGroup:LogGroup")
      .filter((group) => logKind(String(group.inputs.name ?? group.name)).kind === kind).length;
    const gb = ctx.assume(assumption) / peers;
    const months = gbMonthsOfRetention(resource.inputs.retentionInDays, ctx);
    const stored = gb * months * ctx.assume("logsStoredFraction");
    return [
      line(ctx, "ingestion", gb, `GB (${assumption} / ${peers})`, "cloudwatch.logs.ingest"),
      line(ctx, "storage", stored, `GB-month (${num(months)} months kept)`, "cloudwatch.logs.storage"),
    ];
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": (resource, ctx) => {
    const queries = (resource.inputs.metricQueries ?? []).filter((query: any) => query.metric).length;
    const metrics = Math.max(1, queries);
    const highResolution = (resource.inputs.period ?? 60) < 60;
    const key = highResolution ? "cloudwatch.alarm.highResolution" : "cloudwatch.alarm.standard";
    return [line(ctx, "alarm", metrics, "alarm metrics", key)];
  },
  "aws:cloudwatch/dashboard:Dashboard": (_resource, ctx) => [
    line(ctx, "dashboard", 1, "dashboard", "cloudwatch.dashboard"),
  ],
  "aws:kms/key:Key": (_resource, ctx) => {
    const keys = ctx.ofType("aws:kms/key:Key").length;
    const months = 1 + Math.min(2, ctx.assume("kmsRotationsBilled"));
    return [
      line(ctx, "key", months, "key-months (1 + kmsRotationsBilled, at most 2)", "kms.key"),
      line(
        ctx,
        "requests",
        ctx.assume("kmsRequestsPerMonth") / keys,
        `requests (kmsRequestsPerMonth / ${keys})`,
        "kms.requests",
        10_000,
      ),
    ];
  },
  "aws:secretsmanager/secret:Secret": (_resource, ctx) => {
    const secrets = ctx.ofType("aws:secretsmanager/secret:Secret").length;
    return [
      line(ctx, "secret", 1, "secret", "secretsmanager.secret"),
      line(
        ctx,
        "API calls",
        ctx.assume("secretsApiCallsPerMonth") / secrets,
        `calls (secretsApiCallsPerMonth / ${secrets})`,
        "secretsmanager.api",
        10_000,
      ),
    ];
  },
  "aws:wafv2/webAcl:WebAcl": (resource, ctx) => [
    line(ctx, "web ACL", 1, "web ACL", "waf.webAcl"),
    line(ctx, "rules", (resource.inputs.rules ?? []).length, "rules", "waf.rule"),
    line(ctx, "requests", ctx.assume("requestsPerMonth"), "requests (requestsPerMonth)", "waf.requests", 1_000_000),
  ],
  "aws:s3/bucket:Bucket": (resource, ctx) => {
    if (resource.name.endsWith("-replica")) {
      // The copy region's bucket: each day's backups arrive in the replication rule's class, at
      // that region's prices, and age by the replica's own lifecycle.
      const perDay = ctx.assume("logicalBackupGb") * ctx.assume("logicalBackupsPerDay");
      const replication = ctx
        .ofType("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
        .flatMap((config) => config.inputs.rules ?? [])
        .find((rule: any) => rule.destination?.bucket === resource.state.arn);
      const storageClass = replication?.destination?.storageClass ?? "STANDARD";
      return bucketStorage(resource, perDay, "logicalBackupGb x logicalBackupsPerDay, replicated", ctx, {
        storageClass,
        price: ctx.copyPrice,
      });
    }
    if (resource.name.endsWith("-backups")) {
      const perDay = ctx.assume("logicalBackupGb") * ctx.assume("logicalBackupsPerDay");
      return [
        ...bucketStorage(resource, perDay, "logicalBackupGb x logicalBackupsPerDay", ctx),
        line(
          ctx,
          "requests",
          ctx.assume("s3PutRequestsPerMonth"),
          "PUT requests (s3PutRequestsPerMonth)",
          "s3.put",
          1000,
        ),
      ];
    }
    if (resource.name.endsWith("access-logs"))
      return bucketStorage(resource, ctx.assume("accessLogsGbPerMonth") / DAYS_PER_MONTH, "accessLogsGbPerMonth", ctx);
    if (resource.name.includes("trail"))
      return bucketStorage(
        resource,
        ctx.assume("cloudtrailLogsGbPerMonth") / DAYS_PER_MONTH,
        "cloudtrailLogsGbPerMonth",
        ctx,
      );
    throw new MissingPrice("usage of this bucket (no assumption says what it holds)");
  },
  "aws:backup/selection:Selection": (resource, ctx) => {
    const plan =
      ctx.ofType("aws:backup/plan:Plan").find((item) => item.state.id === resource.inputs.planId) ??
      ctx.ofType("aws:backup/plan:Plan")[0];
    const retention: number | undefined = plan?.inputs.rules?.[0]?.lifecycle?.deleteAfter;
    if (!retention) throw new MissingPrice("snapshot retention (no backup plan rule with deleteAfter)");
    // A copy action sends each day's snapshot to a vault in the copy region: the same chain kept
    // there, at that region's price, and each day's changed blocks sent across.
    const copied = (plan?.inputs.rules?.[0]?.copyActions ?? []).length > 0;
    return (resource.inputs.resources ?? []).flatMap((arn: string) => {
      const target = ctx.byState("arn", arn);
      const chain = ((): { size: number; key: string; what: string } => {
        if (target?.type === "aws:rds/instance:Instance")
          return {
            size: target.inputs.allocatedStorage,
            key: "backup.rds.storage",
            what: `${retention} daily snapshots`,
          };
        if (target?.type === "aws:ec2/instance:Instance") {
          const attached = ctx
            .ofType("aws:ec2/volumeAttachment:VolumeAttachment")
            .filter((attachment) => attachment.inputs.instanceId === target.state.id)
            .map((attachment) => ctx.byState("id", attachment.inputs.volumeId)?.inputs.size ?? 0);
          const size =
            (target.inputs.rootBlockDevice?.volumeSize ?? 8) + attached.reduce((a: number, b: number) => a + b, 0);
          return { size, key: "backup.ebs.storage", what: `${size} GB of volumes, ${retention} daily snapshots` };
        }
        if (target?.type === "aws:efs/fileSystem:FileSystem") {
          const size = ctx.assume("efsStorageGb");
          return { size, key: "backup.efs.storage", what: `${size} GB of sites/, ${retention} daily backups` };
        }
        throw new MissingPrice(`backups of ${arn} (not a resource of this plan the estimate knows)`);
      })();
      const gb = snapshotGb(chain.size, retention, ctx);
      const lines = [line(ctx, `snapshots of ${target.name}`, gb, `GB-month (${chain.what})`, chain.key)];
      if (copied) {
        const changedPerMonth =
          chain.size * ctx.assume("snapshotUsedFraction") * ctx.assume("snapshotDailyChangeFraction") * DAYS_PER_MONTH;
        lines.push(
          line(
            ctx,
            `copied snapshots of ${target.name}`,
            gb,
            `GB-month in the copy region (${chain.what})`,
            chain.key,
            1,
            ctx.copyPrice(chain.key),
          ),
          line(
            ctx,
            `snapshot copy transfer of ${target.name}`,
            changedPerMonth,
            "GB a month (each day's changed blocks, snapshotDailyChangeFraction)",
            "dataTransfer.interRegion.gb",
          ),
        );
      }
      return lines;
    });
  },
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": (_resource, ctx) => {
    const gb = ctx.assume("logicalBackupGb") * ctx.assume("logicalBackupsPerDay") * DAYS_PER_MONTH;
    return [
      line(
        ctx,
        "replication requests",
        ctx.assume("replicatedObjectsPerMonth"),
        "PUT requests in the copy region (replicatedObjectsPerMonth)",
        "s3.put",
        1000,
        ctx.copyPrice("s3.put"),
      ),
      line(
        ctx,
        "inter-region transfer",
        gb,
        "GB a month (logicalBackupGb x logicalBackupsPerDay, replicated)",
        "dataTransfer.interRegion.gb",
      ),
    ];
  },
  "aws:sns/topic:Topic": (_resource, ctx) => [
    line(
      ctx,
      "publishes",
      ctx.assume("alarmNotificationsPerMonth"),
      "publishes (alarmNotificationsPerMonth)",
      "sns.publish",
      1_000_000,
    ),
    line(
      ctx,
      "e-mails",
      ctx.assume("alarmNotificationsPerMonth"),
      "e-mails (alarmNotificationsPerMonth)",
      "sns.email",
      100_000,
    ),
  ],
  "aws:cloudtrail/trail:Trail": (_resource, ctx) =>
    ctx.assume("cloudtrailIsAdditionalCopy")
      ? [
          line(
            ctx,
            "management events",
            ctx.assume("managementEventsPerMonth"),
            "events (a second copy)",
            "cloudtrail.managementEvents.additionalCopy",
            100_000,
          ),
        ]
      : [free("management events", "the first copy of management events is free (cloudtrailIsAdditionalCopy=0)")],
};

/** Resource types AWS does not bill, or bills on another resource of the plan; each says why. */
export const FREE_TYPES: Record<string, string> = {
  "aws:ebs/encryptionByDefault:EncryptionByDefault": "an account setting",
  "aws:iam/role:Role": "IAM has no charge",
  "aws:iam/policy:Policy": "IAM has no charge",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM has no charge",
  "aws:iam/instanceProfile:InstanceProfile": "IAM has no charge",
  "aws:ec2/vpc:Vpc": "VPCs have no charge",
  "aws:ec2/subnet:Subnet": "subnets have no charge",
  "aws:ec2/internetGateway:InternetGateway": "internet gateways have no charge (egress is priced on the load balancer)",
  "aws:ec2/routeTable:RouteTable": "route tables have no charge",
  "aws:ec2/routeTableAssociation:RouteTableAssociation": "route tables have no charge",
  "aws:ec2/route:Route": "routes have no charge",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "security groups have no charge",
  "aws:ec2/securityGroup:SecurityGroup": "security groups have no charge",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "security group rules have no charge",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "security group rules have no charge",
  "aws:ec2/flowLog:FlowLog": "billed as log ingestion on its log group",
  "aws:ec2/volumeAttachment:VolumeAttachment": "billed on the volume",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "bucket settings; storage is priced on the bucket",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "bucket settings; storage is priced on the bucket",
  "aws:s3/bucketVersioning:BucketVersioning": "bucket settings; noncurrent versions are priced on the bucket",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
    "bucket settings; KMS requests are priced on the keys",
  "aws:s3/bucketLogging:BucketLogging": "bucket settings; the logs are priced on the log bucket",
  "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "bucket settings",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "read by the bucket's storage estimate",
  "aws:s3/bucketPolicy:BucketPolicy": "bucket settings",
  "aws:s3/bucketObjectv2:BucketObjectv2": "the host bundle, a few MB: within the bucket's storage",
  "aws:kms/alias:Alias": "aliases have no charge",
  "aws:backup/vault:Vault": "snapshot storage is priced on the backup selection",
  "aws:backup/vaultNotifications:VaultNotifications": "no charge of its own",
  "aws:backup/plan:Plan": "snapshot storage is priced on the backup selection",
  "aws:secretsmanager/secretVersion:SecretVersion": "billed on the secret",
  // The database-accounts function runs on deploys only: seconds at 256 MB, a fraction of a cent a
  // run without the free tier (https://aws.amazon.com/lambda/pricing/), well inside it.
  "aws:lambda/function:Function": "runs only on deploys, inside Lambda's monthly free tier",
  "aws:lambda/invocation:Invocation": "one run of the function per deploy that changes its input",
  "aws:cloudwatch/logMetricFilter:LogMetricFilter":
    "metric filters have no charge; the metric they publish is billed ($0.30 a metric-month, prorated by the hour) " +
    "only in hours it has data, which for the CloudTrail events they count (root use, policy changes) is close to none",
  "aws:cloudwatch/eventRule:EventRule": "AWS service events on the default event bus have no charge",
  "aws:cloudwatch/eventTarget:EventTarget": "AWS service events on the default event bus have no charge",
  "aws:wafv2/webAclAssociation:WebAclAssociation": "billed on the web ACL",
  "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "billed as log ingestion on its log group",
  "aws:lb/targetGroup:TargetGroup": "billed on the load balancer",
  "aws:ec2/launchTemplate:LaunchTemplate": "launch templates have no charge; the group's hosts are priced on the group",
  "aws:efs/mountTarget:MountTarget": "mount targets have no charge",
  "aws:efs/accessPoint:AccessPoint": "access points have no charge",
  "aws:efs/fileSystemPolicy:FileSystemPolicy": "no charge of its own",
  "aws:elasticache/subnetGroup:SubnetGroup": "no charge of its own",
  "aws:lb/listener:Listener": "billed on the load balancer",
  "aws:lb/targetGroupAttachment:TargetGroupAttachment": "billed on the load balancer",
  "aws:ssm/document:Document": "SSM documents and Run Command have no charge",
  "aws:rds/subnetGroup:SubnetGroup": "no charge of its own",
  "aws:rds/parameterGroup:ParameterGroup": "no charge of its own",
  "aws:rds/optionGroup:OptionGroup": "no charge of its own",
  "aws:acm/certificate:Certificate": "public and imported ACM certificates have no charge",
  "aws:acm/certificateValidation:CertificateValidation": "no charge of its own",
  "aws:route53/record:Record":
    "records have no charge (the hosted zone is not created by this stack; alias queries are free)",
  "aws:sns/topicPolicy:TopicPolicy": "billed on the topic",
  "aws:sns/topicSubscription:TopicSubscription": "deliveries are priced on the topic",
  "random:index/randomPassword:RandomPassword": "computed by Pulumi, no cloud resource",
  "tls:index/privateKey:PrivateKey": "computed by Pulumi, no cloud resource",
  "tls:index/selfSignedCert:SelfSignedCert": "computed by Pulumi, no cloud resource",
  "random:index/randomString:RandomString": "computed by Pulumi, no cloud resource",
  "aws:lb/listenerRule:ListenerRule": "billed on the load balancer",
  "aws:cognito/userPoolClient:UserPoolClient": "billed on the user pool (monthly active users)",
  "aws:cognito/userPoolDomain:UserPoolDomain": "billed on the user pool (monthly active users)",
  "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup":
    "billed on its domain lists and the queries of its association",
  "aws:route53/resolverFirewallRule:ResolverFirewallRule":
    "billed on its domain lists and the queries of its association",
  "aws:route53/resolverFirewallConfig:ResolverFirewallConfig": "a VPC setting",
};

/** Types the estimator prices (the rest must be in FREE_TYPES or they are "not priced"). */
export const PRICED_TYPES = Object.keys(rules);

export interface EstimateOptions {
  region: string;
  tier: string;
  prices: PriceTable;
  /** The copy region's prices (`copyRegion`), for the replica bucket and the copied snapshots. */
  copyPrices?: PriceTable;
  assumptions: Record<string, Assumption>;
  overrides?: Record<string, number>;
}

export function estimateRun(run: OfflineRun, options: EstimateOptions): StackEstimate {
  const values = Object.fromEntries(Object.entries(options.assumptions).map(([key, item]) => [key, item.value]));
  Object.assign(values, options.overrides ?? {});
  const custom = run.resources.filter((resource) => resource.custom && !resource.type.startsWith("pulumi:providers:"));
  const names = new Map(run.resources.map((resource) => [resource.urn, resource]));
  const ctx: Context = {
    run,
    price: (key) => {
      const price = options.prices.prices[key];
      if (!price) throw new MissingPrice(`${key} (no such price in config/prices/${options.region}.json)`);
      return price.usd;
    },
    copyPrice: (key) => {
      const table = options.copyPrices;
      if (!table) throw new MissingPrice(`${key} in the copy region (its price file was not loaded)`);
      const price = table.prices[key];
      if (!price) throw new MissingPrice(`${key} (no such price in config/prices/${table.region}.json)`);
      return price.usd;
    },
    assume: (key) => {
      if (!(key in values))
        throw new Error(`cost assumption ${key} is not documented in config/prices/assumptions.json`);
      return values[key];
    },
    byState: (key, value) => custom.find((resource) => resource.state[key] === value),
    ofType: (type) => custom.filter((resource) => resource.type === type),
  };
  const estimate: StackEstimate = {
    stack: run.stack,
    tier: options.tier,
    region: options.region,
    monthlyUsd: 0,
    items: [],
    free: [],
    notPriced: [],
    assumptions: values,
    overridden: Object.keys(options.overrides ?? {}),
  };
  for (const resource of custom) {
    const parent = resource.parent ? names.get(resource.parent) : undefined;
    const component = parent && parent.type !== "pulumi:pulumi:Stack" ? parent.name : "stack";
    const identity = { urn: resource.urn, type: resource.type, name: resource.name, component };
    const rule = rules[resource.type];
    if (!rule) {
      const why = FREE_TYPES[resource.type];
      if (why) estimate.free.push({ ...identity, reason: why });
      else estimate.notPriced.push({ ...identity, reason: "no price rule for this resource type" });
      continue;
    }
    try {
      for (const item of rule(resource, ctx))
        estimate.items.push({ ...identity, ...omitUsd(item), monthlyUsd: round(item.usd) });
    } catch (error) {
      if (!(error instanceof MissingPrice)) throw error;
      estimate.notPriced.push({ ...identity, reason: `no price for ${error.message}` });
    }
  }
  estimate.monthlyUsd = round(estimate.items.reduce((sum, item) => sum + item.monthlyUsd, 0));
  return estimate;
}

function omitUsd(item: Line): Omit<Line, "usd"> {
  return { part: item.part, basis: item.basis, prices: item.prices };
}

/** Cents, with sub-cent items kept to four places so small lines still show. */
function round(usd: number): number {
  return Math.round(usd * 10_000) / 10_000;
}
