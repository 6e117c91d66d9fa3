import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { named, ofType, policyStatements } from "./helpers";
import { planStack } from "../../infra/plan/plan";
import { Audit, type AuditArgs } from "../../infra/components/audit";

const LOGS_KEY = "arn:aws:kms:us-east-1:111122223333:key/test-logs-key";
const TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:111122223333:trail/clinic-openemr";

const baseArgs: AuditArgs = {
  namePrefix: "clinic",
  region: "us-east-1",
  createCloudTrail: true,
  logsKeyArn: LOGS_KEY,
  logRetentionDays: 400,
  logGroupPrefix: "/openemr-aws/clinic",
  accessLogBucket: "clinic-access-logs",
  retainOnDelete: true,
};

function auditRun(args: Partial<AuditArgs>): Promise<OfflineRun> {
  return runOffline(() => {
    new Audit("audit", { ...baseArgs, ...args });
  });
}

describe("Audit with a trail", () => {
  let run: OfflineRun;
  let trail: Record<string, any>;
  beforeAll(async () => {
    run = await auditRun({});
    trail = named(run, "aws:cloudtrail/trail:Trail", "audit-trail").inputs;
  });

  it("trail: multi-region, with global service events", () => {
    expect([trail.isMultiRegionTrail, trail.includeGlobalServiceEvents, trail.enableLogging]).toEqual([
      true,
      true,
      true,
    ]);
  });

  it("trail: log-file validation on", () => {
    expect(trail.enableLogFileValidation).toBe(true);
  });

  it("trail: encrypted with the logs key", () => {
    expect(trail.kmsKeyId).toBe(LOGS_KEY);
  });

  it("trail: delivered to CloudWatch Logs through its delivery role", () => {
    const group = named(run, "aws:cloudwatch/logGroup:LogGroup", "audit-trail");
    expect(trail.cloudWatchLogsGroupArn).toBe(`${group.state.arn}:*`);
    expect(trail.cloudWatchLogsRoleArn).toBe(named(run, "aws:iam/role:Role", "audit-trail-delivery").state.arn);
  });

  it("trail log group: encrypted with the logs key, retained per config", () => {
    expect(named(run, "aws:cloudwatch/logGroup:LogGroup", "audit-trail").inputs).toMatchObject({
      name: "/openemr-aws/clinic/cloudtrail",
      kmsKeyId: LOGS_KEY,
      retentionInDays: 400,
    });
  });

  it("trail log group: kept on destroy when asked", () => {
    expect(named(run, "aws:cloudwatch/logGroup:LogGroup", "audit-trail").retainOnDelete).toBe(true);
  });

  it("delivery role: trusted by CloudTrail as AWS documents it (cloudtrail-role.test.ts: why no condition)", () => {
    const trust = policyStatements(named(run, "aws:iam/role:Role", "audit-trail-delivery").inputs.assumeRolePolicy);
    expect(trust).toEqual([
      { Effect: "Allow", Principal: { Service: "cloudtrail.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
  });

  it("delivery role: a managed policy writing only to the trail's log group", () => {
    const statements = policyStatements(named(run, "aws:iam/policy:Policy", "audit-trail-delivery").inputs.policy);
    const groupArn = named(run, "aws:cloudwatch/logGroup:LogGroup", "audit-trail").state.arn;
    expect(statements).toEqual([
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: `${groupArn}:log-stream:*` },
    ]);
    expect(ofType(run, "aws:iam/rolePolicy:RolePolicy")).toEqual([]);
  });

  it("trail bucket: a SecureBucket with SSE-KMS on the logs key", () => {
    expect(trail.s3BucketName).toBe(named(run, "aws:s3/bucket:Bucket", "audit-trail").state.bucket);
    const [rule] = named(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "audit-trail-encryption",
    ).inputs.rules;
    expect(rule.applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: LOGS_KEY });
  });

  it("trail bucket: CloudTrail may write only for this trail (aws:SourceArn)", () => {
    const statements = policyStatements(
      named(run, "aws:s3/bucketPolicy:BucketPolicy", "audit-trail-policy").inputs.policy,
    );
    const cloudTrail = statements.filter(
      (statement: any) => statement.Principal?.Service === "cloudtrail.amazonaws.com",
    );
    expect(cloudTrail.map((statement: any) => statement.Action).sort()).toEqual(["s3:GetBucketAcl", "s3:PutObject"]);
    for (const statement of cloudTrail) expect(statement.Condition.StringEquals["aws:SourceArn"]).toBe(TRAIL_ARN);
    const write = cloudTrail.find((statement: any) => statement.Action === "s3:PutObject");
    expect(write.Resource).toMatch(/\/AWSLogs\/111122223333\/\*$/);
    expect(write.Condition.StringEquals["s3:x-amz-acl"]).toBe("bucket-owner-full-control");
  });

  it("trail bucket: TLS-only, access-logged, retained when asked", () => {
    const statements = policyStatements(
      named(run, "aws:s3/bucketPolicy:BucketPolicy", "audit-trail-policy").inputs.policy,
    );
    expect(statements.map((statement: any) => statement.Sid)).toContain("DenyInsecureTransport");
    expect(named(run, "aws:s3/bucketLogging:BucketLogging", "audit-trail-logging").inputs.targetBucket).toBe(
      "clinic-access-logs",
    );
    expect(named(run, "aws:s3/bucket:Bucket", "audit-trail").retainOnDelete).toBe(true);
  });

  it("trail bucket: log files expire after the log retention", () => {
    const [rule] = named(
      run,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "audit-trail-lifecycle",
    ).inputs.rules;
    expect(rule.expiration).toEqual({ days: 400 });
  });

  it("guardrail: EBS encryption by default enabled, kept on destroy", () => {
    const guardrail = named(run, "aws:ebs/encryptionByDefault:EncryptionByDefault", "audit-ebs-encryption-by-default");
    expect(guardrail.inputs.enabled).toBe(true);
    expect(guardrail.retainOnDelete).toBe(true);
  });
});

describe("Audit when the account has an organisation trail", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await auditRun({ createCloudTrail: false });
  });

  it("createCloudTrail false: no trail, trail bucket or delivery role; the session document stays", () => {
    const types = run.resources.filter((resource) => resource.custom).map((resource) => resource.type);
    expect(types.sort()).toEqual(["aws:ebs/encryptionByDefault:EncryptionByDefault", "aws:ssm/document:Document"]);
  });

  it("guardrail: EBS encryption by default still enabled", () => {
    expect(
      named(run, "aws:ebs/encryptionByDefault:EncryptionByDefault", "audit-ebs-encryption-by-default").inputs.enabled,
    ).toBe(true);
  });
});

describe("Audit in the stack", () => {
  let withTrail: OfflineRun;
  let orgTrail: OfflineRun;
  beforeAll(async () => {
    withTrail = await planStack({ config: { "openemr:tier": "single" }, stackName: "clinic-small" });
    orgTrail = await planStack({
      config: { "openemr:tier": "single", "openemr:createCloudTrail": "false" },
      stackName: "clinic-small",
    });
    // Two whole-stack plans: seconds each, more on a loaded machine.
  }, 120_000);

  it("trail: encrypted with the stack's logs key, its bucket access-logged to the log bucket", () => {
    const logsKey = named(withTrail, "aws:kms/key:Key", "keys-logs").state.arn;
    expect(named(withTrail, "aws:cloudtrail/trail:Trail", "audit-trail").inputs.kmsKeyId).toBe(logsKey);
    const logBucket = named(withTrail, "aws:s3/bucket:Bucket", "backup-storage-access-logs").state.bucket;
    expect(named(withTrail, "aws:s3/bucketLogging:BucketLogging", "audit-trail-logging").inputs.targetBucket).toBe(
      logBucket,
    );
  });

  it("createCloudTrail false: no trail, EBS encryption by default still on", () => {
    expect(ofType(orgTrail, "aws:cloudtrail/trail:Trail")).toEqual([]);
    expect(
      named(orgTrail, "aws:ebs/encryptionByDefault:EncryptionByDefault", "audit-ebs-encryption-by-default").inputs
        .enabled,
    ).toBe(true);
  });
});
