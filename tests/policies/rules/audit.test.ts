// Audit trail rules on real CloudTrail declarations.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import {
  cloudtrailMetricAlarms,
  trailCloudwatch,
  trailEnabled,
  trailKms,
  trailLogValidation,
} from "../../../policies/rules/audit";
import { trailEventAlarms } from "../../../infra/components/detection";
import { declared, evaluations, expectFails, expectPasses } from "./harness";

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

/** A trail delivering to its log group, with the stack's CIS filters, and alarms on those `withAlarm` lets through. */
function watchedTrail(options: { skip?: string; withAlarm?: (id: string) => boolean } = {}): () => void {
  return () => {
    const group = new aws.cloudwatch.LogGroup("trail-logs", {
      name: "/openemr-aws/clinic/cloudtrail",
      retentionInDays: 2192,
    });
    new aws.cloudtrail.Trail("watched-trail", {
      s3BucketName: "trail-bucket",
      isMultiRegionTrail: true,
      cloudWatchLogsGroupArn: pulumi.interpolate`${group.arn}:*`,
      cloudWatchLogsRoleArn: "arn:aws:iam::111122223333:role/trail-delivery",
    });
    for (const spec of trailEventAlarms.filter((item) => item.id !== options.skip)) {
      new aws.cloudwatch.LogMetricFilter(spec.id, {
        logGroupName: group.name,
        pattern: spec.pattern,
        metricTransformation: { name: spec.id, namespace: "OpenEMR/CloudTrail", value: "1" },
      });
      new aws.cloudwatch.MetricAlarm(spec.id, {
        namespace: "OpenEMR/CloudTrail",
        metricName: spec.id,
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        alarmActions: (options.withAlarm ?? (() => true))(spec.id) ? ["arn:aws:sns:us-east-1:111122223333:alarms"] : [],
      });
    }
  };
}

describe("cloudtrail-metric-alarms", () => {
  it("passes with the stack's CIS filters and alarms", async () => {
    expectPasses(cloudtrailMetricAlarms, await declared(watchedTrail()));
  });

  it("names the class whose filter is missing", async () => {
    const message = expectFails(
      cloudtrailMetricAlarms,
      await declared(watchedTrail({ skip: "root-account-usage" })),
      "watched-trail",
      "metric filter",
    );
    expect(message).toContain("root account use");
    expect(message).not.toContain("VPC changes");
  });

  it("a filter whose alarm has no action does not count", async () => {
    const message = expectFails(
      cloudtrailMetricAlarms,
      await declared(watchedTrail({ withAlarm: (id) => id !== "kms-key-disabled-or-deleted" })),
      "watched-trail",
      "metric filter",
    );
    expect(message).toContain("KMS key disabled or scheduled for deletion");
  });

  it("a route-table filter that only names CreateRouteTable does not pass for CreateRoute", async () => {
    const resources = await declared(() => {
      watchedTrail({ skip: "route-table-changes" })();
      new aws.cloudwatch.LogMetricFilter("narrow-routes", {
        logGroupName: "/openemr-aws/clinic/cloudtrail",
        pattern:
          "{ ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRouteTableAssociation) || " +
          "($.eventName = DeleteRouteTable) || ($.eventName = DisassociateRouteTable) }",
        metricTransformation: { name: "narrow-routes", namespace: "OpenEMR/CloudTrail", value: "1" },
      });
      new aws.cloudwatch.MetricAlarm("narrow-routes", {
        namespace: "OpenEMR/CloudTrail",
        metricName: "narrow-routes",
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        alarmActions: ["arn:aws:sns:us-east-1:111122223333:alarms"],
      });
    });
    expect(expectFails(cloudtrailMetricAlarms, resources, "watched-trail", "metric filter")).toContain(
      "route table changes",
    );
  });

  it("a trail delivering to no group of the stack is left to trail-cloudwatch; no trail, no result", async () => {
    expect(evaluations(cloudtrailMetricAlarms, await declared(regionalTrail)).map((result) => result.status)).toEqual([
      "not-applicable",
    ]);
    expect(evaluations(cloudtrailMetricAlarms, await declared(() => new aws.cloudwatch.LogGroup("lone", {})))).toEqual(
      [],
    );
  });
});
