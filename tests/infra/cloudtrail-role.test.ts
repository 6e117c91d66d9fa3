// CloudTrail's role for CloudWatch Logs delivery, held to the trust policy AWS documents for it.
// AWS does not document that CloudTrail sends aws:SourceArn or aws:SourceAccount when it assumes
// this role; where a condition key is absent a StringEquals on it denies, and CreateTrail fails with
// InvalidCloudWatchLogsRoleArnException ("Check the trust relationships for your role"), which users
// report after adding either key to this role (github.com/prowler-cloud/prowler/issues/4714).
import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { Audit } from "../../infra/components/audit";
import { named, policyStatements } from "./helpers";

const REGION = "us-east-1";
const ACCOUNT = "111122223333";
const LOGS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/logs`;

describe("CloudTrail's CloudWatch Logs delivery role", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await runOffline(
      () => {
        new Audit("audit", {
          namePrefix: "clinic",
          region: REGION,
          createCloudTrail: true,
          logsKeyArn: LOGS_KEY,
          logGroupPrefix: "/openemr-aws/clinic",
          accessLogBucket: "clinic-access-logs",
        });
      },
      { region: REGION, stack: "clinic" },
    );
  });

  // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
  // documents this trust policy with no condition; CloudTrail's confused-deputy page recommends
  // aws:SourceArn / aws:SourceAccount in resource policies only (the bucket policy keeps them).
  it("trusts cloudtrail.amazonaws.com exactly as AWS documents it, with no condition CloudTrail does not send", () => {
    const trust = policyStatements(named(run, "aws:iam/role:Role", "audit-trail-delivery").inputs.assumeRolePolicy);
    expect(trust).toEqual([
      { Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
  });

  it("the trail bucket still accepts CloudTrail only for this trail (aws:SourceArn in the resource policy)", () => {
    const statements = policyStatements(
      named(run, "aws:s3/bucketPolicy:BucketPolicy", "audit-trail-policy").inputs.policy,
    ).filter((statement: any) => statement.Principal?.Service === "cloudtrail.amazonaws.com");
    expect(statements).toHaveLength(2);
    for (const statement of statements)
      expect(statement.Condition.StringEquals["aws:SourceArn"]).toBe(
        `arn:aws:cloudtrail:${REGION}:${ACCOUNT}:trail/clinic-openemr`,
      );
  });
});
