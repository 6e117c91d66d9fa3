// Log group rules on real CloudWatch Logs declarations.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { logGroupKms, logGroupRetention } from "../../../policies/rules/logs";
import { declared, expectFails, expectPasses } from "./harness";

describe("log rules", () => {
  let resources: RuleResource[];
  let compliant: RuleResource[];
  beforeAll(async () => {
    resources = await declared(() => {
      const key = new aws.kms.Key("logs-key", { enableKeyRotation: true });
      new aws.cloudwatch.LogGroup("good-logs", { kmsKeyId: key.arn, retentionInDays: 365 });
      new aws.cloudwatch.LogGroup("plain-logs", { retentionInDays: 365 });
      new aws.cloudwatch.LogGroup("short-logs", { kmsKeyId: key.arn, retentionInDays: 30 });
      new aws.cloudwatch.LogGroup("forever-logs", { kmsKeyId: key.arn });
    });
    compliant = resources.filter((resource) => resource.name === "good-logs");
  });

  it("log-group-kms", () => {
    expectPasses(logGroupKms, compliant);
    expectFails(logGroupKms, resources, "plain-logs", "kmsKeyId");
  });

  it("log-group-retention: at least minLogRetentionDays, and set", () => {
    expectPasses(logGroupRetention, compliant);
    expectFails(logGroupRetention, resources, "short-logs", "retentionInDays");
    expectFails(logGroupRetention, resources, "forever-logs", "retentionInDays");
    expectFails(logGroupRetention, compliant, "good-logs", "retentionInDays", { minLogRetentionDays: 400 });
  });
});
