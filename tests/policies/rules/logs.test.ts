// Log group rules on real CloudWatch Logs declarations.
import * as aws from "@pulumi/aws";
import { describe, it } from "vitest";
import { logGroupKms, logGroupRetention } from "../../../policies/rules/logs";
import { declared, expectFails, expectPasses } from "./harness";

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
