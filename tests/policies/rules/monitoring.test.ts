// Monitoring rules on real CloudWatch and SNS declarations: the baseline alarm set for a host,
// a database and a load balancer, then gaps.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { alarmHasActions, requiredAlarms, snsKms } from "../../../policies/rules/monitoring";
import { declared, expectFails, expectPasses } from "./harness";

function watched(options: { backupAlarm: "breaching" | "notBreaching" | "none"; dbAlarm: boolean }): () => void {
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
  };
}

describe("monitoring rules", () => {
  let good: RuleResource[];
  let gaps: RuleResource[];
  let quietBackup: RuleResource[];
  let silent: RuleResource[];
  beforeAll(async () => {
    good = await declared(watched({ backupAlarm: "breaching", dbAlarm: true }));
    gaps = await declared(watched({ backupAlarm: "none", dbAlarm: false }));
    quietBackup = await declared(watched({ backupAlarm: "notBreaching", dbAlarm: true }));
    silent = await declared(() => {
      new aws.cloudwatch.MetricAlarm("mute-alarm", {
        namespace: "AWS/EC2",
        metricName: "CPUUtilization",
        comparisonOperator: "GreaterThanThreshold",
        threshold: 90,
        evaluationPeriods: 1,
        period: 300,
        statistic: "Average",
      });
      new aws.sns.Topic("plain-topic", {});
    });
  });

  it("alarm-has-actions", () => {
    expectPasses(alarmHasActions, good);
    expectFails(alarmHasActions, silent, "mute-alarm", "alarmActions");
  });

  it("required-alarms: host, backup age (missing data breaching), database and load balancer", () => {
    expectPasses(requiredAlarms, good);
    expectFails(requiredAlarms, gaps, "db", "dimensions.DBInstanceIdentifier");
    expectFails(requiredAlarms, gaps, "host", "BackupSuccess");
    expectFails(requiredAlarms, quietBackup, "backup-age", "treatMissingData");
  });

  it("sns-kms", () => {
    expectPasses(snsKms, good);
    expectFails(snsKms, silent, "plain-topic", "kmsMasterKeyId");
  });
});
