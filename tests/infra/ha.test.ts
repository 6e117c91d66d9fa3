// The `ha` tier under the offline mocks: the group of hosts, the shared stores and their security
// properties, the Multi-AZ database, and that `single` and `standard` declare none of it.
import { readFileSync } from "fs";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun, PlannedResource } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { validateConfig } from "../../infra/config";
import { estimatePlannedRun } from "../../infra/cost/report";
import { loadPrices } from "../../infra/cost/tables";
import { byReference, named, ofType, policyStatements } from "./helpers";

const T = {
  group: "aws:autoscaling/group:Group",
  policy: "aws:autoscaling/policy:Policy",
  template: "aws:ec2/launchTemplate:LaunchTemplate",
  instance: "aws:ec2/instance:Instance",
  fileSystem: "aws:efs/fileSystem:FileSystem",
  mountTarget: "aws:efs/mountTarget:MountTarget",
  accessPoint: "aws:efs/accessPoint:AccessPoint",
  fileSystemPolicy: "aws:efs/fileSystemPolicy:FileSystemPolicy",
  cache: "aws:elasticache/replicationGroup:ReplicationGroup",
  securityGroup: "aws:ec2/securityGroup:SecurityGroup",
  ingress: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  egress: "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  subnet: "aws:ec2/subnet:Subnet",
  rds: "aws:rds/instance:Instance",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  eventRule: "aws:cloudwatch/eventRule:EventRule",
  eventTarget: "aws:cloudwatch/eventTarget:EventTarget",
  selection: "aws:backup/selection:Selection",
  secret: "aws:secretsmanager/secret:Secret",
  key: "aws:kms/key:Key",
  targetGroup: "aws:lb/targetGroup:TargetGroup",
  attachment: "aws:lb/targetGroupAttachment:TargetGroupAttachment",
};
const haTypes = [T.group, T.template, T.fileSystem, T.cache, T.accessPoint];

let ha: OfflineRun;
let single: OfflineRun;
let standard: OfflineRun;
beforeAll(async () => {
  ha = await planStack({ config: { "openemr:tier": "ha" }, stackName: "clinic-ha" });
  single = await planStack({ config: { "openemr:tier": "single" }, stackName: "clinic-small" });
  standard = await planStack({ config: { "openemr:tier": "standard" }, stackName: "clinic-prod" });
}, 120_000);

const dataKey = (run: OfflineRun) => named(run, T.key, "keys-data").state.arn;
const template = () => named(ha, T.template, "host-template");
const group = () => named(ha, T.group, "host-group-asg");
const sg = (name: string) => named(ha, T.securityGroup, name);
/** `<from>-<to> <peer group's name>` for each rule of `type` on the group `on`. */
const rulesOn = (type: string, on: PlannedResource) =>
  ofType(ha, type)
    .filter((rule) => rule.inputs.securityGroupId === on.state.id)
    .map(
      (rule) =>
        `${rule.inputs.fromPort}-${rule.inputs.toPort} ${
          byReference(ha, rule.inputs.referencedSecurityGroupId)?.name ?? rule.inputs.cidrIpv4
        }`,
    );
/** settings.env from the launch template's (base64) user-data. */
const templateSettings = (): Record<string, string> => {
  const userData = parse(
    Buffer.from(template().inputs.userData, "base64")
      .toString()
      .replace(/^#cloud-config\n/, ""),
  );
  const file = userData.write_files.find((entry: any) => entry.path === "/etc/openemr-aws/settings.env");
  return Object.fromEntries(
    (file.content as string)
      .trim()
      .split("\n")
      .map((line: string) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
};

describe("ha: the hosts", () => {
  it("is a launch template and a group, not a lone instance", () => {
    expect(ofType(ha, T.instance).filter((resource) => resource.name === "host-instance")).toEqual([]);
    expect(ofType(ha, T.template)).toHaveLength(1);
    expect(ofType(ha, T.group)).toHaveLength(1);
  });

  it("launch template: IMDSv2 with hop limit 1, no public IP, root encrypted with the data key", () => {
    const { inputs } = template();
    expect(inputs.metadataOptions).toEqual({
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: "disabled",
    });
    expect(inputs.networkInterfaces).toEqual([
      expect.objectContaining({
        associatePublicIpAddress: "false",
        securityGroups: [named(ha, T.securityGroup, "security-groups-host").state.id],
      }),
    ]);
    expect(inputs.keyName).toBeUndefined();
    expect(inputs.blockDeviceMappings).toEqual([
      {
        deviceName: "/dev/xvda",
        ebs: expect.objectContaining({ encrypted: "true", kmsKeyId: dataKey(ha), volumeType: "gp3" }),
      },
    ]);
  });

  it("launch template: the same Debian 13 image lookup and the host's instance profile", () => {
    const { inputs } = template();
    const lookup = ha.invokes.find((invoke) => invoke.token === "aws:ec2/getAmi:getAmi");
    expect(lookup?.inputs.filters).toContainEqual({ name: "name", values: ["debian-13-arm64-*"] });
    expect(inputs.iamInstanceProfile.arn).toBe(
      named(ha, "aws:iam/instanceProfile:InstanceProfile", "host-profile").state.arn,
    );
    expect(inputs.instanceType).toBe("t4g.small");
  });

  it("user-data: the host bundle's settings with the shared stores, and no secret values", () => {
    const settings = templateSettings();
    expect(settings.OPENEMR_TIER).toBe("ha");
    expect(settings.EFS_FILE_SYSTEM_ID).toBe(named(ha, T.fileSystem, "shared-files-fs").state.id);
    expect(settings.EFS_ACCESS_POINT_ID).toBe(named(ha, T.accessPoint, "shared-files-sites").state.id);
    expect(settings.SESSION_CACHE_HOST).toBe(named(ha, T.cache, "session-cache-valkey").state.primaryEndpointAddress);
    expect(settings.SECRET_SESSION_CACHE).toBe(named(ha, T.secret, "session-cache-auth").state.arn);
    const token = named(ha, "random:index/randomPassword:RandomPassword", "session-cache-auth").state.result;
    expect(Buffer.from(template().inputs.userData, "base64").toString()).not.toContain(token);
  });

  it("user-data: settings.env has every key of the host contract for EC2 but the single tier's data volume", () => {
    const contract = readFileSync("docs/host-interface.md", "utf8").split("## settings.env")[1].split("\n## ")[0];
    const keys = [...contract.matchAll(/^\| (`[A-Z0-9_]+`(?: \/ `[A-Z0-9_]+`)*) \|/gm)].flatMap((match) =>
      match[1].replace(/`/g, "").split(" / "),
    );
    const onPremOrSingle = ["BACKUP_DIR", "BACKUP_SIGNING_KEY_FILE", "RESTORE_KEEP_DAYS", "DATA_VOLUME_ID", "DATA_DIR"];
    expect(Object.keys(templateSettings()).sort()).toEqual(keys.filter((key) => !onPremOrSingle.includes(key)).sort());
  });

  it("group: at least two hosts over every app subnet's zone, registered with the target group", () => {
    const { inputs } = group();
    expect(inputs.minSize).toBe(2);
    expect(inputs.maxSize).toBe(4);
    const zones = inputs.vpcZoneIdentifiers.map((id: string) => byReference(ha, id)?.inputs.availabilityZone);
    expect(new Set(zones).size).toBeGreaterThanOrEqual(2);
    expect(inputs.targetGroupArns).toEqual([named(ha, T.targetGroup, "edge-host").state.arn]);
    expect(ofType(ha, T.attachment)).toEqual([]);
    expect(inputs.launchTemplate).toEqual({ id: template().state.id, version: "1" });
  });

  it("group: ELB health checks after a grace period that covers the bootstrap", () => {
    const { inputs } = group();
    expect(inputs.healthCheckType).toBe("ELB");
    expect(inputs.healthCheckGracePeriod).toBeGreaterThanOrEqual(900);
  });

  it("group: instance refresh keeps full capacity, rolls back on failure, pauses at checkpoints", () => {
    expect(group().inputs.instanceRefresh).toEqual({
      strategy: "Rolling",
      preferences: expect.objectContaining({
        minHealthyPercentage: 100,
        maxHealthyPercentage: 200,
        autoRollback: true,
        checkpointPercentages: [50, 100],
      }),
    });
  });

  it("group: target tracking on the load balancer's requests per host", () => {
    const [policy] = ofType(ha, T.policy);
    const alb = named(ha, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").state.arnSuffix;
    const hosts = named(ha, T.targetGroup, "edge-host").state.arnSuffix;
    expect(policy.inputs.policyType).toBe("TargetTrackingScaling");
    expect(policy.inputs.targetTrackingConfiguration).toEqual({
      predefinedMetricSpecification: {
        predefinedMetricType: "ALBRequestCountPerTarget",
        resourceLabel: `${alb}/${hosts}`,
      },
      targetValue: 1000,
    });
  });

  it("alarms: fewer hosts in service than the minimum (missing data breaching), and the group's CPU", () => {
    const inService = named(ha, T.alarm, "monitoring-host-group-in-service").inputs;
    expect(inService).toMatchObject({
      namespace: "AWS/AutoScaling",
      metricName: "GroupInServiceInstances",
      comparisonOperator: "LessThanThreshold",
      threshold: 2,
      treatMissingData: "breaching",
      dimensions: { AutoScalingGroupName: group().inputs.name },
    });
    expect(group().inputs.enabledMetrics).toContain("GroupInServiceInstances");
    expect(named(ha, T.alarm, "monitoring-host-group-cpu").inputs.dimensions).toEqual({
      AutoScalingGroupName: group().inputs.name,
    });
  });
});

describe("ha: sites/ on EFS", () => {
  const fileSystem = () => named(ha, T.fileSystem, "shared-files-fs");

  it("is encrypted with the data key, elastic throughput by default", () => {
    expect(fileSystem().inputs).toMatchObject({ encrypted: true, kmsKeyId: dataKey(ha), throughputMode: "elastic" });
  });

  it("has a mount target in each app subnet, in the EFS group", () => {
    const appSubnets = group().inputs.vpcZoneIdentifiers;
    const mounts = ofType(ha, T.mountTarget);
    expect(mounts.map((mount) => mount.inputs.subnetId).sort()).toEqual([...appSubnets].sort());
    for (const mount of mounts) expect(mount.inputs.securityGroups).toEqual([sg("shared-files-sg").state.id]);
  });

  it("admits NFS from the hosts' group only, and the hosts reach it", () => {
    expect(rulesOn(T.ingress, sg("shared-files-sg"))).toEqual(["2049-2049 security-groups-host"]);
    expect(rulesOn(T.egress, sg("security-groups-host"))).toContain("2049-2049 shared-files-sg");
  });

  it("access point: www-data (33) rooted at /openemr-sites", () => {
    expect(named(ha, T.accessPoint, "shared-files-sites").inputs).toMatchObject({
      posixUser: { uid: 33, gid: 33 },
      rootDirectory: { path: "/openemr-sites", creationInfo: { ownerUid: 33, ownerGid: 33 } },
    });
  });

  it("file system policy denies every request without TLS", () => {
    const statements = policyStatements(named(ha, T.fileSystemPolicy, "shared-files-policy").inputs.policy);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Deny",
        Action: "*",
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      }),
    );
  });

  it("is in the AWS Backup selection, beside the database (no lone host to snapshot)", () => {
    const [selection] = ofType(ha, T.selection);
    expect(selection.inputs.resources).toEqual([
      named(ha, T.rds, "database-instance").state.arn,
      fileSystem().state.arn,
    ]);
  });

  it("alarm: PercentIOLimit in elastic mode, BurstCreditBalance in bursting mode", async () => {
    expect(named(ha, T.alarm, "monitoring-efs-io-limit").inputs).toMatchObject({
      namespace: "AWS/EFS",
      metricName: "PercentIOLimit",
      dimensions: { FileSystemId: fileSystem().state.id },
    });
    const bursting = await planStack({
      config: { "openemr:tier": "ha", "openemr:efsThroughputMode": "bursting" },
      stackName: "clinic-ha",
    });
    expect(named(bursting, T.fileSystem, "shared-files-fs").inputs.throughputMode).toBe("bursting");
    expect(named(bursting, T.alarm, "monitoring-efs-burst-credits").inputs.metricName).toBe("BurstCreditBalance");
    expect(ofType(bursting, T.alarm).map((alarm) => alarm.name)).not.toContain("monitoring-efs-io-limit");
  }, 120_000);
});

describe("ha: sessions in Valkey", () => {
  const cache = () => named(ha, T.cache, "session-cache-valkey");

  it("two nodes, Multi-AZ with automatic failover, the default node type", () => {
    expect(cache().inputs).toMatchObject({
      engine: "valkey",
      numCacheClusters: 2,
      multiAzEnabled: true,
      automaticFailoverEnabled: true,
      nodeType: "cache.t4g.micro",
    });
  });

  it("TLS required, AUTH token, encrypted at rest with the data key", () => {
    expect(cache().inputs).toMatchObject({
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      atRestEncryptionEnabled: true,
      kmsKeyId: dataKey(ha),
    });
    expect(cache().secretPaths).toContain("authToken");
  });

  it("its AUTH token is a Secrets Manager secret on the data key, readable by the host role", () => {
    const secret = named(ha, T.secret, "session-cache-auth");
    expect(secret.inputs.kmsKeyId).toBe(dataKey(ha));
    const read = policyStatements(named(ha, "aws:iam/policy:Policy", "host-access").inputs.policy).find(
      (statement) => statement.Sid === "ReadOwnSecrets",
    );
    expect(read.Resource).toContain(secret.state.arn);
  });

  it("admits 6379 from the hosts' group only", () => {
    expect(rulesOn(T.ingress, sg("session-cache-sg"))).toEqual(["6379-6379 security-groups-host"]);
    expect(rulesOn(T.egress, sg("security-groups-host"))).toContain("6379-6379 session-cache-sg");
  });
});

describe("ha: the database", () => {
  it("is RDS MySQL Multi-AZ, with the database accounts function as on standard", () => {
    expect(named(ha, T.rds, "database-instance").inputs).toMatchObject({ engine: "mysql", multiAz: true });
    expect(ofType(ha, "aws:lambda/function:Function").map((fn) => fn.name)).toContain("database-users-function");
  });

  it("its failover, failure and notification events reach the alarm topic", () => {
    const rule = named(ha, T.eventRule, "monitoring-db-events");
    expect(JSON.parse(rule.inputs.eventPattern)).toEqual({
      source: ["aws.rds"],
      "detail-type": ["RDS DB Instance Event"],
      detail: {
        SourceIdentifier: [named(ha, T.rds, "database-instance").inputs.identifier],
        EventCategories: ["failover", "failure", "notification"],
      },
    });
    const target = named(ha, T.eventTarget, "monitoring-db-events");
    expect(target.inputs.arn).toBe(named(ha, "aws:sns/topic:Topic", "monitoring-alarms").state.arn);
  });
});

describe("ha: config", () => {
  it("defaults multiAz to true and refuses false", () => {
    expect(validateConfig({ tier: "ha" }).config?.multiAz).toBe(true);
    expect(validateConfig({ tier: "ha", multiAz: false }).problems).toEqual([
      'openemr:multiAz: false on tier "ha"; expected true (or unset): ' +
        "the ha tier's database keeps a standby in a second zone",
    ]);
  });

  it("refuses a maximum below the minimum, and a group of one", () => {
    expect(validateConfig({ tier: "ha", haMinSize: 3, haMaxSize: 2 }).problems).toEqual([
      "openemr:haMaxSize: 2 is below openemr:haMinSize (3); expected at least as many hosts as the group's minimum",
    ]);
    expect(validateConfig({ tier: "ha", haMinSize: 1 }).problems).toEqual([
      "openemr:haMinSize: 1 is too small; expected at least 2",
    ]);
  });

  it("warns when an ha-only key is set on another tier", () => {
    expect(validateConfig({ tier: "standard", haMinSize: 3 }).warnings.join("\n")).toContain(
      "openemr:haMinSize is set, but tier standard does not use it",
    );
  });
});

describe("ha: the estimate", () => {
  const priceOf = (key: string) => loadPrices("us-east-1").prices[key].usd;
  const itemOf = (name: string, part: string) => {
    const item = estimatePlannedRun(ha, "us-east-1").items.find((each) => each.name === name && each.part === part);
    if (!item) throw new Error(`no estimate line ${name} ${part}`);
    return item;
  };

  it("prices each of the group's hosts: instance hours and root volume x its minimum", () => {
    expect(itemOf("host-group-asg", "compute").monthlyUsd).toBeCloseTo(730 * 2 * priceOf("ec2.instance.t4g.small"), 6);
    expect(itemOf("host-group-asg", "root volumes").monthlyUsd).toBeCloseTo(30 * 2 * priceOf("ebs.gp3.storage"), 6);
  });

  it("prices the database at Multi-AZ rates, EFS storage and elastic transfer, and both Valkey nodes", () => {
    expect(itemOf("database-instance", "compute").prices).toEqual(["rds.mysql.db.t4g.small.multiAz"]);
    expect(itemOf("database-instance", "storage").prices).toEqual(["rds.gp3.storage.multiAz"]);
    expect(itemOf("shared-files-fs", "storage").prices).toEqual(["efs.standard.storage"]);
    expect(itemOf("shared-files-fs", "reads").prices).toEqual(["efs.elastic.read"]);
    expect(itemOf("session-cache-valkey", "nodes").monthlyUsd).toBeCloseTo(
      730 * 2 * priceOf("elasticache.valkey.cache.t4g.micro"),
      6,
    );
    expect(estimatePlannedRun(ha, "us-east-1").notPriced).toEqual([]);
  });
});

describe("single and standard declare none of it", () => {
  // Their resource lists, committed: a change that adds, removes or renames one of their
  // resources shows in review as a change to these files (vitest -u rewrites them).
  it.each(["single", "standard"] as const)("%s: the same resources as before", async (tier) => {
    const run = tier === "single" ? single : standard;
    const list = run.resources.map((resource) => `${resource.type} ${resource.name}`).sort();
    await expect(list.join("\n") + "\n").toMatchFileSnapshot(`./tier-resources/${tier}.txt`);
  });

  it.each(["single", "standard"] as const)("%s: one host instance, no group, EFS or cache", (tier) => {
    const run = tier === "single" ? single : standard;
    expect(run.resources.filter((resource) => haTypes.includes(resource.type))).toEqual([]);
    expect(named(run, T.instance, "host-instance").inputs.metadataOptions.httpTokens).toBe("required");
    expect(ofType(run, T.attachment)).toHaveLength(1);
    expect(ofType(run, T.eventRule).map((rule) => rule.name)).not.toContain("monitoring-db-events");
  });
});
