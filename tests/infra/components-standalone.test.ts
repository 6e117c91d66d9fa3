// Each component as another Pulumi program would use it: only its required wiring, every optional
// arg left out. The defaults it applies are the stack's (config/schema.json), and the region is
// the provider's (the offline run's, eu-central-1, where the stack would default to us-east-1).
import { describe, expect, it } from "vitest";
import {
  Audit,
  BackupStorage,
  Database,
  Edge,
  Host,
  Keys,
  Monitoring,
  Network,
  SecurityGroups,
  SnapshotBackups,
} from "../../infra/components";
import { configProperties, type StackConfig } from "../../infra/config";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { defaultInstanceType } from "../../infra/instance-architecture";
import { hostInstance, named, ofType, policyStatements, userDataSettings } from "./helpers";

const REGION = "eu-central-1";
const DATA_KEY = "arn:aws:kms:eu-central-1:111122223333:key/data";
const LOGS_KEY = "arn:aws:kms:eu-central-1:111122223333:key/logs";

/** The default config/schema.json gives `key`: what a component must apply when the arg is left out. */
const schemaDefault = (key: keyof StackConfig) => configProperties[key].default;

/** Runs `declare` as a whole program of its own; the components it declares are not stack outputs. */
function standalone(declare: () => unknown): Promise<OfflineRun> {
  return runOffline(
    () => {
      declare();
    },
    { region: REGION, stack: "clinic" },
  );
}

const hostWiring = {
  stackName: "clinic",
  subnetId: "subnet-app",
  availabilityZone: `${REGION}a`,
  securityGroupId: "sg-host",
  dataKeyArn: DATA_KEY,
  logsKeyArn: LOGS_KEY,
  logGroupPrefix: "/openemr-aws/clinic",
  backupBucketName: "clinic-backups",
  backupBucketArn: "arn:aws:s3:::clinic-backups",
};

describe("Keys alone", () => {
  it("kept on destroy, and CloudWatch Logs of the provider's region may use the logs key", async () => {
    const run = await standalone(() => new Keys("keys", { stackName: "clinic" }));
    const logsService = policyStatements(named(run, "aws:kms/key:Key", "keys-logs").inputs.policy)
      .map((statement) => statement.Principal.Service)
      .find((service) => String(service).startsWith("logs."));
    expect(ofType(run, "aws:kms/key:Key").map((key) => key.retainOnDelete)).toEqual(
      Array(3).fill(schemaDefault("retainDataOnDestroy")),
    );
    expect(logsService).toBe(`logs.${REGION}.amazonaws.com`);
  });
});

describe("Network alone", () => {
  it("the default range over the default zone count, endpoints and flow logs of the provider's region", async () => {
    const run = await standalone(
      () => new Network("network", { logsKeyArn: LOGS_KEY, logGroupPrefix: "/openemr-aws/clinic" }),
    );
    const flowLogs = named(run, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs");
    expect(named(run, "aws:ec2/vpc:Vpc", "network-vpc").inputs.cidrBlock).toBe(schemaDefault("vpcCidr"));
    expect(ofType(run, "aws:ec2/subnet:Subnet")).toHaveLength(3 * (schemaDefault("azCount") as number));
    expect(named(run, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3").inputs.serviceName).toBe(
      `com.amazonaws.${REGION}.s3`,
    );
    expect([flowLogs.inputs.retentionInDays, flowLogs.retainOnDelete]).toEqual([
      schemaDefault("auditLogRetentionDays"),
      schemaDefault("retainDataOnDestroy"),
    ]);
  });
});

describe("SecurityGroups alone", () => {
  it("the load balancer open to the default client ranges, and a database group", async () => {
    const run = await standalone(
      () => new SecurityGroups("security-groups", { vpcId: "vpc-1", endpointSecurityGroupId: "sg-endpoints" }),
    );
    const albIngress = ofType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
      .filter((rule) => rule.name.startsWith("security-groups-alb-"))
      .map((rule) => [rule.inputs.fromPort, rule.inputs.cidrIpv4]);
    const allowed = schemaDefault("allowedCidrs") as string[];
    expect(albIngress).toEqual(
      allowed.flatMap((cidr) => [
        [443, cidr],
        [80, cidr],
      ]),
    );
    expect(named(run, "aws:ec2/securityGroup:SecurityGroup", "security-groups-db")).toBeDefined();
  });
});

describe("Database alone", () => {
  it("class, storage, Multi-AZ, backups and retention from the schema's defaults", async () => {
    const run = await standalone(
      () =>
        new Database("database", {
          stackName: "clinic",
          subnetIds: ["subnet-db-a", "subnet-db-b"],
          securityGroupId: "sg-db",
          dataKeyArn: DATA_KEY,
          logsKeyArn: LOGS_KEY,
        }),
    );
    const instance = named(run, "aws:rds/instance:Instance", "database-instance");
    expect(instance.inputs).toMatchObject({
      instanceClass: schemaDefault("dbInstanceClass"),
      allocatedStorage: schemaDefault("dbStorageGb"),
      maxAllocatedStorage: schemaDefault("dbMaxStorageGb"),
      multiAz: schemaDefault("multiAz"),
      backupRetentionPeriod: schemaDefault("backupRetentionDays"),
    });
    expect(instance.retainOnDelete).toBe(schemaDefault("retainDataOnDestroy"));
    // The audit log is an audit record (auditLogRetentionDays); error and general are operational.
    expect(ofType(run, "aws:cloudwatch/logGroup:LogGroup").map((logGroup) => logGroup.inputs.retentionInDays)).toEqual([
      schemaDefault("auditLogRetentionDays"),
      ...Array(2).fill(schemaDefault("logRetentionDays")),
    ]);
  });
});

describe("Database Performance Insights by instance class", () => {
  const planned = async (instanceClass: string) =>
    named(
      await standalone(
        () =>
          new Database("database", {
            stackName: "clinic",
            subnetIds: ["subnet-db-a", "subnet-db-b"],
            securityGroupId: "sg-db",
            dataKeyArn: DATA_KEY,
            logsKeyArn: LOGS_KEY,
            instanceClass,
          }),
      ),
      "aws:rds/instance:Instance",
      "database-instance",
    ).inputs;

  it.each(["db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small", "db.t2.small"])(
    "%s: off, with no key or retention (RDS MySQL has no Performance Insights there)",
    async (instanceClass) => {
      const inputs = await planned(instanceClass);
      expect([
        inputs.performanceInsightsEnabled,
        inputs.performanceInsightsKmsKeyId,
        inputs.performanceInsightsRetentionPeriod,
      ]).toEqual([false, undefined, undefined]);
    },
  );
  it.each(["db.t3.medium", "db.t4g.medium", "db.t4g.large", "db.m7g.large", "db.r6i.xlarge"])(
    "%s: on, encrypted with the data key",
    async (instanceClass) => {
      expect(await planned(instanceClass)).toMatchObject({
        performanceInsightsEnabled: true,
        performanceInsightsKmsKeyId: DATA_KEY,
        performanceInsightsRetentionPeriod: 7,
      });
    },
  );
});

describe("Host alone", () => {
  it("without a database: the single tier, with the default sizes, release and upload limit", async () => {
    const run = await standalone(() => new Host("host", hostWiring));
    const settings = userDataSettings(run);
    const dataVolume = named(run, "aws:ebs/volume:Volume", "host-data");
    expect(hostInstance(run).inputs).toMatchObject({
      instanceType: defaultInstanceType("single"),
      rootBlockDevice: { volumeSize: schemaDefault("rootVolumeGb") },
    });
    expect([dataVolume.inputs.size, dataVolume.retainOnDelete]).toEqual([
      schemaDefault("dataVolumeGb"),
      schemaDefault("retainDataOnDestroy"),
    ]);
    expect(settings).toMatchObject({
      OPENEMR_TIER: "single",
      OPENEMR_VERSION: schemaDefault("openemrVersion"),
      OPENEMR_UPLOAD_MAX_MB: String(schemaDefault("uploadMaxMb")),
      DB_PASSWORD_ROTATION_DAYS: String(schemaDefault("dbPasswordRotationDays")),
      AWS_REGION: REGION,
      DB_HOST: "localhost",
      DB_APP_HOST: "localhost",
    });
  });

  it("with a database: the standard tier, connecting to it, with no data volume", async () => {
    const run = await standalone(
      () =>
        new Host("host", {
          ...hostWiring,
          database: {
            address: "clinic.example.rds.amazonaws.com",
            port: 3306,
            appUserHost: "10.40.64.0/255.255.192.0",
          },
        }),
    );
    expect(ofType(run, "aws:ebs/volume:Volume")).toEqual([]);
    expect(userDataSettings(run)).toMatchObject({
      OPENEMR_TIER: "standard",
      DB_HOST: "clinic.example.rds.amazonaws.com",
      DB_APP_HOST: "10.40.64.0/255.255.192.0",
    });
  });
});

describe("BackupStorage and SnapshotBackups alone", () => {
  it("lock, expiry, access-log and snapshot retention from the schema's defaults", async () => {
    const run = await standalone(() => {
      new BackupStorage("backup", { dataKeyArn: DATA_KEY });
      new SnapshotBackups("snapshots", { namePrefix: "clinic", dataKeyArn: DATA_KEY, hostInstanceArn: "arn:host" });
    });
    const lifecycle = (bucket: string) =>
      named(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${bucket}-lifecycle`).inputs
        .rules[0];
    const lock = named(
      run,
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      "backup-backups-object-lock",
    );
    expect(lock.inputs.rule.defaultRetention.days).toBe(schemaDefault("objectLockDays"));
    expect(lifecycle("backup-backups").expiration.days).toBe(schemaDefault("backupExpiryDays"));
    expect(lifecycle("backup-access-logs").expiration.days).toBe(schemaDefault("logRetentionDays"));
    expect(named(run, "aws:s3/bucket:Bucket", "backup-access-logs").retainOnDelete).toBe(
      schemaDefault("retainDataOnDestroy"),
    );
    expect(named(run, "aws:backup/plan:Plan", "snapshots-plan").inputs.rules[0].lifecycle.deleteAfter).toBe(
      schemaDefault("backupRetentionDays"),
    );
  });
});

describe("Edge alone", () => {
  it("the WAF log group keeps logs for the default retention and outlives the stack", async () => {
    const run = await standalone(
      () =>
        new Edge("edge", {
          namePrefix: "clinic",
          vpcId: "vpc-1",
          publicSubnetIds: ["subnet-a", "subnet-b"],
          albSecurityGroupId: "sg-alb",
          hostInstanceId: "i-0host",
          accessLogBucket: "clinic-access-logs",
          logsKeyArn: LOGS_KEY,
        }),
    );
    const wafLogs = named(run, "aws:cloudwatch/logGroup:LogGroup", "edge-waf-logs");
    expect([wafLogs.inputs.retentionInDays, wafLogs.retainOnDelete]).toEqual([
      schemaDefault("logRetentionDays"),
      schemaDefault("retainDataOnDestroy"),
    ]);
  });
});

describe("Monitoring alone", () => {
  const wiring = {
    namePrefix: "clinic",
    alertsKeyArn: "arn:aws:kms:eu-central-1:111122223333:key/alerts",
    hostInstanceId: "i-0host",
    loadBalancerArnSuffix: "app/clinic/1",
    targetGroupArnSuffix: "targetgroup/clinic/2",
    certificateArn: "arn:aws:acm:eu-central-1:111122223333:certificate/1",
    backupVaultName: "clinic-openemr",
  };
  const diskAlarmPaths = (run: OfflineRun) =>
    ofType(run, "aws:cloudwatch/metricAlarm:MetricAlarm")
      .filter((alarm) => alarm.inputs.metricName === "disk_used_percent")
      .map((alarm) => alarm.inputs.dimensions.path);

  it("without a database: root and data disks alarmed, in the provider's region, no subscription", async () => {
    const run = await standalone(() => new Monitoring("monitoring", wiring));
    const dashboard = JSON.parse(
      named(run, "aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard").inputs.dashboardBody,
    );
    const recover = named(run, "aws:cloudwatch/metricAlarm:MetricAlarm", "monitoring-host-system-status");
    expect(diskAlarmPaths(run)).toEqual(["/", "/srv/openemr-data"]);
    expect(recover.inputs.alarmActions[0]).toBe(`arn:aws:automate:${REGION}:ec2:recover`);
    expect(dashboard.widgets[1].properties.region).toBe(REGION);
    expect(ofType(run, "aws:sns/topicSubscription:TopicSubscription")).toHaveLength(
      (schemaDefault("alertEmails") as string[]).length,
    );
  });

  it("with a database: only the root disk alarmed", async () => {
    const run = await standalone(
      () => new Monitoring("monitoring", { ...wiring, database: { identifier: "clinic", allocatedStorageGb: 50 } }),
    );
    expect(diskAlarmPaths(run)).toEqual(["/"]);
  });
});

describe("Audit alone", () => {
  it("a trail in the provider's region, its log group kept for the default retention", async () => {
    const run = await standalone(
      () =>
        new Audit("audit", {
          namePrefix: "clinic",
          logsKeyArn: LOGS_KEY,
          logGroupPrefix: "/openemr-aws/clinic",
          accessLogBucket: "clinic-access-logs",
        }),
    );
    const trailLogs = named(run, "aws:cloudwatch/logGroup:LogGroup", "audit-trail");
    const trailRole = named(run, "aws:iam/role:Role", "audit-trail-delivery");
    expect(ofType(run, "aws:cloudtrail/trail:Trail")).toHaveLength(schemaDefault("createCloudTrail") ? 1 : 0);
    expect([trailLogs.inputs.retentionInDays, trailLogs.retainOnDelete]).toEqual([
      schemaDefault("auditLogRetentionDays"),
      schemaDefault("retainDataOnDestroy"),
    ]);
    const trailBucketPolicy = policyStatements(
      named(run, "aws:s3/bucketPolicy:BucketPolicy", "audit-trail-policy").inputs.policy,
    );
    expect(
      trailBucketPolicy.find((statement) => statement.Sid === "CloudTrailWritesLogFiles").Condition.StringEquals,
    ).toMatchObject({ "aws:SourceArn": `arn:aws:cloudtrail:${REGION}:111122223333:trail/clinic-openemr` });
    expect(policyStatements(trailRole.inputs.assumeRolePolicy)[0].Principal.Service).toBe("cloudtrail.amazonaws.com");
  });
});
