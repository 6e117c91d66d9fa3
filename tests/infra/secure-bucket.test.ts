import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { named, policyStatements } from "./helpers";
import { SecureBucket } from "../../infra/components/secure-bucket";

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/test-data-key";

function statementsOf(run: OfflineRun, bucket: string): any[] {
  return policyStatements(named(run, "aws:s3/bucketPolicy:BucketPolicy", `${bucket}-policy`).inputs.policy);
}

describe("SecureBucket with a KMS key, access logs, lifecycle and Object Lock", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await runOffline(() => {
      new SecureBucket("data", {
        kmsKeyArn: KEY_ARN,
        accessLogBucket: "log-bucket",
        objectLock: { mode: "GOVERNANCE", days: 10 },
        lifecycleRules: [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: 40 } }],
        policyStatements: (arn) => [
          { Sid: "Extra", Effect: "Deny", Principal: "*", Action: "s3:DeleteObject", Resource: arn },
        ],
        retainOnDelete: true,
      });
    });
  });

  it("bucket: never force-destroyed, Object Lock switched on at creation", () => {
    const bucket = named(run, "aws:s3/bucket:Bucket", "data");
    expect(bucket.inputs.forceDestroy).toBe(false);
    expect(bucket.inputs.objectLockEnabled).toBe(true);
  });

  it("bucket: ownership enforced (ACLs disabled)", () => {
    expect(
      named(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "data-ownership").inputs.rule
        .objectOwnership,
    ).toBe("BucketOwnerEnforced");
  });

  it("bucket: all four public access block flags on", () => {
    const block = named(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access").inputs;
    expect([
      block.blockPublicAcls,
      block.blockPublicPolicy,
      block.ignorePublicAcls,
      block.restrictPublicBuckets,
    ]).toEqual([true, true, true, true]);
  });

  it("bucket: versioning enabled", () => {
    expect(
      named(run, "aws:s3/bucketVersioning:BucketVersioning", "data-versioning").inputs.versioningConfiguration.status,
    ).toBe("Enabled");
  });

  it("bucket: SSE-KMS with the given key and a bucket key", () => {
    const [rule] = named(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "data-encryption",
    ).inputs.rules;
    expect(rule.applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN });
    expect(rule.bucketKeyEnabled).toBe(true);
  });

  it("bucket: policy denies requests without TLS", () => {
    const deny = statementsOf(run, "data").find((statement) => statement.Sid === "DenyInsecureTransport");
    expect(deny).toMatchObject({
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
    expect(deny.Resource).toEqual([
      expect.stringMatching(/^arn:aws:s3:::data-[0-9a-f]+$/),
      expect.stringMatching(/^arn:aws:s3:::data-[0-9a-f]+\/\*$/),
    ]);
  });

  it("bucket: caller's statements added to the policy with the bucket ARN", () => {
    const extra = statementsOf(run, "data").find((statement) => statement.Sid === "Extra");
    expect(extra.Resource).toMatch(/^arn:aws:s3:::data-[0-9a-f]+$/);
  });

  it("bucket: server access logs go to the log bucket", () => {
    const logging = named(run, "aws:s3/bucketLogging:BucketLogging", "data-logging").inputs;
    expect(logging.targetBucket).toBe("log-bucket");
    expect(logging.targetPrefix).toMatch(/^s3\/data-[0-9a-f]+\/$/);
  });

  it("bucket: Object Lock default retention as given", () => {
    expect(
      named(run, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "data-object-lock").inputs.rule
        .defaultRetention,
    ).toEqual({ mode: "GOVERNANCE", days: 10 });
  });

  it("bucket: lifecycle rules as given", () => {
    expect(
      named(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "data-lifecycle").inputs.rules[0]
        .expiration,
    ).toEqual({ days: 40 });
  });

  it("bucket: every resource retained on delete when asked", () => {
    const children = run.resources.filter((resource) => resource.custom && resource.type.startsWith("aws:s3/"));
    expect(children.length).toBeGreaterThan(5);
    expect(children.filter((resource) => !resource.retainOnDelete).map((resource) => resource.name)).toEqual([]);
  });
});

describe("SecureBucket without a KMS key or log bucket (a log bucket)", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await runOffline(() => {
      new SecureBucket("logs", {});
    });
  });

  it("log bucket: SSE-S3 default encryption", () => {
    const [rule] = named(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "logs-encryption",
    ).inputs.rules;
    expect(rule.applyServerSideEncryptionByDefault).toEqual({ sseAlgorithm: "AES256" });
  });

  it("log bucket: does not log into itself, no Object Lock", () => {
    expect(run.resources.filter((resource) => resource.type === "aws:s3/bucketLogging:BucketLogging")).toEqual([]);
    expect(
      run.resources.filter(
        (resource) => resource.type === "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      ),
    ).toEqual([]);
    expect(named(run, "aws:s3/bucket:Bucket", "logs").inputs.objectLockEnabled).toBeUndefined();
  });

  it("log bucket: policy still TLS-only", () => {
    expect(statementsOf(run, "logs").map((statement) => statement.Sid)).toEqual(["DenyInsecureTransport"]);
  });

  it("log bucket: not retained unless asked", () => {
    expect(named(run, "aws:s3/bucket:Bucket", "logs").retainOnDelete).toBe(false);
  });
});
