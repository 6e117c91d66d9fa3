// The one way this project makes an S3 bucket: owner-enforced, never public, versioned,
// encrypted by default, TLS-only, access-logged, with lifecycle rules and optional Object Lock.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";

export type ObjectLockMode = "GOVERNANCE" | "COMPLIANCE";

export interface SecureBucketArgs {
  /**
   * Customer KMS key ARN for SSE-KMS default encryption (with an S3 bucket key). Omit only where
   * AWS requires SSE-S3: buckets that receive S3 server access logs or ALB access logs.
   */
  kmsKeyArn?: pulumi.Input<string>;
  /**
   * Name of the bucket that receives this bucket's server access logs. Omit only for the log
   * bucket itself (S3 cannot log a bucket into itself usefully: every log write would be logged).
   */
  accessLogBucket?: pulumi.Input<string>;
  /** Statements added to the bucket policy after the TLS-only deny; they receive the bucket ARN. */
  policyStatements?: (bucketArn: pulumi.Output<string>) => aws.iam.PolicyStatement[];
  /** Lifecycle rules (the S3 API's shape); none when omitted. */
  lifecycleRules?: aws.types.input.s3.BucketLifecycleConfigurationRule[];
  /** Object Lock default retention; Object Lock can only be switched on when the bucket is created. */
  objectLock?: { mode: ObjectLockMode; days: number };
  /** Keep the bucket (and its contents) when the stack is destroyed. */
  retainOnDelete?: boolean;
}

export class SecureBucket extends pulumi.ComponentResource {
  /** The bucket's name. */
  public readonly bucketName: pulumi.Output<string>;
  public readonly arn: pulumi.Output<string>;
  /** The underlying bucket, for callers that need more of its outputs. */
  public readonly bucket: aws.s3.Bucket;
  /** The versioning setting: what replication (which needs versioning) waits for. */
  public readonly versioning: aws.s3.BucketVersioning;

  constructor(name: string, args: SecureBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:storage:SecureBucket", name, {}, opts);
    const child = { parent: this, retainOnDelete: args.retainOnDelete };

    this.bucket = new aws.s3.Bucket(
      name,
      { forceDestroy: false, objectLockEnabled: args.objectLock ? true : undefined },
      child,
    );
    const bucketId = this.bucket.id;

    const ownership = new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucketId, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucketId,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucketId, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    this.versioning = versioning;
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucketId,
        rules: [
          args.kmsKeyArn
            ? {
                applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
                bucketKeyEnabled: true,
              }
            : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
        ],
      },
      child,
    );
    // Settings that a restrictive bucket policy could later forbid are created before it.
    const settings: pulumi.Resource[] = [ownership, publicAccess, versioning, encryption];

    if (args.accessLogBucket) {
      settings.push(
        new aws.s3.BucketLogging(
          `${name}-logging`,
          { bucket: bucketId, targetBucket: args.accessLogBucket, targetPrefix: pulumi.interpolate`s3/${bucketId}/` },
          child,
        ),
      );
    }
    if (args.lifecycleRules?.length) {
      settings.push(
        new aws.s3.BucketLifecycleConfiguration(
          `${name}-lifecycle`,
          { bucket: bucketId, rules: args.lifecycleRules },
          { ...child, dependsOn: [versioning] },
        ),
      );
    }
    if (args.objectLock) {
      settings.push(
        new aws.s3.BucketObjectLockConfiguration(
          `${name}-object-lock`,
          { bucket: bucketId, rule: { defaultRetention: { mode: args.objectLock.mode, days: args.objectLock.days } } },
          { ...child, dependsOn: [versioning] },
        ),
      );
    }

    const arn = this.bucket.arn;
    const statements: aws.iam.PolicyStatement[] = [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [arn, pulumi.interpolate`${arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
      ...(args.policyStatements?.(arn) ?? []),
    ];
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket: bucketId, policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: statements }) },
      { ...child, dependsOn: settings },
    );

    this.bucketName = this.bucket.bucket;
    this.arn = arn;
    this.registerOutputs({ bucketName: this.bucketName, arn: this.arn });
  }
}
