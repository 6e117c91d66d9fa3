// Locks on the backups: Object Lock in compliance mode, AWS Backup Vault Lock, and the bucket
// policy's break-glass deny, each declared only when configured.
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { validateConfig } from "../../infra/config";
import { named, ofType, policyStatements } from "./helpers";

const BREAK_GLASS = "arn:aws:iam::111122223333:role/backup-break-glass";
const LOCK_TYPE = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration";
const VAULT_LOCK_TYPE = "aws:backup/vaultLockConfiguration:VaultLockConfiguration";

function statements(run: OfflineRun, bucket: string): any[] {
  return policyStatements(named(run, "aws:s3/bucketPolicy:BucketPolicy", `${bucket}-policy`).inputs.policy);
}

describe("lock keys in the config", () => {
  it("default to governance, no vault lock, no break-glass role", () => {
    expect(validateConfig({}).config).toMatchObject({
      objectLockMode: "governance",
      backupVaultLock: false,
      backupVaultLockChangeableDays: 3,
      breakGlassRoleArn: "",
    });
  });

  it("refuse a changeable window under AWS's 3 days and a break-glass value that is not a role ARN", () => {
    expect(validateConfig({ backupVaultLockChangeableDays: 2, breakGlassRoleArn: "admin" }).problems).toEqual([
      "openemr:backupVaultLockChangeableDays: 2 is too small; expected at least 3",
      'openemr:breakGlassRoleArn: "admin" is not an IAM role ARN such as ' +
        "arn:aws:iam::111122223333:role/backup-break-glass, or empty",
    ]);
  });

  it("warn that compliance mode cannot be undone by anyone", () => {
    expect(validateConfig({ objectLockMode: "compliance" }).warnings).toContainEqual(
      expect.stringContaining("openemr:objectLockMode is compliance: no one, the account's root user included"),
    );
  });
});

describe("locks when configured", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await planStack({
      config: {
        "openemr:copyRegion": "us-west-2",
        "openemr:objectLockMode": "compliance",
        "openemr:backupVaultLock": "true",
        "openemr:backupVaultLockChangeableDays": "7",
        "openemr:backupRetentionDays": "21",
        "openemr:backupExpiryDays": "400",
        "openemr:breakGlassRoleArn": BREAK_GLASS,
      },
      stackName: "clinic-locked",
    });
  });

  it.each(["backup-storage-backups", "backup-storage-replica"])("%s: Object Lock in COMPLIANCE mode", (bucket) => {
    expect(named(run, LOCK_TYPE, `${bucket}-object-lock`).inputs.rule.defaultRetention).toEqual({
      mode: "COMPLIANCE",
      days: 35,
    });
  });

  it.each(["snapshots-vault-lock", "snapshots-copy-vault-lock"])(
    "%s: min the snapshot retention, max the longest backup retention, changeable 7 days",
    (lock) => {
      expect(named(run, VAULT_LOCK_TYPE, lock).inputs).toMatchObject({
        minRetentionDays: 21,
        maxRetentionDays: 400,
        changeableForDays: 7,
      });
    },
  );

  it("each vault lock names its vault", () => {
    expect(named(run, VAULT_LOCK_TYPE, "snapshots-vault-lock").inputs.backupVaultName).toBe(
      named(run, "aws:backup/vault:Vault", "snapshots-vault").state.name,
    );
    expect(named(run, VAULT_LOCK_TYPE, "snapshots-copy-vault-lock").inputs.backupVaultName).toBe(
      named(run, "aws:backup/vault:Vault", "snapshots-copy-vault").state.name,
    );
  });

  it.each(["backup-storage-backups", "backup-storage-replica"])(
    "%s: only the break-glass role may change or delete the policy, the lock or versioning",
    (bucket) => {
      const deny = statements(run, bucket).find((statement) => statement.Sid === "DenyPolicyChangesExceptBreakGlass");
      expect(deny).toEqual({
        Sid: "DenyPolicyChangesExceptBreakGlass",
        Effect: "Deny",
        Principal: "*",
        Action: [
          "s3:PutBucketPolicy",
          "s3:DeleteBucketPolicy",
          "s3:PutBucketObjectLockConfiguration",
          "s3:PutBucketVersioning",
        ],
        Resource: named(run, "aws:s3/bucket:Bucket", bucket).state.arn,
        Condition: { ArnNotEquals: { "aws:PrincipalArn": BREAK_GLASS } },
      });
    },
  );

  it("the access-log buckets keep their policies without the deny", () => {
    for (const bucket of ["backup-storage-access-logs", "backup-storage-replica-access-logs"])
      expect(statements(run, bucket).map((statement) => statement.Sid)).not.toContain(
        "DenyPolicyChangesExceptBreakGlass",
      );
  });
});

describe.each(["single", "standard"])("%s tier without the lock keys", (tier) => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await planStack({ config: { "openemr:tier": tier }, stackName: "clinic" });
  });

  it("governance mode, no vault lock, no break-glass deny (a fresh deploy still manages its policy)", () => {
    expect(named(run, LOCK_TYPE, "backup-storage-backups-object-lock").inputs.rule.defaultRetention.mode).toBe(
      "GOVERNANCE",
    );
    expect(ofType(run, VAULT_LOCK_TYPE)).toEqual([]);
    expect(statements(run, "backup-storage-backups").map((statement) => statement.Sid)).toEqual([
      "DenyInsecureTransport",
      "DenyDeletingBackups",
      "DenyWeakeningRetention",
    ]);
  });
});
