// Log group rules on real CloudWatch Logs declarations.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { auditLogRetention, logGroupKms, logGroupRetention } from "../../../policies/rules/logs";
import { declared, evaluations, expectFails, expectPasses } from "./harness";

function keptEncryptedLogs(): void {
  const key = new aws.kms.Key("logs-key", { enableKeyRotation: true });
  new aws.cloudwatch.LogGroup("good-logs", { kmsKeyId: key.arn, retentionInDays: 365 });
}

describe("log rules", () => {
  it("log-group-kms", async () => {
    expectPasses(logGroupKms, await declared(keptEncryptedLogs));
    const plain = await declared(() => {
      new aws.cloudwatch.LogGroup("plain-logs", { retentionInDays: 365 });
    });
    expectFails(logGroupKms, plain, "plain-logs", "kmsKeyId");
  });

  it("log-group-retention: at least minLogRetentionDays, and set", async () => {
    const compliant = await declared(keptEncryptedLogs);
    expectPasses(logGroupRetention, compliant);
    const shortLived = await declared(() => {
      const key = new aws.kms.Key("logs-key", { enableKeyRotation: true });
      new aws.cloudwatch.LogGroup("short-logs", { kmsKeyId: key.arn, retentionInDays: 30 });
      new aws.cloudwatch.LogGroup("forever-logs", { kmsKeyId: key.arn });
    });
    expectFails(logGroupRetention, shortLived, "short-logs", "retentionInDays");
    expectFails(logGroupRetention, shortLived, "forever-logs", "retentionInDays");
    expectFails(logGroupRetention, compliant, "good-logs", "retentionInDays", { minLogRetentionDays: 400 });
  });
});

/** One log group of each audit class, kept `days`, and an operational group kept a year. */
function auditLogs(days: number): () => void {
  return () => {
    const trailGroup = new aws.cloudwatch.LogGroup("trail-logs", { retentionInDays: days });
    new aws.cloudtrail.Trail("trail", {
      s3BucketName: "trail-bucket",
      cloudWatchLogsGroupArn: pulumi.interpolate`${trailGroup.arn}:*`,
    });
    const flowGroup = new aws.cloudwatch.LogGroup("flow-logs", { retentionInDays: days });
    new aws.ec2.FlowLog("flow", { vpcId: "vpc-1", trafficType: "ALL", logDestination: flowGroup.arn });
    new aws.cloudwatch.LogGroup("db-audit", { name: "/aws/rds/instance/openemr-clinic/audit", retentionInDays: days });
    new aws.cloudwatch.LogGroup("auditd", { name: "/openemr-aws/clinic/auditd", retentionInDays: days });
    new aws.cloudwatch.LogGroup("sessions", { name: "/openemr-aws/clinic/ssm-sessions", retentionInDays: days });
    new aws.ssm.Document("session", {
      documentType: "Session",
      content: JSON.stringify({ inputs: { cloudWatchLogGroupName: "/openemr-aws/clinic/ssm-sessions" } }),
    });
    new aws.cloudwatch.LogGroup("apache-error", { name: "/openemr-aws/clinic/apache-error", retentionInDays: 365 });
  };
}

describe("audit-log-retention", () => {
  it("six years on every audit-class group passes; operational groups are not asked", async () => {
    const results = expectPasses(auditLogRetention, await declared(auditLogs(2192)));
    expect(results.map((result) => result.urn.split("::").pop()).sort()).toEqual(
      ["auditd", "db-audit", "flow-logs", "sessions", "trail-logs"].sort(),
    );
  });

  it("a year on each audit-class group fails for each, naming what it records", async () => {
    const resources = await declared(auditLogs(365));
    for (const [name, what] of [
      ["trail-logs", "CloudTrail trail"],
      ["flow-logs", "VPC flow log"],
      ["db-audit", "database audit log"],
      ["auditd", "host auditd log"],
      ["sessions", "Session Manager session log"],
    ])
      expect(expectFails(auditLogRetention, resources, name, "retentionInDays")).toContain(what);
    expect(evaluations(auditLogRetention, resources).every((result) => result.status !== "pass")).toBe(true);
  });

  it("is advisory: HIPAA's six years are for documentation, which a log archive may keep instead", () => {
    expect(auditLogRetention.enforcement).toBe("advisory");
  });
});
