// Audit trail rules on real CloudTrail declarations.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { trailCloudwatch, trailEnabled, trailKms, trailLogValidation } from "../../../policies/rules/audit";
import { declared, expectFails, expectPasses } from "./harness";

describe("audit trail rules", () => {
  let good: RuleResource[];
  let bad: RuleResource[];
  let none: RuleResource[];
  beforeAll(async () => {
    good = await declared(() => {
      const key = new aws.kms.Key("logs-key", { enableKeyRotation: true });
      new aws.cloudtrail.Trail("trail", {
        s3BucketName: "trail-bucket",
        isMultiRegionTrail: true,
        enableLogFileValidation: true,
        kmsKeyId: key.arn,
        cloudWatchLogsGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:trail:*",
        cloudWatchLogsRoleArn: "arn:aws:iam::111122223333:role/trail-delivery",
      });
    });
    bad = await declared(() => {
      new aws.cloudtrail.Trail("regional-trail", {
        s3BucketName: "trail-bucket",
        isMultiRegionTrail: false,
        enableLogFileValidation: false,
      });
    });
    none = await declared(() => {
      new aws.Provider("aws", { region: "us-east-1" });
    });
  });

  it("trail-enabled: a multi-region trail; a regional trail or none fails", () => {
    expectPasses(trailEnabled, good);
    expectFails(trailEnabled, bad, "regional-trail", "isMultiRegionTrail");
    expectFails(trailEnabled, none, "aws", "isMultiRegionTrail");
  });

  it("trail-kms", () => {
    expectPasses(trailKms, good);
    expectFails(trailKms, bad, "regional-trail", "kmsKeyId");
  });

  it("trail-log-validation", () => {
    expectPasses(trailLogValidation, good);
    expectFails(trailLogValidation, bad, "regional-trail", "enableLogFileValidation");
  });

  it("trail-cloudwatch", () => {
    expectPasses(trailCloudwatch, good);
    expectFails(trailCloudwatch, bad, "regional-trail", "cloudWatchLogsGroupArn");
  });
});
