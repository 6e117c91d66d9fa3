// Monitoring rules on real CloudWatch and SNS declarations: the baseline alarm set for a host,
// a database, a load balancer and an Auto Scaling group of hosts, then gaps; and the ha tier's
// planned stack, whole and with each of its group alarms removed.
import * as path from "path";
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { loadStackFile } from "../../../infra/config";
import { planStack } from "../../../infra/plan/plan";
import { toRuleResources } from "../../../policies/engine";
import { alarmHasActions, requiredAlarms, snsKms } from "../../../policies/rules/monitoring";
import type { RuleResource } from "../../../policies/rules/types";
import { declared, evaluations, expectFails, expectPasses } from "./harness";

type Signal = "breaching" | "notBreaching" | "none";

function watched(options: { backupAlarm: Signal; dbAlarm: boolean; binlogAlarm?: Signal }): () => void {
  return () => {
    const key = new aws.kms.Key("alerts-key", { enableKeyRotation: true });
    const topic = new aws.sns.Topic("alerts", { kmsMasterKeyId: key.arn });
    const host = new aws.ec2.Instance("host", { ami: "ami-0123456789abcdef0", instanceType: "t3.medium" });
    const db = new aws.rds.Instance("db", {
      identifier: "openemr-db",
      engine: "mysql",
      instanceClass: "db.t4g.medium",
      allocatedStorage: 20,
    });
    const alb = new aws.lb.LoadBalancer("alb", { subnets: ["subnet-a", "subnet-b"] });
    const alarm = (
      name: string,
      namespace: string,
      metricName: string,
      dimensions: Record<string, any>,
      treatMissingData = "missing",
    ) =>
      new aws.cloudwatch.MetricAlarm(name, {
        namespace,
        metricName,
        dimensions,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: 1,
        period: 300,
        statistic: "Maximum",
        treatMissingData,
        alarmActions: [topic.arn],
      });
    alarm("host-status", "AWS/EC2", "StatusCheckFailed", { InstanceId: host.id });
    if (options.dbAlarm) alarm("db-cpu", "AWS/RDS", "CPUUtilization", { DBInstanceIdentifier: db.identifier });
    alarm("alb-5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", { LoadBalancer: alb.arnSuffix });
    if (options.backupAlarm !== "none")
      alarm("backup-age", "OpenEMR", "BackupSuccess", { Stack: "offline" }, options.backupAlarm);
    if (options.binlogAlarm && options.binlogAlarm !== "none")
      alarm("binlog-shipping", "OpenEMR", "BinlogShipSuccess", { Stack: "offline" }, options.binlogAlarm);
  };
}

/** Every baseline alarm, the backup-age one treating missing data as breaching. */
const baseline = { backupAlarm: "breaching", dbAlarm: true } as const;

type GroupAlarm = "memory" | "disk-root" | "in-service";

/**
 * An Auto Scaling group of hosts and its alarms, dimensioned by the group's name: the fullest
 * host's memory and root disk (CWAgent) and the hosts in service (AWS/AutoScaling).
 */
function groupWatched(
  options: {
    /** The alarm left out. */
    without?: GroupAlarm;
    /** The alarm declared without an alarm action. */
    mute?: GroupAlarm;
    /** The alarms' AutoScalingGroupName, instead of the group's own name. */
    dimensionName?: string;
    /** The disk alarm's mount point. */
    diskPath?: string;
    /** The group metrics Auto Scaling collects. */
    enabledMetrics?: aws.autoscaling.Metric[];
  } = {},
): () => void {
  return () => {
    const key = new aws.kms.Key("alerts-key", { enableKeyRotation: true });
    const topic = new aws.sns.Topic("alerts", { kmsMasterKeyId: key.arn });
    const group = new aws.autoscaling.Group("hosts", {
      name: "clinic-openemr",
      minSize: 2,
      maxSize: 4,
      vpcZoneIdentifiers: ["subnet-a", "subnet-b"],
      enabledMetrics: options.enabledMetrics ?? ["GroupInServiceInstances", "GroupDesiredCapacity"],
    });
    const groupName = options.dimensionName ?? group.name;
    const alarm = (id: GroupAlarm, namespace: string, metricName: string, dimensions: Record<string, any>) => {
      if (options.without === id) return;
      new aws.cloudwatch.MetricAlarm(`hosts-${id}`, {
        namespace,
        metricName,
        dimensions,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 90,
        evaluationPeriods: 1,
        period: 300,
        statistic: "Maximum",
        alarmActions: options.mute === id ? [] : [topic.arn],
      });
    };
    alarm("memory", "CWAgent", "mem_used_percent", { AutoScalingGroupName: groupName });
    alarm("disk-root", "CWAgent", "disk_used_percent", {
      AutoScalingGroupName: groupName,
      path: options.diskPath ?? "/",
    });
    alarm("in-service", "AWS/AutoScaling", "GroupInServiceInstances", { AutoScalingGroupName: groupName });
  };
}

/** The required-alarms outcome for the resource named `name`. */
function outcomeFor(resources: RuleResource[], name: string) {
  const found = evaluations(requiredAlarms, resources, { tier: "ha" }).filter(
    (evaluation) => evaluation.resourceName === name,
  );
  expect(found, `one required-alarms result for "${name}"`).toHaveLength(1);
  return found[0].outcome;
}

/** The ha tier planned offline: with the defaults, or with the example stack file. */
async function plannedHa(example: boolean): Promise<RuleResource[]> {
  const config = example
    ? loadStackFile(path.join(__dirname, "..", "..", "..", "config", "examples", "Pulumi.ha.yaml"))
    : { "openemr:tier": "ha" };
  return toRuleResources(await planStack({ config, stackName: example ? "ha" : "defaults-ha" }));
}

/** The planned group alarms (monitoring.ts), each with the metric its absence is reported by. */
const plannedGroupAlarms = [
  ["monitoring-host-group-memory", "mem_used_percent"],
  ["monitoring-host-group-disk-root", "disk_used_percent"],
  ["monitoring-host-group-in-service", "GroupInServiceInstances"],
] as const;

describe("monitoring rules", () => {
  it("alarm-has-actions", async () => {
    expectPasses(alarmHasActions, await declared(watched(baseline)));
    const mute = await declared(() => {
      new aws.cloudwatch.MetricAlarm("mute-alarm", {
        namespace: "AWS/EC2",
        metricName: "CPUUtilization",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 90,
        evaluationPeriods: 1,
        period: 300,
        statistic: "Average",
      });
    });
    expectFails(alarmHasActions, mute, "mute-alarm", "alarmActions");
  });

  it("required-alarms: host, backup age (missing data breaching), database and load balancer", async () => {
    expectPasses(requiredAlarms, await declared(watched(baseline)));
    const gaps = await declared(watched({ backupAlarm: "none", dbAlarm: false }));
    expectFails(requiredAlarms, gaps, "db", "dimensions.DBInstanceIdentifier");
    expectFails(requiredAlarms, gaps, "host", "BackupSuccess");
    const quietBackup = await declared(watched({ ...baseline, backupAlarm: "notBreaching" }));
    expectFails(requiredAlarms, quietBackup, "backup-age", "treatMissingData");
  });

  it("required-alarms on single: binary log shipping too (missing data breaching); not asked elsewhere", async () => {
    const single = { tier: "single" };
    expectPasses(requiredAlarms, await declared(watched({ ...baseline, binlogAlarm: "breaching" })), single);
    const noBinlogAlarm = await declared(watched(baseline));
    expectFails(requiredAlarms, noBinlogAlarm, "host", "BinlogShipSuccess", single);
    expectPasses(requiredAlarms, noBinlogAlarm, { tier: "standard" });
    const quiet = await declared(watched({ ...baseline, binlogAlarm: "notBreaching" }));
    expectFails(requiredAlarms, quiet, "binlog-shipping", "treatMissingData", single);
  });

  it("required-alarms: an Auto Scaling group's memory, root disk and hosts in service, by its name", async () => {
    const passed = expectPasses(requiredAlarms, await declared(groupWatched()), { tier: "ha" });
    expect(passed.find((evaluation) => evaluation.resourceName === "hosts")?.status).toBe("pass");

    const noMemory = await declared(groupWatched({ without: "memory" }));
    const message = expectFails(requiredAlarms, noMemory, "hosts", "mem_used_percent");
    expect(message).toContain('dimensions.AutoScalingGroupName "clinic-openemr"');
    expectFails(requiredAlarms, await declared(groupWatched({ without: "disk-root" })), "hosts", "disk_used_percent");
    expectFails(
      requiredAlarms,
      await declared(groupWatched({ without: "in-service" })),
      "hosts",
      "GroupInServiceInstances",
    );
    const unwatched = await declared(() => {
      new aws.autoscaling.Group("hosts", { name: "clinic-openemr", minSize: 2, maxSize: 4 });
    });
    const everyGap = expectFails(requiredAlarms, unwatched, "hosts", "mem_used_percent");
    expect(everyGap).toContain("disk_used_percent");
    expect(everyGap).toContain("GroupInServiceInstances");
  });

  it("required-alarms: a group alarm notifies, names this group, watches / and a collected metric", async () => {
    for (const alarm of ["memory", "disk-root", "in-service"] as const) {
      const message = expectFails(
        requiredAlarms,
        await declared(groupWatched({ mute: alarm })),
        "hosts",
        "alarmActions",
      );
      expect(message).toContain(`"hosts-${alarm}"`);
    }
    const otherGroup = await declared(groupWatched({ dimensionName: "another-openemr" }));
    expectFails(requiredAlarms, otherGroup, "hosts", "dimensions.AutoScalingGroupName");
    const dataDisk = await declared(groupWatched({ diskPath: "/var/lib/openemr" }));
    expectFails(requiredAlarms, dataDisk, "hosts", 'dimensions.path "/"');
    const notCollected = await declared(groupWatched({ enabledMetrics: ["GroupDesiredCapacity"] }));
    expectFails(requiredAlarms, notCollected, "hosts", "enabledMetrics");
  });

  it.each([
    ["defaults", false],
    ["config/examples/Pulumi.ha.yaml", true],
  ])(
    "required-alarms on the planned ha stack (%s): the group passes, and fails without each group alarm",
    async (_, example) => {
      const resources = await plannedHa(example);
      expectPasses(requiredAlarms, resources, { tier: "ha" });
      const outcome = outcomeFor(resources, "host-group-asg");
      expect(outcome.status).toBe("pass");
      for (const [name, metricName] of plannedGroupAlarms) {
        if (outcome.status === "pass") expect(Object.keys(outcome.evidence).join(" "), name).toContain(`${name}.`);
        const without = resources.filter((resource) => resource.name !== name);
        expect(without).toHaveLength(resources.length - 1);
        expectFails(requiredAlarms, without, "host-group-asg", metricName, { tier: "ha" });
      }
    },
  );

  it("sns-kms", async () => {
    expectPasses(snsKms, await declared(watched(baseline)));
    const plain = await declared(() => {
      new aws.sns.Topic("plain-topic", {});
    });
    expectFails(snsKms, plain, "plain-topic", "kmsMasterKeyId");
  });
});
