import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { hostInstance, named, ofType, policyStatements } from "./helpers";
import { planStack } from "../../infra/plan/plan";
import { BackupStorage, SnapshotBackups } from "../../infra/components/backups";
import { PLACEHOLDERS } from "../../infra/offline/mocks";

const DATA_KEY = "arn:aws:kms:us-east-1:111122223333:key/test-data-key";
const HOST_ARN = "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0";
const DB_ARN = "arn:aws:rds:us-east-1:111122223333:db:openemr";
const TOPIC_ARN = "arn:aws:sns:us-east-1:111122223333:alarms";

function statement(run: OfflineRun, bucket: string, sid: string): any {
  return policyStatements(named(run, "aws:s3/bucketPolicy:BucketPolicy", `${bucket}-policy`).inputs.policy).find(
    (candidate) => candidate.Sid === sid,
  );
}

describe("BackupStorage", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await runOffline(() => {
      new BackupStorage("backup", {
        dataKeyArn: DATA_KEY,
        objectLockDays: 35,
        backupExpiryDays: 365,
        logRetentionDays: 400,
        retainOnDelete: true,
      });
    });
  });

  it("backup bucket: object lock governance 35 days", () => {
    expect(named(run, "aws:s3/bucket:Bucket", "backup-backups").inputs.objectLockEnabled).toBe(true);
    const lock = named(
      run,
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      "backup-backups-object-lock",
    ).inputs;
    expect(lock.rule.defaultRetention).toEqual({ mode: "GOVERNANCE", days: 35 });
  });

  it("backup bucket: SSE-KMS with the data key and a bucket key", () => {
    const [rule] = named(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "backup-backups-encryption",
    ).inputs.rules;
    expect(rule).toEqual({
      applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: DATA_KEY },
      bucketKeyEnabled: true,
    });
  });

  it("backup bucket: versioned", () => {
    expect(
      named(run, "aws:s3/bucketVersioning:BucketVersioning", "backup-backups-versioning").inputs.versioningConfiguration
        .status,
    ).toBe("Enabled");
  });

  it("backup bucket: TLS-only policy", () => {
    expect(statement(run, "backup-backups", "DenyInsecureTransport").Condition).toEqual({
      Bool: { "aws:SecureTransport": "false" },
    });
  });

  it("backup bucket: everyone denied deleting objects and versions", () => {
    const deny = statement(run, "backup-backups", "DenyDeletingBackups");
    expect(deny.Effect).toBe("Deny");
    expect(deny.Principal).toBe("*");
    expect(deny.Action).toEqual(
      expect.arrayContaining(["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"]),
    );
    expect(deny.Resource).toMatch(/^arn:aws:s3:::backup-backups-[0-9a-f]+\/\*$/);
  });

  it("backup bucket: everyone denied shortening retention or deleting the bucket", () => {
    const deny = statement(run, "backup-backups", "DenyWeakeningRetention");
    expect([deny.Effect, deny.Principal]).toEqual(["Deny", "*"]);
    expect(deny.Action).toEqual(
      expect.arrayContaining([
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketObjectLockConfiguration",
        "s3:DeleteBucket",
      ]),
    );
  });

  it("backup bucket: backups/ to STANDARD_IA at 30 days, GLACIER_IR at 90, expired at backupExpiryDays", () => {
    const rules = named(
      run,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "backup-backups-lifecycle",
    ).inputs.rules;
    const backups = rules.find((rule: any) => rule.filter?.prefix === "backups/");
    expect(backups.status).toBe("Enabled");
    expect(backups.transitions).toEqual([
      { days: 30, storageClass: "STANDARD_IA" },
      { days: 90, storageClass: "GLACIER_IR" },
    ]);
    expect(backups.expiration).toEqual({ days: 365 });
    expect(backups.noncurrentVersionExpiration.noncurrentDays).toBeGreaterThan(0);
  });

  // S3 refuses a lifecycle rule whose expiration is not later than its last transition.
  it.each([
    [30, []],
    [60, [{ days: 30, storageClass: "STANDARD_IA" }]],
    [90, [{ days: 30, storageClass: "STANDARD_IA" }]],
    [
      91,
      [
        { days: 30, storageClass: "STANDARD_IA" },
        { days: 90, storageClass: "GLACIER_IR" },
      ],
    ],
  ])("backup bucket: expiring at %i days, only the transitions before it", async (backupExpiryDays, transitions) => {
    const short = await runOffline(() => {
      new BackupStorage("backup", { dataKeyArn: DATA_KEY, objectLockDays: 30, backupExpiryDays });
    });
    const backups = named(
      short,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "backup-backups-lifecycle",
    ).inputs.rules.find((rule: any) => rule.filter?.prefix === "backups/");
    expect([backups.transitions ?? [], backups.expiration]).toEqual([transitions, { days: backupExpiryDays }]);
  });

  it("backup bucket: host-bundle/ never expires, incomplete uploads aborted everywhere", () => {
    const rules = named(
      run,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "backup-backups-lifecycle",
    ).inputs.rules;
    const expiring = rules.filter(
      (rule: any) => rule.expiration || rule.transitions || rule.noncurrentVersionExpiration,
    );
    expect(expiring.map((rule: any) => rule.filter?.prefix)).toEqual(["backups/"]);
    const bucketWide = rules.find((rule: any) => !rule.filter?.prefix);
    expect(bucketWide.abortIncompleteMultipartUpload.daysAfterInitiation).toBeGreaterThan(0);
  });

  it("backup bucket: access logs to the log bucket", () => {
    const logging = named(run, "aws:s3/bucketLogging:BucketLogging", "backup-backups-logging").inputs;
    expect(logging.targetBucket).toMatch(/^backup-access-logs-[0-9a-f]+$/);
  });

  it("backup bucket: ownership enforced and public access blocked", () => {
    expect(
      named(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "backup-backups-ownership").inputs.rule
        .objectOwnership,
    ).toBe("BucketOwnerEnforced");
    const block = named(
      run,
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "backup-backups-public-access",
    ).inputs;
    expect([
      block.blockPublicAcls,
      block.blockPublicPolicy,
      block.ignorePublicAcls,
      block.restrictPublicBuckets,
    ]).toEqual([true, true, true, true]);
  });

  it("backup bucket: never force-destroyed, retained when asked", () => {
    const bucket = named(run, "aws:s3/bucket:Bucket", "backup-backups");
    expect(bucket.inputs.forceDestroy).toBe(false);
    expect(bucket.retainOnDelete).toBe(true);
  });

  it("backup bucket: retained on destroy even when data is not (its policy forbids deleting it)", async () => {
    const scratch = await runOffline(() => {
      new BackupStorage("backup", {
        dataKeyArn: DATA_KEY,
        objectLockDays: 35,
        backupExpiryDays: 365,
        logRetentionDays: 400,
        retainOnDelete: false,
      });
    });
    expect(named(scratch, "aws:s3/bucket:Bucket", "backup-backups").retainOnDelete).toBe(true);
    expect(named(scratch, "aws:s3/bucket:Bucket", "backup-access-logs").retainOnDelete).toBe(false);
  });

  it("log bucket: SSE-S3 (the only encryption S3 and ALB log delivery accept)", () => {
    const [rule] = named(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "backup-access-logs-encryption",
    ).inputs.rules;
    expect(rule.applyServerSideEncryptionByDefault.sseAlgorithm).toBe("AES256");
  });

  it("log bucket: does not log into itself", () => {
    expect(run.resources.filter((resource) => resource.name === "backup-access-logs-logging")).toEqual([]);
  });

  it("log bucket: S3 log delivery allowed only from this account", () => {
    const allow = statement(run, "backup-access-logs", "S3ServerAccessLogDelivery");
    expect(allow.Principal).toEqual({ Service: "logging.s3.amazonaws.com" });
    expect(allow.Condition).toEqual({ StringEquals: { "aws:SourceAccount": "111122223333" } });
  });

  it("log bucket: ALB log delivery allowed only under alb/ for this account", () => {
    const allow = statement(run, "backup-access-logs", "AlbAccessLogDelivery");
    expect(allow.Principal).toEqual({ Service: "logdelivery.elasticloadbalancing.amazonaws.com" });
    expect(allow.Action).toBe("s3:PutObject");
    expect(allow.Resource).toMatch(/^arn:aws:s3:::backup-access-logs-[0-9a-f]+\/alb\/AWSLogs\/111122223333\/\*$/);
  });

  it("log bucket: ALB log delivery from the region's ELB account (regions before August 2022), only under alb/", () => {
    const allow = statement(run, "backup-access-logs", "AlbAccessLogDeliveryLegacyRegions");
    expect(allow.Principal).toEqual({ AWS: `arn:aws:iam::${PLACEHOLDERS.elbAccountId}:root` });
    expect(allow.Action).toBe("s3:PutObject");
    expect(allow.Resource).toMatch(/^arn:aws:s3:::backup-access-logs-[0-9a-f]+\/alb\/AWSLogs\/111122223333\/\*$/);
  });

  it("log bucket: logs expire after the log retention", () => {
    const [rule] = named(
      run,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "backup-access-logs-lifecycle",
    ).inputs.rules;
    expect(rule.expiration).toEqual({ days: 400 });
  });
});

describe("SnapshotBackups", () => {
  async function snapshotRun(dbInstanceArn?: string): Promise<OfflineRun> {
    return runOffline(
      () => {
        new SnapshotBackups("snapshots", {
          namePrefix: "clinic",
          dataKeyArn: DATA_KEY,
          backupRetentionDays: 21,
          hostInstanceArn: HOST_ARN,
          dbInstanceArn,
          notificationTopicArn: TOPIC_ARN,
        });
      },
      { stack: "clinic" },
    );
  }

  let standard: OfflineRun;
  let single: OfflineRun;
  beforeAll(async () => {
    standard = await snapshotRun(DB_ARN);
    single = await snapshotRun();
  });

  it("vault: encrypted with the data key", () => {
    expect(named(standard, "aws:backup/vault:Vault", "snapshots-vault").inputs.kmsKeyArn).toBe(DATA_KEY);
  });

  it("plan: a daily rule into the vault, kept backupRetentionDays", () => {
    const [rule] = named(standard, "aws:backup/plan:Plan", "snapshots-plan").inputs.rules;
    expect(rule.schedule).toMatch(/^cron\(\d+ \d+ \* \* \? \*\)$/);
    expect(rule.targetVaultName).toBe("clinic-openemr");
    expect(rule.lifecycle).toEqual({ deleteAfter: 21 });
  });

  it("standard: selection names exactly the host instance and the RDS instance", () => {
    expect(named(standard, "aws:backup/selection:Selection", "snapshots-selection").inputs.resources).toEqual([
      HOST_ARN,
      DB_ARN,
    ]);
  });

  it("single: selection names exactly the host instance", () => {
    expect(named(single, "aws:backup/selection:Selection", "snapshots-selection").inputs.resources).toEqual([HOST_ARN]);
  });

  it("role: trusted by AWS Backup only, with the AWS managed backup and restore policies", () => {
    const trust = policyStatements(named(standard, "aws:iam/role:Role", "snapshots-role").inputs.assumeRolePolicy);
    expect(trust).toEqual([
      { Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    const attached = ofType(standard, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
      (resource) => resource.inputs.policyArn,
    );
    expect(attached.sort()).toEqual([
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
      "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]);
  });

  it("vault notifications: only events AWS Backup still sends (no deprecated *_FAILED/EXPIRED job events)", () => {
    const notifications = named(
      standard,
      "aws:backup/vaultNotifications:VaultNotifications",
      "snapshots-notifications",
    ).inputs;
    const deprecated = [
      "BACKUP_JOB_SUCCESSFUL",
      "BACKUP_JOB_FAILED",
      "BACKUP_JOB_EXPIRED",
      "RESTORE_JOB_SUCCESSFUL",
      "RESTORE_JOB_FAILED",
      "BACKUP_PLAN_CREATED",
      "BACKUP_PLAN_MODIFIED",
    ];
    expect([
      notifications.snsTopicArn,
      notifications.backupVaultEvents.filter((event: string) => deprecated.includes(event)),
    ]).toEqual([TOPIC_ARN, []]);
  });

  it("failed, aborted and expired backup jobs of the vault reach the alarm topic through EventBridge", () => {
    const rule = named(standard, "aws:cloudwatch/eventRule:EventRule", "snapshots-failed-jobs");
    const target = named(standard, "aws:cloudwatch/eventTarget:EventTarget", "snapshots-failed-jobs");
    expect([JSON.parse(rule.inputs.eventPattern), target.inputs.rule, target.inputs.arn]).toEqual([
      {
        source: ["aws.backup"],
        "detail-type": ["Backup Job State Change"],
        detail: { state: ["FAILED", "ABORTED", "EXPIRED"], backupVaultName: ["clinic-openemr"] },
      },
      rule.state.name,
      TOPIC_ARN,
    ]);
  });

  it("failed or partial copy jobs from the vault reach the alarm topic through EventBridge", () => {
    const rule = named(standard, "aws:cloudwatch/eventRule:EventRule", "snapshots-failed-copy-jobs");
    const target = named(standard, "aws:cloudwatch/eventTarget:EventTarget", "snapshots-failed-copy-jobs");
    expect([JSON.parse(rule.inputs.eventPattern), target.inputs.rule, target.inputs.arn]).toEqual([
      {
        source: ["aws.backup"],
        "detail-type": ["Copy Job State Change"],
        detail: {
          state: ["FAILED", "PARTIAL"],
          sourceBackupVaultArn: [named(standard, "aws:backup/vault:Vault", "snapshots-vault").state.arn],
        },
      },
      rule.state.name,
      TOPIC_ARN,
    ]);
  });

  it("failed and aborted restore jobs reach the alarm topic through EventBridge (restore events say status)", () => {
    const rule = named(standard, "aws:cloudwatch/eventRule:EventRule", "snapshots-failed-restore-jobs");
    const target = named(standard, "aws:cloudwatch/eventTarget:EventTarget", "snapshots-failed-restore-jobs");
    expect([JSON.parse(rule.inputs.eventPattern), target.inputs.rule, target.inputs.arn]).toEqual([
      {
        source: ["aws.backup"],
        "detail-type": ["Restore Job State Change"],
        detail: { status: ["FAILED", "ABORTED"] },
      },
      rule.state.name,
      TOPIC_ARN,
    ]);
  });
});

describe("Backups in the stack", () => {
  let standard: OfflineRun;
  let single: OfflineRun;
  beforeAll(async () => {
    standard = await planStack({ config: { "openemr:tier": "standard" }, stackName: "clinic-prod" });
    single = await planStack({ config: { "openemr:tier": "single" }, stackName: "clinic-small" });
  });

  it("standard: snapshot selection names exactly the host instance and the RDS instance", () => {
    const selection = named(standard, "aws:backup/selection:Selection", "snapshots-selection").inputs;
    expect(selection.resources).toEqual([
      hostInstance(standard).state.arn,
      named(standard, "aws:rds/instance:Instance", "database-instance").state.arn,
    ]);
  });

  it("single: snapshot selection names exactly the host instance", () => {
    expect(named(single, "aws:backup/selection:Selection", "snapshots-selection").inputs.resources).toEqual([
      hostInstance(single).state.arn,
    ]);
  });

  it("snapshot vault: encrypted with the stack's data key", () => {
    expect(named(standard, "aws:backup/vault:Vault", "snapshots-vault").inputs.kmsKeyArn).toBe(
      named(standard, "aws:kms/key:Key", "keys-data").state.arn,
    );
  });

  it("backup bucket: SSE-KMS with the stack's data key", () => {
    const [rule] = named(
      standard,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "backup-storage-backups-encryption",
    ).inputs.rules;
    expect(rule.applyServerSideEncryptionByDefault.kmsMasterKeyId).toBe(
      named(standard, "aws:kms/key:Key", "keys-data").state.arn,
    );
  });

  it("host bundle: kept when replaced, since the backup bucket forbids deleting objects", () => {
    const bundle = ofType(standard, "aws:s3/bucketObjectv2:BucketObjectv2").find((object) =>
      object.inputs.key.startsWith("host-bundle/"),
    );
    expect(bundle?.inputs.bucket).toBe(standard.outputs.backupBucket);
    expect(bundle?.retainOnDelete).toBe(true);
  });

  it("snapshot, copy and restore jobs that fail notify the alarm topic", () => {
    expect([
      named(standard, "aws:backup/vaultNotifications:VaultNotifications", "snapshots-notifications").inputs.snsTopicArn,
      ...["snapshots-failed-jobs", "snapshots-failed-copy-jobs", "snapshots-failed-restore-jobs"].map(
        (target) => named(standard, "aws:cloudwatch/eventTarget:EventTarget", target).inputs.arn,
      ),
    ]).toEqual(Array(4).fill(standard.outputs.alarmTopicArn));
  });
});
