// The account's audit trail and guardrails: a multi-region CloudTrail trail (unless the account
// already has an organisation trail) with validated, encrypted log files in a SecureBucket under
// Object Lock and a copy in CloudWatch Logs, the Session Manager document that records operators'
// sessions, and EBS encryption by default.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import { type AwsConstraint, derivedNameProblem, STACK_NAME } from "../constraint";
import { SecureBucket, type ObjectLockMode } from "./secure-bucket";
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
   * Days the trail's log group and log files are kept, and the log files locked. Defaults to the
   * stack's `auditLogRetentionDays`, six years: HIPAA keeps required documentation that long
   * (45 CFR 164.316(b)(2)(i)), and the trail is the record of who changed the account.
   */
  logRetentionDays?: number;
  /**
   * Object Lock mode of the trail's log files. Defaults to the stack's `objectLockMode`
   * (governance): the bucket policy also denies bypassing it, so neither can delete a log file
   * before `logRetentionDays`.
   */
  objectLockMode?: ObjectLockMode;
  /**
   * Prefix of the stack's CloudWatch Logs groups; the trail's group is `<prefix>/cloudtrail`, and
   * sessions are logged to `<prefix>/ssm-sessions` (declared, encrypted, by the Host component).
   */
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
  /** The CloudWatch Logs group the trail delivers to, when this stack creates the trail. */
  public readonly trailLogGroupName?: pulumi.Output<string>;
  /** The Session Manager document operators start sessions on the host with (`--document-name`). */
  public readonly sessionDocumentName: pulumi.Output<string>;

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

    // A session document of the stack's, not the account's SSM-SessionManagerRunShell preferences,
    // which one account and region share and another owner may already have set. Sessions started
    // without it are not logged: docs/security-model.md shows the IAM condition that requires it.
    this.sessionDocumentName = new aws.ssm.Document(
      `${name}-session`,
      {
        name: `${args.namePrefix}-openemr-session`,
        documentType: "Session",
        documentFormat: "JSON",
        content: JSON.stringify({
          schemaVersion: "1.0",
          description: "OpenEMR host shell: every session logged to an encrypted CloudWatch Logs group",
          sessionType: "Standard_Stream",
          inputs: {
            cloudWatchLogGroupName: `${args.logGroupPrefix}/ssm-sessions`,
            // The agent refuses to log into a group that is not encrypted.
            cloudWatchEncryptionEnabled: true,
            cloudWatchStreamingEnabled: true,
            s3BucketName: "",
            s3KeyPrefix: "",
            s3EncryptionEnabled: true,
            // Automatic logoff (164.312(a)(2)(iii)): an idle shell on a PHI host closes.
            idleSessionTimeout: "20",
            maxSessionDuration: "",
            kmsKeyId: "",
            runAsEnabled: false,
            runAsDefaultUser: "",
            shellProfile: { windows: "", linux: "" },
          },
        }),
      },
      child,
    ).name;

    if (args.createCloudTrail ?? configDefault("createCloudTrail")) {
      const { trail, logGroup } = this.trail(name, {
        ...args,
        region: args.region ?? aws.getRegionOutput({}, child).region,
        logRetentionDays: args.logRetentionDays ?? configDefault("auditLogRetentionDays"),
        objectLockMode: args.objectLockMode ?? (configDefault("objectLockMode").toUpperCase() as ObjectLockMode),
        retainOnDelete: args.retainOnDelete ?? configDefault("retainDataOnDestroy"),
      });
      this.trailArn = trail.arn;
      this.trailBucketName = pulumi.output(trail.s3BucketName);
      this.trailLogGroupName = logGroup.name;
    }
    this.registerOutputs({
      trailArn: this.trailArn,
      trailBucketName: this.trailBucketName,
      trailLogGroupName: this.trailLogGroupName,
      sessionDocumentName: this.sessionDocumentName,
    });
  }

  private trail(
    name: string,
    args: Required<Omit<AuditArgs, "createCloudTrail">>,
  ): { trail: aws.cloudtrail.Trail; logGroup: aws.cloudwatch.LogGroup } {
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
        // WORM evidence: a log file cannot be deleted or overwritten before its retention ends (in
        // governance mode, not without first replacing the bucket policy below, which the
        // s3-bucket-policy-changes alarm reports); the lifecycle rule expires it after.
        objectLock: { mode: args.objectLockMode, days: args.logRetentionDays },
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
          {
            // Governance mode alone yields to s3:BypassGovernanceRetention; nobody gets it here.
            Sid: "DenyDeletingTrailLogs",
            Effect: "Deny",
            Principal: "*",
            Action: [
              "s3:DeleteObject",
              "s3:DeleteObjectVersion",
              "s3:BypassGovernanceRetention",
              "s3:PutObjectRetention",
            ],
            Resource: pulumi.interpolate`${arn}/*`,
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

    const trail = new aws.cloudtrail.Trail(
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
    return { trail, logGroup };
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
