import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun, type PlannedResource } from "../../infra/offline/run";
import { hostInstance, named, ofType, policyStatements, userDataSettings } from "./helpers";
import { planStack } from "../../infra/plan/plan";
import { Monitoring, type MonitoringArgs } from "../../infra/components/monitoring";

const ALERTS_KEY = "arn:aws:kms:us-east-1:111122223333:key/test-alerts-key";
const CERT_ARN = "arn:aws:acm:us-east-1:111122223333:certificate/test";

const baseArgs: MonitoringArgs = {
  namePrefix: "clinic",
  region: "us-east-1",
  alertsKeyArn: ALERTS_KEY,
  alertEmails: ["ops@example.org", "it@example.org"],
  hostInstanceId: "i-0host",
  diskPaths: ["/"],
  loadBalancerArnSuffix: "app/clinic-alb/abc",
  targetGroupArnSuffix: "targetgroup/clinic-tg/def",
  certificateArn: CERT_ARN,
  backupVaultName: "clinic-openemr",
};

const standardArgs: MonitoringArgs = {
  ...baseArgs,
  database: { identifier: "clinic-openemr", allocatedStorageGb: 50 },
};
const singleArgs: MonitoringArgs = { ...baseArgs, diskPaths: ["/", "/srv/openemr-data"] };
/** `ha`: no one host, the group; disk paths left to their default (with a database, `/` only). */
const haArgs: MonitoringArgs = {
  ...standardArgs,
  hostInstanceId: undefined,
  diskPaths: undefined,
  hostGroup: { name: "clinic-openemr", minSize: 2 },
  database: { identifier: "clinic-openemr", allocatedStorageGb: 50, multiAz: true },
};

function alarms(run: OfflineRun): PlannedResource[] {
  return ofType(run, "aws:cloudwatch/metricAlarm:MetricAlarm");
}

function alarmOn(
  run: OfflineRun,
  namespace: string,
  metricName: string,
  dimensions?: Record<string, string>,
): Record<string, any> {
  const found = alarms(run).filter(
    (alarm) =>
      alarm.inputs.namespace === namespace &&
      alarm.inputs.metricName === metricName &&
      (!dimensions || Object.entries(dimensions).every(([key, value]) => alarm.inputs.dimensions?.[key] === value)),
  );
  expect(found, `alarm on ${namespace} ${metricName}`).toHaveLength(1);
  return found[0].inputs;
}

function monitoringRun(args: MonitoringArgs): Promise<OfflineRun> {
  return runOffline(() => {
    const monitoring = new Monitoring("monitoring", args);
    return { topicArn: monitoring.topicArn, dashboardName: monitoring.dashboardName };
  });
}

describe("Monitoring, standard tier", () => {
  let run: OfflineRun;
  let topicArn: string;
  beforeAll(async () => {
    run = await monitoringRun(standardArgs);
    topicArn = named(run, "aws:sns/topic:Topic", "monitoring-alarms").state.arn;
  });

  it("topic: encrypted with the alerts key", () => {
    expect(named(run, "aws:sns/topic:Topic", "monitoring-alarms").inputs.kmsMasterKeyId).toBe(ALERTS_KEY);
  });

  it("topic policy: CloudWatch, AWS Backup and EventBridge may publish, only for this account", () => {
    const policy = policyStatements(named(run, "aws:sns/topicPolicy:TopicPolicy", "monitoring-alarms").inputs.policy);
    const allow = policy.find((statement: any) => statement.Effect === "Allow");
    expect(allow.Principal.Service.sort()).toEqual([
      "backup.amazonaws.com",
      "cloudwatch.amazonaws.com",
      "events.amazonaws.com",
    ]);
    expect(allow.Action).toBe("sns:Publish");
    expect(allow.Resource).toBe(topicArn);
    expect(allow.Condition).toEqual({ StringEquals: { "aws:SourceAccount": "111122223333" } });
  });

  it("topic policy: no wildcard principal is allowed", () => {
    const policy = policyStatements(named(run, "aws:sns/topicPolicy:TopicPolicy", "monitoring-alarms").inputs.policy);
    expect(policy.filter((statement: any) => statement.Effect === "Allow" && statement.Principal === "*")).toEqual([]);
  });

  it("subscriptions: one e-mail subscription per alert address", () => {
    const subscriptions = ofType(run, "aws:sns/topicSubscription:TopicSubscription").map((resource) => resource.inputs);
    expect(
      subscriptions.map((subscription) => [subscription.protocol, subscription.endpoint, subscription.topic]),
    ).toEqual([
      ["email", "ops@example.org", topicArn],
      ["email", "it@example.org", topicArn],
    ]);
  });

  it("every alarm: alarm and OK actions notify the topic", () => {
    expect(alarms(run).length).toBeGreaterThan(15);
    for (const alarm of alarms(run)) {
      expect(alarm.inputs.alarmActions, alarm.name).toContain(topicArn);
      expect(alarm.inputs.okActions, alarm.name).toEqual([topicArn]);
    }
  });

  it("host: system status check failure recovers the instance (EC2 auto-recovery) and notifies", () => {
    const alarm = alarmOn(run, "AWS/EC2", "StatusCheckFailed_System");
    expect(alarm.dimensions).toEqual({ InstanceId: "i-0host" });
    expect(alarm.alarmActions).toEqual(["arn:aws:automate:us-east-1:ec2:recover", topicArn]);
    expect([alarm.comparisonOperator, alarm.threshold, alarm.period]).toEqual(["GreaterThanOrEqualToThreshold", 1, 60]);
  });

  it("host: instance status check alarm", () => {
    expect(alarmOn(run, "AWS/EC2", "StatusCheckFailed_Instance", { InstanceId: "i-0host" }).threshold).toBe(1);
  });

  it("host: CPU alarm", () => {
    expect(alarmOn(run, "AWS/EC2", "CPUUtilization", { InstanceId: "i-0host" }).comparisonOperator).toBe(
      "GreaterThanThreshold",
    );
  });

  it("host: memory alarm on the CloudWatch agent's mem_used_percent by InstanceId", () => {
    expect(alarmOn(run, "CWAgent", "mem_used_percent").dimensions).toEqual({ InstanceId: "i-0host" });
  });

  it("standard host: disk alarm on / only", () => {
    const disks = alarms(run)
      .filter((alarm) => alarm.inputs.metricName === "disk_used_percent")
      .map((alarm) => alarm.inputs.dimensions);
    expect(disks).toEqual([{ InstanceId: "i-0host", path: "/" }]);
  });

  it("db: CPU, freeable memory and connections alarms on the RDS instance", () => {
    for (const metric of ["CPUUtilization", "FreeableMemory", "DatabaseConnections"]) {
      expect(alarmOn(run, "AWS/RDS", metric).dimensions).toEqual({ DBInstanceIdentifier: "clinic-openemr" });
    }
  });

  it("db: free storage alarm at 10% of the allocated storage", () => {
    const alarm = alarmOn(run, "AWS/RDS", "FreeStorageSpace");
    expect(alarm.comparisonOperator).toBe("LessThanThreshold");
    expect(alarm.threshold).toBe(Math.round(50 * 1024 ** 3 * 0.1));
  });

  it("alb: ELB 5xx, target 5xx and target response time alarms on the load balancer", () => {
    for (const metric of ["HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "TargetResponseTime"]) {
      expect(alarmOn(run, "AWS/ApplicationELB", metric).dimensions).toEqual({ LoadBalancer: "app/clinic-alb/abc" });
    }
  });

  it("alb: unhealthy host alarm on the target group", () => {
    const alarm = alarmOn(run, "AWS/ApplicationELB", "UnHealthyHostCount");
    expect(alarm.dimensions).toEqual({ LoadBalancer: "app/clinic-alb/abc", TargetGroup: "targetgroup/clinic-tg/def" });
    expect([alarm.comparisonOperator, alarm.threshold]).toEqual(["GreaterThanOrEqualToThreshold", 1]);
  });

  it("backup age: no BackupSuccess in 26 hours alarms, missing data breaching", () => {
    const alarm = alarmOn(run, "OpenEMR", "BackupSuccess");
    expect(alarm).toMatchObject({
      dimensions: { Stack: "clinic" },
      statistic: "Sum",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    // Every period of the window must breach: one successful backup anywhere in it is enough.
    expect(alarm.datapointsToAlarm).toBe(alarm.evaluationPeriods);
    expect(alarm.period * alarm.evaluationPeriods).toBe(26 * 3600);
  });

  it("restore drill: no RestoreDrillSuccess in 7 days alarms, missing data breaching", () => {
    const alarm = alarmOn(run, "OpenEMR", "RestoreDrillSuccess");
    expect(alarm).toMatchObject({
      dimensions: { Stack: "clinic" },
      statistic: "Sum",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    // CloudWatch rejects an alarm whose window is longer than 7 days.
    expect(alarm.period * alarm.evaluationPeriods).toBe(7 * 86400);
  });

  it("snapshots: failed AWS Backup jobs of the vault alarm", () => {
    expect(alarmOn(run, "AWS/Backup", "NumberOfBackupJobsFailed").dimensions).toEqual({
      BackupVaultName: "clinic-openemr",
    });
  });

  it("certificate: alarm under 30 days to expiry", () => {
    const alarm = alarmOn(run, "AWS/CertificateManager", "DaysToExpiry");
    expect(alarm).toMatchObject({
      dimensions: { CertificateArn: CERT_ARN },
      comparisonOperator: "LessThanThreshold",
      threshold: 30,
    });
  });

  it("every alarm: evaluation window within CloudWatch's limits", () => {
    for (const alarm of alarms(run)) {
      const window = alarm.inputs.period * alarm.inputs.evaluationPeriods;
      expect(window, alarm.name).toBeLessThanOrEqual(alarm.inputs.period < 3600 ? 86400 : 604800);
    }
  });

  it("dashboard: the alarm widget shows every alarm and each alarmed metric is graphed", () => {
    const dashboard = named(run, "aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard");
    expect(run.outputs.dashboardName).toBe("clinic-openemr");
    const body = JSON.parse(dashboard.inputs.dashboardBody);
    const alarmWidget = body.widgets.find((widget: any) => widget.type === "alarm");
    expect(alarmWidget.properties.alarms.sort()).toEqual(
      alarms(run)
        .map((alarm) => alarm.state.arn)
        .sort(),
    );
    const graphed = body.widgets
      .filter((widget: any) => widget.type === "metric")
      .map((widget: any) => widget.properties.metrics[0].slice(0, 2).join("/"));
    expect(graphed.sort()).toEqual(
      alarms(run)
        .map((alarm) => `${alarm.inputs.namespace}/${alarm.inputs.metricName}`)
        .sort(),
    );
  });

  it("outputs: topic ARN", () => {
    expect(run.outputs.topicArn).toBe(topicArn);
  });
});

describe("Monitoring, single tier", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await monitoringRun(singleArgs);
  });

  it("single host: disk alarms on / and /srv/openemr-data", () => {
    const disks = alarms(run)
      .filter((alarm) => alarm.inputs.metricName === "disk_used_percent")
      .map((alarm) => alarm.inputs.dimensions.path);
    expect(disks).toEqual(["/", "/srv/openemr-data"]);
  });

  it("single: no RDS alarms", () => {
    expect(alarms(run).filter((alarm) => alarm.inputs.namespace === "AWS/RDS")).toEqual([]);
  });

  it("single: backup age alarm still present, missing data breaching", () => {
    expect(alarmOn(run, "OpenEMR", "BackupSuccess").treatMissingData).toBe("breaching");
  });

  it("single: no successful binary log shipping in 15 minutes alarms, missing data breaching, to the topic", () => {
    const alarm = alarmOn(run, "OpenEMR", "BinlogShipSuccess");
    expect(alarm).toMatchObject({
      dimensions: { Stack: "clinic" },
      statistic: "Sum",
      comparisonOperator: "LessThanThreshold",
      threshold: 1,
      treatMissingData: "breaching",
    });
    // Every five-minute period of the window must breach: one shipped log anywhere in it is enough.
    expect(alarm.datapointsToAlarm).toBe(alarm.evaluationPeriods);
    expect(alarm.period * alarm.evaluationPeriods).toBe(15 * 60);
    const backupAge = alarmOn(run, "OpenEMR", "BackupSuccess");
    expect([alarm.alarmActions, alarm.okActions]).toEqual([backupAge.alarmActions, backupAge.okActions]);
  });
});

describe("Monitoring, ha tier (an Auto Scaling group of hosts)", () => {
  let run: OfflineRun;
  let standard: OfflineRun;
  let topicArn: string;
  const group = { AutoScalingGroupName: "clinic-openemr" };
  /** What an alarm decides on: the same for one host's alarm and the group's, but for the statistic. */
  const decision = (alarm: Record<string, any>) => ({
    period: alarm.period,
    evaluationPeriods: alarm.evaluationPeriods,
    datapointsToAlarm: alarm.datapointsToAlarm,
    comparisonOperator: alarm.comparisonOperator,
    threshold: alarm.threshold,
    treatMissingData: alarm.treatMissingData,
  });
  beforeAll(async () => {
    run = await monitoringRun(haArgs);
    standard = await monitoringRun(standardArgs);
    topicArn = named(run, "aws:sns/topic:Topic", "monitoring-alarms").state.arn;
  });

  it("memory: the group's mem_used_percent, Maximum (the fullest host), to the topic", () => {
    const alarm = alarmOn(run, "CWAgent", "mem_used_percent");
    expect(alarm).toMatchObject({ name: "clinic-openemr-host-group-memory", dimensions: group, statistic: "Maximum" });
    expect([alarm.alarmActions, alarm.okActions]).toEqual([[topicArn], [topicArn]]);
  });

  it("disk: the group's disk_used_percent of / only (the hosts have no data volume), Maximum, to the topic", () => {
    const disks = alarms(run).filter((alarm) => alarm.inputs.metricName === "disk_used_percent");
    expect(disks.map((alarm) => [alarm.name, alarm.inputs.dimensions])).toEqual([
      ["monitoring-host-group-disk-root", { ...group, path: "/" }],
    ]);
    expect(disks[0].inputs).toMatchObject({ namespace: "CWAgent", statistic: "Maximum" });
    expect([disks[0].inputs.alarmActions, disks[0].inputs.okActions]).toEqual([[topicArn], [topicArn]]);
  });

  it("memory and disk: the single host's thresholds, periods and missing-data treatment", () => {
    for (const metric of ["mem_used_percent", "disk_used_percent"]) {
      expect(decision(alarmOn(run, "CWAgent", metric)), metric).toEqual(
        decision(alarmOn(standard, "CWAgent", metric, { InstanceId: "i-0host" })),
      );
    }
  });

  it("no alarm names an instance: the group's hosts come and go", () => {
    expect(alarms(run).filter((alarm) => "InstanceId" in (alarm.inputs.dimensions ?? {}))).toEqual([]);
  });

  it("dashboard: the group's memory and disk graphed with the alarms' statistic", () => {
    const body = JSON.parse(
      named(run, "aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard").inputs.dashboardBody,
    );
    const graphs = body.widgets
      .filter((widget: any) => widget.type === "metric" && widget.properties.metrics[0][0] === "CWAgent")
      .map((widget: any) => [widget.properties.metrics[0], widget.properties.stat]);
    expect(graphs).toEqual([
      [["CWAgent", "mem_used_percent", "AutoScalingGroupName", "clinic-openemr"], "Maximum"],
      [["CWAgent", "disk_used_percent", "AutoScalingGroupName", "clinic-openemr", "path", "/"], "Maximum"],
    ]);
  });
});

describe("Monitoring, binary log shipping alarm", () => {
  it("standard (RDS keeps its own logs): none", async () => {
    const run = await monitoringRun(standardArgs);
    expect(alarms(run).filter((alarm) => alarm.inputs.metricName === "BinlogShipSuccess")).toEqual([]);
  });
});

describe("Monitoring in the stack", () => {
  let standard: OfflineRun;
  let single: OfflineRun;
  let ha: OfflineRun;
  beforeAll(async () => {
    const config = { "openemr:alertEmails": JSON.stringify(["ops@example.org"]) };
    standard = await planStack({
      config: { ...config, "openemr:tier": "standard", "openemr:dbStorageGb": "80" },
      stackName: "clinic-prod",
    });
    single = await planStack({ config: { ...config, "openemr:tier": "single" }, stackName: "clinic-small" });
    ha = await planStack({
      config: { ...config, "openemr:tier": "ha", "openemr:natGateway": "instance" },
      stackName: "clinic-ha",
    });
  });

  it("host alarms watch the stack's host instance", () => {
    const instanceId = hostInstance(standard).state.id;
    for (const metric of ["StatusCheckFailed_System", "StatusCheckFailed_Instance", "CPUUtilization"]) {
      expect(alarmOn(standard, "AWS/EC2", metric).dimensions).toEqual({ InstanceId: instanceId });
    }
    expect(alarmOn(standard, "CWAgent", "mem_used_percent").dimensions).toEqual({ InstanceId: instanceId });
  });

  it("single: disk alarms on / and the data volume's mount point", () => {
    const paths = alarms(single)
      .filter((alarm) => alarm.inputs.metricName === "disk_used_percent")
      .map((alarm) => alarm.inputs.dimensions.path);
    expect(paths).toEqual(["/", "/srv/openemr-data"]);
  });

  it("standard: disk alarm on / only, RDS alarms on the stack's DB instance", () => {
    const paths = alarms(standard)
      .filter((alarm) => alarm.inputs.metricName === "disk_used_percent")
      .map((alarm) => alarm.inputs.dimensions.path);
    expect(paths).toEqual(["/"]);
    const identifier = named(standard, "aws:rds/instance:Instance", "database-instance").inputs.identifier;
    expect(alarmOn(standard, "AWS/RDS", "CPUUtilization").dimensions).toEqual({ DBInstanceIdentifier: identifier });
  });

  it("standard: free storage alarm relative to the configured allocation", () => {
    expect(named(standard, "aws:rds/instance:Instance", "database-instance").inputs.allocatedStorage).toBe(80);
    expect(alarmOn(standard, "AWS/RDS", "FreeStorageSpace").threshold).toBe(Math.round(80 * 1024 ** 3 * 0.1));
  });

  it("single: no RDS alarms", () => {
    expect(alarms(single).filter((alarm) => alarm.inputs.namespace === "AWS/RDS")).toEqual([]);
  });

  it("ha: memory and disk alarms on the stack's Auto Scaling group, to the stack's topic", () => {
    const group = { AutoScalingGroupName: named(ha, "aws:autoscaling/group:Group", "host-group-asg").inputs.name };
    const topicArn = named(ha, "aws:sns/topic:Topic", "monitoring-alarms").state.arn;
    const memory = alarmOn(ha, "CWAgent", "mem_used_percent");
    const disk = alarmOn(ha, "CWAgent", "disk_used_percent");
    expect(memory).toMatchObject({ dimensions: group, statistic: "Maximum", threshold: 90, alarmActions: [topicArn] });
    expect(disk).toMatchObject({
      dimensions: { ...group, path: "/" },
      statistic: "Maximum",
      threshold: 85,
      alarmActions: [topicArn],
    });
  });

  it("ha: the only instance alarms are the NAT instance's", () => {
    const nat = named(ha, "aws:ec2/instance:Instance", "network-nat-instance").state.id;
    const byInstance = alarms(ha).filter((alarm) => "InstanceId" in (alarm.inputs.dimensions ?? {}));
    expect(byInstance.map((alarm) => alarm.inputs.namespace)).toEqual(["AWS/EC2", "AWS/EC2"]);
    expect(byInstance.map((alarm) => alarm.inputs.dimensions)).toEqual([{ InstanceId: nat }, { InstanceId: nat }]);
  });

  it("ha: the hosts may read tags (ec2:DescribeTags), without which their agent sends nothing; others may not", () => {
    const describeTags = (run: OfflineRun) =>
      policyStatements(named(run, "aws:iam/policy:Policy", "host-cloudwatch-agent").inputs.policy).filter(
        (statement: any) => ([] as string[]).concat(statement.Action).includes("ec2:DescribeTags"),
      );
    expect(describeTags(ha)).toEqual([
      { Sid: "ReadOwnGroupTag", Effect: "Allow", Action: "ec2:DescribeTags", Resource: "*" },
    ]);
    expect([describeTags(single), describeTags(standard)]).toEqual([[], []]);
  });

  it("alb alarms watch the stack's load balancer and target group", () => {
    const alb = named(standard, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").state.arnSuffix;
    const targetGroup = named(standard, "aws:lb/targetGroup:TargetGroup", "edge-host").state.arnSuffix;
    expect(alarmOn(standard, "AWS/ApplicationELB", "UnHealthyHostCount").dimensions).toEqual({
      LoadBalancer: alb,
      TargetGroup: targetGroup,
    });
    expect(alarmOn(standard, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count").dimensions).toEqual({ LoadBalancer: alb });
  });

  it("certificate alarm watches the HTTPS listener's certificate", () => {
    expect(alarmOn(standard, "AWS/CertificateManager", "DaysToExpiry").dimensions).toEqual({
      CertificateArn: named(standard, "aws:lb/listener:Listener", "edge-https").inputs.certificateArn,
    });
  });

  it("backup alarms use the stack name the host publishes under and the snapshot vault", () => {
    expect(alarmOn(standard, "OpenEMR", "BackupSuccess").dimensions).toEqual({
      Stack: userDataSettings(standard).OPENEMR_STACK,
    });
    expect(alarmOn(standard, "AWS/Backup", "NumberOfBackupJobsFailed").dimensions).toEqual({
      BackupVaultName: named(standard, "aws:backup/vault:Vault", "snapshots-vault").inputs.name,
    });
  });

  it("topic: encrypted with the stack's alerts key", () => {
    expect(named(standard, "aws:sns/topic:Topic", "monitoring-alarms").inputs.kmsMasterKeyId).toBe(
      named(standard, "aws:kms/key:Key", "keys-alerts").state.arn,
    );
  });

  it("outputs: alarm topic ARN and dashboard name", () => {
    expect(standard.outputs.alarmTopicArn).toBe(named(standard, "aws:sns/topic:Topic", "monitoring-alarms").state.arn);
    expect(standard.outputs.dashboardName).toBe(
      named(standard, "aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard").inputs.dashboardName,
    );
  });
});
