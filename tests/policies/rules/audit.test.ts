// Audit trail rules on real CloudTrail declarations.
import * as aws from "@pulumi/aws";
import { describe, it } from "vitest";
import { trailCloudwatch, trailEnabled, trailKms, trailLogValidation } from "../../../policies/rules/audit";
import { declared, expectFails, expectPasses } from "./harness";

function loggingTrail(): void {
  const key = new aws.kms.Key("logs-key", { enableKeyRotation: true });
  new aws.cloudtrail.Trail("trail", {
    s3BucketName: "trail-bucket",
    isMultiRegionTrail: true,
    enableLogFileValidation: true,
    kmsKeyId: key.arn,
    cloudWatchLogsGroupArn: "arn:aws:logs:us-east-1:111122223333:log-group:trail:*",
    cloudWatchLogsRoleArn: "arn:aws:iam::111122223333:role/trail-delivery",
  });
}

/** A regional trail with nothing set: breaks every trail rule at once. */
function regionalTrail(): void {
  new aws.cloudtrail.Trail("regional-trail", {
    s3BucketName: "trail-bucket",
    isMultiRegionTrail: false,
    enableLogFileValidation: false,
  });
}

describe("audit trail rules", () => {
  it("trail-enabled: a multi-region trail; a regional trail or none fails", async () => {
    expectPasses(trailEnabled, await declared(loggingTrail));
    expectFails(trailEnabled, await declared(regionalTrail), "regional-trail", "isMultiRegionTrail");
    const noTrail = await declared(() => {
      new aws.Provider("aws", { region: "us-east-1" });
    });
    expectFails(trailEnabled, noTrail, "aws", "isMultiRegionTrail");
  });

  it("trail-kms", async () => {
    expectPasses(trailKms, await declared(loggingTrail));
    expectFails(trailKms, await declared(regionalTrail), "regional-trail", "kmsKeyId");
  });

  it("trail-log-validation", async () => {
    expectPasses(trailLogValidation, await declared(loggingTrail));
    expectFails(trailLogValidation, await declared(regionalTrail), "regional-trail", "enableLogFileValidation");
  });

  it("trail-cloudwatch", async () => {
    expectPasses(trailCloudwatch, await declared(loggingTrail));
    expectFails(trailCloudwatch, await declared(regionalTrail), "regional-trail", "cloudWatchLogsGroupArn");
  });
});
