// Backups in two layers. BackupStorage (declared before the host, which writes into it) holds
// the logical backups and the access-log bucket; SnapshotBackups (declared after the host and
// the database, which it selects) takes AWS Backup snapshots of both.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import { type AwsConstraint, derivedNameProblem, STACK_NAME } from "../constraint";
import { SecureBucket, type ObjectLockMode } from "./secure-bucket";
import { assumableByService } from "./trust-policy";

/** Key prefix of the logical backups the host writes (`<prefix><site>/<id>/`). */
export const BACKUP_OBJECT_PREFIX = "backups/";

/** Where logical backups go as they age: days after upload, coldest last. */
const BACKUP_TRANSITIONS = [
  { days: 30, storageClass: "STANDARD_IA" },
  { days: 90, storageClass: "GLACIER_IR" },
];

/**
 * The transitions that come before `expiryDays`: S3 refuses a lifecycle rule whose expiration is
 * not later than its transitions, and `backupExpiryDays` may be as short as 30.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html
 */
export function backupTransitions(expiryDays: number): typeof BACKUP_TRANSITIONS | undefined {
  const transitions = BACKUP_TRANSITIONS.filter((transition) => transition.days < expiryDays);
  return transitions.length > 0 ? transitions : undefined;
}

export interface BackupStorageArgs {
  /** Customer KMS key ARN (the `data` key) for SSE-KMS on the backup bucket. */
  dataKeyArn: pulumi.Input<string>;
  /**
   * Days each backup object is locked in governance mode (Object Lock default retention). Defaults
   * to the stack's `objectLockDays`, as long as RDS keeps its own backups at most: both layers can
   * go back as far.
   */
  objectLockDays?: number;
  /**
   * Object Lock mode of the backup bucket and its replica. Defaults to the stack's `objectLockMode`,
   * GOVERNANCE: the bucket policy denies bypassing it to everyone while the policy stands.
   * COMPLIANCE: nobody, the root user included, can delete a locked version before its retention ends.
   */
  objectLockMode?: ObjectLockMode;
  /**
   * The one IAM role that may change or delete the backup buckets' policy, Object Lock configuration
   * and versioning. Defaults to the stack's `breakGlassRoleArn`, none: then no such deny is added, so
   * a fresh deploy and later `pulumi up` runs (as any principal allowed s3:PutBucketPolicy) can
   * still manage the policy, and the audit reports that as an advisory finding.
   */
  breakGlassRoleArn?: string;
  /**
   * Days after which objects under `backups/` expire; at least `objectLockDays`. Defaults to the
   * stack's `backupExpiryDays`: a year of logical backups, most of it in colder storage.
   */
  backupExpiryDays?: number;
  /**
   * Days access logs (S3 and ALB) are kept in the log bucket. Defaults to the stack's
   * `logRetentionDays`, the shortest retention the stack allows for an audit record.
   */
  logRetentionDays?: number;
  /**
   * Keep the access-log bucket when the stack is destroyed. The backup bucket is always kept:
   * its policy denies deleting it to everyone, so `pulumi destroy` leaves it rather than failing.
   * Defaults to the stack's `retainDataOnDestroy`, which keeps it: the record outlives the stack.
   */
  retainOnDelete?: boolean;
  /**
   * A second copy of the logical backups in another region (the stack's `copyRegion`); none when
   * omitted. Everything under `backups/` replicates to a bucket made there like the backup bucket
   * (versioned, the same Object Lock, SSE-KMS with `keyArn`, public access blocked, TLS only, its
   * own access-log bucket), by a role that may do no more than replicate these objects.
   */
  copy?: BackupCopyArgs;
}

export interface BackupCopyArgs {
  /** The copy region, e.g. `us-west-2`. */
  region: string;
  /** An AWS provider for that region; the replica buckets are made with it. */
  provider: pulumi.ProviderResource;
  /** Customer KMS key ARN in that region (CopyRegionKey) for SSE-KMS on the replica bucket. */
  keyArn: pulumi.Input<string>;
}

/** The primary region's name for the replica bucket's storage class: backups are read rarely. */
const REPLICA_STORAGE_CLASS = "STANDARD_IA";

export class BackupStorage extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  /** Receives S3 server access logs and ALB access logs. */
  public readonly logBucketName: pulumi.Output<string>;
  public readonly logBucketArn: pulumi.Output<string>;
  /** The replica bucket in the copy region, when there is one. */
  public readonly replicaBucketName?: pulumi.Output<string>;
  public readonly replicaBucketArn?: pulumi.Output<string>;

  constructor(name: string, args: BackupStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:backups:BackupStorage", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const accountId = identity.accountId;
    const elbAccount = aws.elb.getServiceAccountOutput({}, { parent: this });

    const retainLogs = args.retainOnDelete ?? configDefault("retainDataOnDestroy");
    const logRetentionDays = args.logRetentionDays ?? configDefault("logRetentionDays");
    const logBucket = accessLogBucket(`${name}-access-logs`, {
      retainOnDelete: retainLogs,
      logRetentionDays,
      accountId,
      elbAccountArn: elbAccount.arn,
      parent: this,
    });

    const backupExpiryDays = args.backupExpiryDays ?? configDefault("backupExpiryDays");
    const objectLock = {
      mode: args.objectLockMode ?? (configDefault("objectLockMode").toUpperCase() as ObjectLockMode),
      days: args.objectLockDays ?? configDefault("objectLockDays"),
    };
    const protectBackups = backupBucketStatements(args.breakGlassRoleArn ?? configDefault("breakGlassRoleArn"));
    const backupBucket = new SecureBucket(
      `${name}-backups`,
      {
        kmsKeyArn: args.dataKeyArn,
        accessLogBucket: logBucket.bucketName,
        retainOnDelete: true,
        objectLock,
        lifecycleRules: [
          {
            id: "backups-to-colder-storage-then-expire",
            status: "Enabled",
            filter: { prefix: BACKUP_OBJECT_PREFIX },
            transitions: backupTransitions(backupExpiryDays),
            expiration: { days: backupExpiryDays },
            noncurrentVersionExpiration: { noncurrentDays: 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
          {
            // The host bundle never expires (a host rebuilt from a backup needs it), but
            // unfinished uploads anywhere in the bucket are cleaned up.
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
        policyStatements: protectBackups,
      },
      { parent: this },
    );

    if (args.copy) {
      const copy = args.copy;
      const inCopyRegion = { parent: this, providers: { aws: copy.provider } };
      const replicaLogBucket = accessLogBucket(`${name}-replica-access-logs`, {
        retainOnDelete: retainLogs,
        logRetentionDays,
        accountId,
        parent: this,
        provider: copy.provider,
      });
      const replica = new SecureBucket(
        `${name}-replica`,
        {
          kmsKeyArn: copy.keyArn,
          accessLogBucket: replicaLogBucket.bucketName,
          retainOnDelete: true,
          objectLock,
          lifecycleRules: [
            {
              // Replicas arrive in Standard-IA (the replication rule says so): only the colder step is left.
              id: "backups-to-colder-storage-then-expire",
              status: "Enabled",
              filter: { prefix: BACKUP_OBJECT_PREFIX },
              transitions: backupTransitions(backupExpiryDays)?.filter(
                (transition) => transition.storageClass !== REPLICA_STORAGE_CLASS,
              ),
              expiration: { days: backupExpiryDays },
              noncurrentVersionExpiration: { noncurrentDays: 30 },
              abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            },
          ],
          policyStatements: protectBackups,
        },
        inCopyRegion,
      );
      const role = replicationRole(`${name}-replication`, {
        source: backupBucket,
        sourceKeyArn: args.dataKeyArn,
        destination: replica,
        destinationKeyArn: copy.keyArn,
        copyRegion: copy.region,
        accountId,
        parent: this,
      });
      new aws.s3.BucketReplicationConfig(
        `${name}-replication`,
        {
          bucket: backupBucket.bucket.id,
          role: role.arn,
          rules: [
            {
              id: "backups-to-copy-region",
              status: "Enabled",
              priority: 1,
              filter: { prefix: BACKUP_OBJECT_PREFIX },
              // A delete marker stays in this region: the copy keeps what the primary loses.
              deleteMarkerReplication: { status: "Disabled" },
              sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
              destination: {
                bucket: replica.arn,
                storageClass: REPLICA_STORAGE_CLASS,
                encryptionConfiguration: { replicaKmsKeyId: copy.keyArn },
              },
            },
          ],
        },
        { parent: this, dependsOn: [backupBucket.versioning, replica.versioning, role.ready] },
      );
      this.replicaBucketName = replica.bucketName;
      this.replicaBucketArn = replica.arn;
    }

    this.bucketName = backupBucket.bucketName;
    this.bucketArn = backupBucket.arn;
    this.logBucketName = logBucket.bucketName;
    this.logBucketArn = logBucket.arn;
    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      logBucketName: this.logBucketName,
      logBucketArn: this.logBucketArn,
      replicaBucketName: this.replicaBucketName,
      replicaBucketArn: this.replicaBucketArn,
    });
  }
}

/** What the break-glass deny protects: the policy itself, and the lock and versioning it guards. */
export const BREAK_GLASS_ACTIONS = [
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutBucketObjectLockConfiguration",
  "s3:PutBucketVersioning",
];

/**
 * The backup buckets' own statements: nobody, the deployer and the root user's IAM sessions
 * included, may delete backups, shorten how long they are kept or lift the lock. Changing the
 * lifecycle later means removing the second statement first, on purpose, in its own change. With
 * a break-glass role, only that role may change or delete the policy itself (a statement denies
 * everyone else): otherwise whoever may put a bucket policy could remove these denies first.
 */
function backupBucketStatements(breakGlassRoleArn: string) {
  return (arn: pulumi.Output<string>): aws.iam.PolicyStatement[] => [
    {
      Sid: "DenyDeletingBackups",
      Effect: "Deny",
      Principal: "*",
      Action: ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention"],
      Resource: pulumi.interpolate`${arn}/*`,
    },
    {
      Sid: "DenyWeakeningRetention",
      Effect: "Deny",
      Principal: "*",
      Action: [
        "s3:DeleteBucket",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketVersioning",
      ],
      Resource: arn,
    },
    ...(breakGlassRoleArn
      ? [
          {
            // aws:PrincipalArn is the role's ARN for every session of it. The account's root user can
            // still delete a bucket policy (S3 allows it whatever the policy says).
            Sid: "DenyPolicyChangesExceptBreakGlass",
            Effect: "Deny" as const,
            Principal: "*",
            Action: BREAK_GLASS_ACTIONS,
            Resource: arn,
            Condition: { ArnNotEquals: { "aws:PrincipalArn": breakGlassRoleArn } },
          },
        ]
      : []),
  ];
}

/**
 * The bucket receiving S3 server access logs (and, in the primary region, ALB access logs).
 * SSE-S3, not SSE-KMS: AWS delivers those logs only to buckets whose default encryption is SSE-S3.
 * S3 delivers server access logs only within a region, so the copy region has a log bucket too.
 */
function accessLogBucket(
  name: string,
  spec: {
    retainOnDelete: boolean;
    logRetentionDays: number;
    accountId: pulumi.Output<string>;
    /** The regional ELB log-delivery account; only the primary region's log bucket takes ALB logs. */
    elbAccountArn?: pulumi.Output<string>;
    parent: pulumi.Resource;
    provider?: pulumi.ProviderResource;
  },
): SecureBucket {
  const { accountId, elbAccountArn } = spec;
  return new SecureBucket(
    name,
    {
      retainOnDelete: spec.retainOnDelete,
      lifecycleRules: [
        {
          id: "expire-access-logs",
          status: "Enabled",
          filter: {},
          expiration: { days: spec.logRetentionDays },
          noncurrentVersionExpiration: { noncurrentDays: 30 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
      policyStatements: (arn) => [
        {
          Sid: "S3ServerAccessLogDelivery",
          Effect: "Allow",
          Principal: { Service: "logging.s3.amazonaws.com" },
          Action: "s3:PutObject",
          Resource: pulumi.interpolate`${arn}/s3/*`,
          Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
        ...(elbAccountArn
          ? ([
              {
                // Regions opened before August 2022 deliver ALB logs from a regional ELB account.
                Sid: "AlbAccessLogDeliveryLegacyRegions",
                Effect: "Allow",
                Principal: { AWS: elbAccountArn },
                Action: "s3:PutObject",
                Resource: pulumi.interpolate`${arn}/alb/AWSLogs/${accountId}/*`,
              },
              {
                // Newer regions deliver ALB logs through this service principal.
                Sid: "AlbAccessLogDelivery",
                Effect: "Allow",
                Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
                Action: "s3:PutObject",
                Resource: pulumi.interpolate`${arn}/alb/AWSLogs/${accountId}/*`,
              },
            ] satisfies aws.iam.PolicyStatement[])
          : []),
      ],
    },
    { parent: spec.parent, ...(spec.provider ? { providers: { aws: spec.provider } } : {}) },
  );
}

/**
 * The role S3 assumes to replicate the backups: only S3, only for this account and this source
 * bucket (the confused-deputy conditions), and only reading what replication reads under
 * `backups/` and writing replicas into the one destination, with each key used through S3 alone.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
 */
function replicationRole(
  name: string,
  spec: {
    source: SecureBucket;
    sourceKeyArn: pulumi.Input<string>;
    destination: SecureBucket;
    destinationKeyArn: pulumi.Input<string>;
    copyRegion: string;
    accountId: pulumi.Output<string>;
    parent: pulumi.Resource;
  },
): { arn: pulumi.Output<string>; ready: pulumi.Resource } {
  const child = { parent: spec.parent };
  const region = aws.getRegionOutput({}, child).region;
  const source = spec.source.arn;
  const destination = spec.destination.arn;
  const role = new aws.iam.Role(
    name,
    {
      description: "S3 replication of the OpenEMR logical backups to the copy region",
      assumeRolePolicy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "s3.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": spec.accountId, "aws:SourceArn": source } },
          },
        ],
      }),
    },
    child,
  );
  // With S3 Bucket Keys the encryption context is the bucket's ARN; without, the object's.
  const context = (arn: pulumi.Output<string>) => [arn, pulumi.interpolate`${arn}/${BACKUP_OBJECT_PREFIX}*`];
  const policy = new aws.iam.Policy(
    name,
    {
      description: "Replicate the OpenEMR logical backups (backups/) to the copy region's bucket, nothing else",
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "ReadReplicationConfiguration",
            Effect: "Allow",
            Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            Resource: source,
          },
          {
            Sid: "ReadBackupVersions",
            Effect: "Allow",
            Action: [
              "s3:GetObjectVersionForReplication",
              "s3:GetObjectVersionAcl",
              "s3:GetObjectVersionTagging",
              "s3:GetObjectRetention",
              "s3:GetObjectLegalHold",
            ],
            Resource: pulumi.interpolate`${source}/${BACKUP_OBJECT_PREFIX}*`,
          },
          {
            Sid: "WriteReplicas",
            Effect: "Allow",
            Action: ["s3:ReplicateObject", "s3:ReplicateTags"],
            Resource: pulumi.interpolate`${destination}/${BACKUP_OBJECT_PREFIX}*`,
          },
          {
            Sid: "DecryptSourceThroughS3",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: spec.sourceKeyArn,
            Condition: {
              StringEquals: { "kms:ViaService": pulumi.interpolate`s3.${region}.amazonaws.com` },
              StringLike: { "kms:EncryptionContext:aws:s3:arn": context(source) },
            },
          },
          {
            Sid: "EncryptReplicasThroughS3",
            Effect: "Allow",
            Action: ["kms:Encrypt", "kms:GenerateDataKey"],
            Resource: spec.destinationKeyArn,
            Condition: {
              StringEquals: { "kms:ViaService": `s3.${spec.copyRegion}.amazonaws.com` },
              StringLike: { "kms:EncryptionContext:aws:s3:arn": context(destination) },
            },
          },
        ],
      }),
    },
    child,
  );
  const attachment = new aws.iam.RolePolicyAttachment(name, { role: role.name, policyArn: policy.arn }, child);
  return { arn: role.arn, ready: attachment };
}

export interface SnapshotBackupsArgs {
  /** Prefix of the vault, plan and selection names (the stack name). */
  namePrefix: string;
  /** Customer KMS key ARN (the `data` key) that encrypts the vault's recovery points. */
  dataKeyArn: pulumi.Input<string>;
  /**
   * Days each daily snapshot is kept. Defaults to the stack's `backupRetentionDays`, as long as
   * RDS keeps its automated backups at most.
   */
  backupRetentionDays?: number;
  /**
   * ARN of the host instance; AWS Backup snapshots all its EBS volumes. Omitted on `ha`, whose
   * hosts hold no data of their own.
   */
  hostInstanceArn?: pulumi.Input<string>;
  /** ARN of the EFS file system holding `sites/` (`ha` tier). */
  fileSystemArn?: pulumi.Input<string>;
  /** ARN of the RDS instance (`standard` tier); omitted on `single`. */
  dbInstanceArn?: pulumi.Input<string>;
  /**
   * SNS topic that hears of failed, aborted and expired backup jobs (it must let EventBridge publish);
   * omitted when there is none yet.
   */
  notificationTopicArn?: pulumi.Input<string>;
  /**
   * A vault in the copy region (the stack's `copyRegion`) that receives a copy of every snapshot,
   * kept as long; none when omitted. Copy failures reach the topic (COPY_JOB_FAILED).
   */
  copy?: SnapshotCopyArgs;
  /**
   * AWS Backup Vault Lock on the vault (and the copy vault): recovery points kept at least
   * `backupRetentionDays` and at most `maxRetentionDays`, none deleted early. Within
   * `changeableForDays` of its creation the lock can be removed; then it is permanent (compliance
   * mode). None when omitted (the stack's `backupVaultLock` is off by default).
   */
  vaultLock?: { changeableForDays?: number; maxRetentionDays: number };
}

export interface SnapshotCopyArgs {
  /** An AWS provider for the copy region; the copy vault is made with it. */
  provider: pulumi.ProviderResource;
  /** Customer KMS key ARN in that region (CopyRegionKey) that encrypts the copied recovery points. */
  keyArn: pulumi.Input<string>;
}

/** The snapshot vault's name; monitoring needs it before the vault exists (its alarm dimension). */
export function snapshotVaultName(namePrefix: string): string {
  return `${namePrefix}-openemr`;
}

/** AWS managed policies that let AWS Backup take and restore snapshots. */
const BACKUP_SERVICE_POLICIES = ["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"];

export class SnapshotBackups extends pulumi.ComponentResource {
  public readonly vaultName: pulumi.Output<string>;
  public readonly planId: pulumi.Output<string>;

  constructor(name: string, args: SnapshotBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:backups:SnapshotBackups", name, {}, opts);
    const child = { parent: this };
    const partition = aws.getPartitionOutput({}, child).partition;

    const vault = new aws.backup.Vault(
      `${name}-vault`,
      { name: snapshotVaultName(args.namePrefix), kmsKeyArn: args.dataKeyArn, forceDestroy: false },
      child,
    );
    const retentionDays = args.backupRetentionDays ?? configDefault("backupRetentionDays");
    const copyVault = args.copy
      ? new aws.backup.Vault(
          `${name}-copy-vault`,
          { name: copyVaultName(args.namePrefix), kmsKeyArn: args.copy.keyArn, forceDestroy: false },
          { parent: this, provider: args.copy.provider },
        )
      : undefined;
    const lockVault = (id: string, vaultName: pulumi.Input<string>, lockOpts: pulumi.CustomResourceOptions) => {
      if (!args.vaultLock) return;
      new aws.backup.VaultLockConfiguration(
        id,
        {
          backupVaultName: vaultName,
          minRetentionDays: retentionDays,
          maxRetentionDays: Math.max(retentionDays, args.vaultLock.maxRetentionDays),
          changeableForDays: args.vaultLock.changeableForDays ?? configDefault("backupVaultLockChangeableDays"),
        },
        lockOpts,
      );
    };
    lockVault(`${name}-vault-lock`, vault.name, child);
    if (copyVault && args.copy)
      lockVault(`${name}-copy-vault-lock`, copyVault.name, { parent: this, provider: args.copy.provider });
    const plan = new aws.backup.Plan(
      `${name}-plan`,
      {
        name: backupPlanName(args.namePrefix),
        rules: [
          {
            ruleName: "daily",
            targetVaultName: vault.name,
            // 05:00 UTC, after the host's own nightly logical backup.
            schedule: "cron(0 5 * * ? *)",
            startWindow: 60,
            completionWindow: 360,
            lifecycle: { deleteAfter: retentionDays },
            ...(copyVault
              ? { copyActions: [{ destinationVaultArn: copyVault.arn, lifecycle: { deleteAfter: retentionDays } }] }
              : {}),
          },
        ],
      },
      child,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "AWS Backup service role for the OpenEMR host and database snapshots",
        assumeRolePolicy: assumableByService("backup.amazonaws.com"),
      },
      child,
    );
    const attachments = BACKUP_SERVICE_POLICIES.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-${policy}`,
          { role: role.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/service-role/${policy}` },
          child,
        ),
    );

    const resources = [args.hostInstanceArn, args.dbInstanceArn, args.fileSystemArn].filter(
      (arn): arn is pulumi.Input<string> => arn !== undefined,
    );
    new aws.backup.Selection(
      `${name}-selection`,
      { name: backupSelectionName(args.namePrefix), planId: plan.id, iamRoleArn: role.arn, resources },
      { ...child, dependsOn: attachments },
    );

    if (args.notificationTopicArn) {
      // Vault notifications no longer send BACKUP_JOB_FAILED, BACKUP_JOB_EXPIRED or RESTORE_JOB_FAILED
      // (deprecated), and the live BACKUP_JOB_COMPLETED cannot be narrowed to failures. So the vault
      // keeps only the live COPY_JOB_FAILED, and failed, aborted or expired backup jobs reach the topic
      // through an EventBridge rule, as AWS advises.
      // https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-notifications.html
      // https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
      new aws.backup.VaultNotifications(
        `${name}-notifications`,
        { backupVaultName: vault.name, snsTopicArn: args.notificationTopicArn, backupVaultEvents: ["COPY_JOB_FAILED"] },
        child,
      );
      const failedJobs = new aws.cloudwatch.EventRule(
        `${name}-failed-jobs`,
        {
          description: "AWS Backup jobs of the OpenEMR vault that failed, were aborted or expired",
          eventPattern: pulumi.jsonStringify({
            source: ["aws.backup"],
            "detail-type": ["Backup Job State Change"],
            detail: { state: ["FAILED", "ABORTED", "EXPIRED"], backupVaultName: [vault.name] },
          }),
        },
        child,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-failed-jobs`,
        { rule: failedJobs.name, arn: args.notificationTopicArn },
        child,
      );
      // Copy jobs (the copy region's snapshots) report `state` as CopyJob.State does (FAILED, or
      // PARTIAL when some of a composite job's copies failed); restore jobs report `status` as
      // RestoreJob.Status does (FAILED, ABORTED) and name no vault, so this matches the region's.
      // https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
      // https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CopyJob.html
      // https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html
      const failedCopyJobs = new aws.cloudwatch.EventRule(
        `${name}-failed-copy-jobs`,
        {
          description: "AWS Backup copy jobs from the OpenEMR vault that failed or only partly completed",
          eventPattern: pulumi.jsonStringify({
            source: ["aws.backup"],
            "detail-type": ["Copy Job State Change"],
            detail: { state: ["FAILED", "PARTIAL"], sourceBackupVaultArn: [vault.arn] },
          }),
        },
        child,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-failed-copy-jobs`,
        { rule: failedCopyJobs.name, arn: args.notificationTopicArn },
        child,
      );
      const failedRestoreJobs = new aws.cloudwatch.EventRule(
        `${name}-failed-restore-jobs`,
        {
          description: "AWS Backup restore jobs in the OpenEMR stack's region that failed or were aborted",
          eventPattern: pulumi.jsonStringify({
            source: ["aws.backup"],
            "detail-type": ["Restore Job State Change"],
            detail: { status: ["FAILED", "ABORTED"] },
          }),
        },
        child,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-failed-restore-jobs`,
        { rule: failedRestoreJobs.name, arn: args.notificationTopicArn },
        child,
      );
    }

    this.vaultName = vault.name;
    this.planId = plan.id;
    this.registerOutputs({ vaultName: this.vaultName, planId: this.planId });
  }
}

/** The copy region's vault. */
export function copyVaultName(namePrefix: string): string {
  return `${snapshotVaultName(namePrefix)}-copy`;
}

/** The daily backup plan. */
export function backupPlanName(namePrefix: string): string {
  return `${namePrefix}-openemr-daily`;
}

/** The plan's resource selection (the host and the database). */
export function backupSelectionName(namePrefix: string): string {
  return `${namePrefix}-openemr`;
}

/**
 * Regions with an Elastic Load Balancing log-delivery account (those opened before August 2022),
 * the ones the provider's aws.elb.getServiceAccount knows; in any other it fails the deploy
 * ("unsupported AWS Region"), and the access-log bucket's policy names that account.
 */
const ELB_ACCOUNT_REGIONS = [
  "af-south-1",
  "ap-east-1",
  "ap-northeast-1",
  "ap-northeast-2",
  "ap-northeast-3",
  "ap-south-1",
  "ap-southeast-1",
  "ap-southeast-2",
  "ap-southeast-3",
  "ca-central-1",
  "eu-central-1",
  "eu-north-1",
  "eu-south-1",
  "eu-west-1",
  "eu-west-2",
  "eu-west-3",
  "me-south-1",
  "sa-east-1",
  "us-east-1",
  "us-east-2",
  "us-west-1",
  "us-west-2",
];

export const backupConstraints: AwsConstraint[] = [
  {
    id: "backup-vault-lock-cooling-off",
    keys: ["backupVaultLockChangeableDays", "backupVaultLock"],
    rule:
      "AWS Backup Vault Lock takes effect after a cooling-off period of at least 72 hours: `ChangeableForDays` " +
      "is 3 or more.",
    doc: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_PutBackupVaultLockConfiguration.html",
    problems: ({ config }) =>
      config.backupVaultLock && config.backupVaultLockChangeableDays < 3
        ? [
            `openemr:backupVaultLockChangeableDays: ${config.backupVaultLockChangeableDays} is too short; ` +
              "expected at least 3 days (AWS Backup's cooling-off period before the lock holds)",
          ]
        : [],
  },
  {
    id: "elb-log-delivery-account",
    keys: ["region"],
    rule:
      "The access-log bucket's policy lets the region's Elastic Load Balancing account write ALB logs; AWS has " +
      "such an account only in regions opened before August 2022 (newer ones deliver through a service " +
      "principal), and the stack looks it up, so `region` is one of those.",
    doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html",
    problems: ({ config }) =>
      ELB_ACCOUNT_REGIONS.includes(config.region) || /^(us-gov|cn)-/.test(config.region)
        ? []
        : [
            `openemr:region: "${config.region}" has no Elastic Load Balancing log-delivery account, which the ` +
              "stack's access-log bucket policy names; expected a region opened before August 2022, such as " +
              "us-east-1, us-west-2 or eu-central-1",
          ],
  },
  {
    id: "backup-vault-name",
    keys: [STACK_NAME, "copyRegion"],
    rule:
      "An AWS Backup vault name is 2 to 50 letters, digits, `_` and `-`; the stack's vault is `<stack>-openemr`, " +
      "and with a copy region its copy is `<stack>-openemr-copy` (so a stack name of at most 37 characters).",
    doc: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupVault.html",
    problems: ({ config, stackName }) =>
      [snapshotVaultName(stackName), ...(config.copyRegion ? [copyVaultName(stackName)] : [])].flatMap((name) =>
        derivedNameProblem(
          stackName,
          "AWS Backup vault name",
          name,
          /^[\w-]{2,50}$/.test(name),
          `a vault name of at most 50 letters, digits, '-' and '_' (so a stack name of at most ${
            50 - (name.length - stackName.length)
          } of them)`,
        ),
      ),
  },
  {
    id: "backup-plan-and-selection-names",
    keys: [STACK_NAME],
    rule:
      "An AWS Backup plan name is 1 to 200 letters, digits, `-`, `_` and `.` (API), a selection name 1 to 50; " +
      "the stack's are `<stack>-openemr-daily` and `<stack>-openemr`.",
    doc: "https://docs.aws.amazon.com/aws-backup/latest/devguide/API_CreateBackupSelection.html",
    problems: ({ stackName }) => [
      ...derivedNameProblem(
        stackName,
        "AWS Backup plan name",
        backupPlanName(stackName),
        /^[\w.-]{1,200}$/.test(backupPlanName(stackName)),
        "a plan name of at most 200 letters, digits, '-', '_' and '.'",
      ),
      ...derivedNameProblem(
        stackName,
        "AWS Backup selection name",
        backupSelectionName(stackName),
        /^[\w.-]{1,50}$/.test(backupSelectionName(stackName)),
        "a selection name of at most 50 letters, digits, '-', '_' and '.'",
      ),
    ],
  },
];
