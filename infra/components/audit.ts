// The account's audit trail and guardrails: a multi-region CloudTrail trail (unless the account
// already has an organisation trail) with validated, encrypted log files in a SecureBucket and a
// copy in CloudWatch Logs, and EBS encryption by default.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import { type AwsConstraint, derivedNameProblem, STACK_NAME } from "../constraint";
import { SecureBucket } from "./secure-bucket";
import { assumableByService } from "./trust-policy";

export interface AuditArgs {
  /** Prefix of the trail's name (the stack name). */
  namePrefix: string;
  /** Region of the trail (part of its ARN). Defaults to the provider's region, the trail's home. */
  region?: pulumi.Input<string>;
  /**
   * False when the account already logs through an organisation trail: no trail is created.
   * Defaults to the stack's `createCloudTrail`, which creates one: without a trail nothing records
   * who changed the account.
   */
  createCloudTrail?: boolean;
  /** Customer KMS key ARN (the `logs` key) for the trail's log files, its bucket and log group. */
  logsKeyArn: pulumi.Input<string>;
  /**
   * Days the trail's log group and log files are kept. Defaults to the stack's `logRetentionDays`,
   * the shortest retention the stack allows for an audit record.
   */
  logRetentionDays?: number;
  /** Prefix of the stack's CloudWatch Logs groups; the trail's group is `<prefix>/cloudtrail`. */
  logGroupPrefix: string;
  /** Bucket receiving the trail bucket's S3 server access logs. */
  accessLogBucket: pulumi.Input<string>;
  /**
   * Keep the trail's bucket and log group (the audit record) when the stack is destroyed. Defaults
   * to the stack's `retainDataOnDestroy`, which keeps them: the record outlives the stack.
   */
  retainOnDelete?: boolean;
}

export class Audit extends pulumi.ComponentResource {
  /** The trail's ARN, when this stack creates one. */
  public readonly trailArn?: pulumi.Output<string>;
  public readonly trailBucketName?: pulumi.Output<string>;

  constructor(name: string, args: AuditArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:audit:Audit", name, {}, opts);
    const child = { parent: this };

    // An account-and-region-wide setting, not a resource of this stack alone: every new EBS
    // volume in this account and region is encrypted from now on, whoever creates it. Kept on
    // destroy, because deleting it would switch the guardrail off for the whole account.
    new aws.ebs.EncryptionByDefault(
      `${name}-ebs-encryption-by-default`,
      { enabled: true },
      { ...child, retainOnDelete: true },
    );

    if (args.createCloudTrail ?? configDefault("createCloudTrail")) {
      const trail = this.trail(name, {
        ...args,
        region: args.region ?? aws.getRegionOutput({}, child).region,
        logRetentionDays: args.logRetentionDays ?? configDefault("logRetentionDays"),
        retainOnDelete: args.retainOnDelete ?? configDefault("retainDataOnDestroy"),
      });
      this.trailArn = trail.arn;
      this.trailBucketName = pulumi.output(trail.s3BucketName);
    }
    this.registerOutputs({ trailArn: this.trailArn, trailBucketName: this.trailBucketName });
  }

  private trail(name: string, args: Required<Omit<AuditArgs, "createCloudTrail">>): aws.cloudtrail.Trail {
    const child = { parent: this };
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;
    const partition = aws.getPartitionOutput({}, child).partition;
    const trailName = trailNameFor(args.namePrefix);
    // Known before the trail exists, so the bucket policy can name exactly it.
    const trailArn = pulumi.interpolate`arn:${partition}:cloudtrail:${args.region}:${accountId}:trail/${trailName}`;

    const bucket = new SecureBucket(
      `${name}-trail`,
      {
        kmsKeyArn: args.logsKeyArn,
        accessLogBucket: args.accessLogBucket,
        retainOnDelete: args.retainOnDelete,
        lifecycleRules: [
          {
            id: "trail-logs-to-colder-storage-then-expire",
            status: "Enabled",
            filter: {},
            transitions: [{ days: 90, storageClass: "GLACIER_IR" }],
            expiration: { days: args.logRetentionDays },
            noncurrentVersionExpiration: { noncurrentDays: 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
        policyStatements: (arn) => [
          {
            Sid: "CloudTrailChecksBucketAcl",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:GetBucketAcl",
            Resource: arn,
            Condition: { StringEquals: { "aws:SourceArn": trailArn } },
          },
          {
            Sid: "CloudTrailWritesLogFiles",
            Effect: "Allow",
            Principal: { Service: "cloudtrail.amazonaws.com" },
            Action: "s3:PutObject",
            Resource: pulumi.interpolate`${arn}/AWSLogs/${accountId}/*`,
            Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trailArn } },
          },
        ],
      },
      child,
    );

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-trail`,
      { name: `${args.logGroupPrefix}/cloudtrail`, kmsKeyId: args.logsKeyArn, retentionInDays: args.logRetentionDays },
      { ...child, retainOnDelete: args.retainOnDelete },
    );
    // Trusted exactly as AWS documents this role, with no aws:SourceArn / aws:SourceAccount condition:
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html
    // CloudTrail's confused-deputy guidance puts those keys in resource policies (the bucket policy
    // above has aws:SourceArn):
    // https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cross-service-confused-deputy-prevention.html
    // Nothing documents CloudTrail sending them on AssumeRole: a condition on a key it does not
    // send denies, and CreateTrail fails. What keeps another account's trail off this role: a role
    // cannot be passed across accounts (iam:PassRole), and it may write only to this log group.
    const role = new aws.iam.Role(
      `${name}-trail-delivery`,
      {
        description: "CloudTrail delivers the OpenEMR stack's trail to its CloudWatch Logs group",
        assumeRolePolicy: assumableByService("cloudtrail.amazonaws.com"),
      },
      child,
    );
    const policy = new aws.iam.Policy(
      `${name}-trail-delivery`,
      {
        description: "Write the trail's events into its own log group, nothing else",
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
              Resource: pulumi.interpolate`${logGroup.arn}:log-stream:*`,
            },
          ],
        }),
      },
      child,
    );
    const attachment = new aws.iam.RolePolicyAttachment(
      `${name}-trail-delivery`,
      { role: role.name, policyArn: policy.arn },
      child,
    );

    return new aws.cloudtrail.Trail(
      `${name}-trail`,
      {
        name: trailName,
        s3BucketName: bucket.bucketName,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableLogFileValidation: true,
        enableLogging: true,
        kmsKeyId: args.logsKeyArn,
        // CloudTrail wants the log group ARN with its `:*` stream wildcard.
        cloudWatchLogsGroupArn: pulumi.interpolate`${logGroup.arn}:*`,
        cloudWatchLogsRoleArn: role.arn,
      },
      // CloudTrail checks it can write to the bucket and log group when the trail is created.
      { ...child, dependsOn: [bucket, attachment] },
    );
  }
}

/** The trail's name. */
export function trailNameFor(namePrefix: string): string {
  return `${namePrefix}-openemr`;
}

/** The retention periods CloudWatch Logs accepts, in days; any other value is refused. */
export const CLOUDWATCH_LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export const auditConstraints: AwsConstraint[] = [
  {
    id: "cloudtrail-trail-name",
    keys: [STACK_NAME, "createCloudTrail"],
    rule:
      "A CloudTrail trail name is 3 to 128 letters, digits, `.`, `_` and `-`, starts and ends with a letter or " +
      "digit, and has no two of `.`, `_`, `-` side by side; the stack's trail is `<stack>-openemr`.",
    doc: "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-trail-naming-requirements.html",
    problems: ({ config, stackName }) => {
      const name = trailNameFor(stackName);
      const valid = /^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$/.test(name) && !/[._-]{2}/.test(name);
      return config.createCloudTrail
        ? derivedNameProblem(
            stackName,
            "CloudTrail trail name (openemr:createCloudTrail is true)",
            name,
            valid,
            "a stack name that starts with a letter or digit and has no two of '.', '_', '-' side by side, " +
              "nor one at its end",
          )
        : [];
    },
  },
  {
    id: "cloudwatch-log-retention",
    keys: ["logRetentionDays"],
    rule: `CloudWatch Logs keeps a log group's events for one of ${CLOUDWATCH_LOG_RETENTION_DAYS.join(", ")} days.`,
    doc: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
    problems: ({ config }) =>
      CLOUDWATCH_LOG_RETENTION_DAYS.includes(config.logRetentionDays)
        ? []
        : [
            `openemr:logRetentionDays: ${config.logRetentionDays} is not a retention CloudWatch Logs accepts; ` +
              `expected one of ${CLOUDWATCH_LOG_RETENTION_DAYS.join(", ")}`,
          ],
  },
];
