// Monitoring rules on real CloudWatch and SNS declarations: the baseline alarm set for a host,
// a database and a load balancer, then gaps.
import * as aws from "@pulumi/aws";
import { describe, it } from "vitest";
import { alarmHasActions, requiredAlarms, snsKms } from "../../../policies/rules/monitoring";
import { declared, expectFails, expectPasses } from "./harness";

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

  it("sns-kms", async () => {
    expectPasses(snsKms, await declared(watched(baseline)));
    const plain = await declared(() => {
      new aws.sns.Topic("plain-topic", {});
    });
    expectFails(snsKms, plain, "plain-topic", "kmsMasterKeyId");
  });
});
