// Backup rules on real AWS Backup declarations: a plan with a keyed vault selecting the host
// (and through it its data volume) and the database; then gaps.
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { backupPlanRetention, backupVaultLock, inBackupPlan } from "../../../policies/rules/backup";
import { declared, evaluations, expectFails, expectPasses } from "./harness";

interface SnapshotOptions {
  selectDatabase: boolean;
  retentionDays: number;
  vaultKey: boolean;
  /** A Vault Lock on the vault: its bounds and grace days. */
  lock?: { min: number; max: number; changeableForDays?: number };
}

function snapshots(options: SnapshotOptions): () => void {
  return () => {
    const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
    const instance = new aws.ec2.Instance("host", { ami: "ami-0123456789abcdef0", instanceType: "t3.medium" });
    const volume = new aws.ebs.Volume("data", {
      availabilityZone: "us-east-1a",
      size: 50,
      encrypted: true,
      kmsKeyId: key.arn,
    });
    new aws.ec2.VolumeAttachment("data", { instanceId: instance.id, volumeId: volume.id, deviceName: "/dev/sdf" });
    const db = new aws.rds.Instance("db", {
      identifier: "openemr-db",
      engine: "mysql",
      instanceClass: "db.t4g.medium",
      allocatedStorage: 20,
    });
    const vault = new aws.backup.Vault("vault", {
      name: "openemr-vault",
      kmsKeyArn: options.vaultKey ? key.arn : undefined,
    });
    if (options.lock)
      new aws.backup.VaultLockConfiguration("vault-lock", {
        backupVaultName: vault.name,
        minRetentionDays: options.lock.min,
        maxRetentionDays: options.lock.max,
        changeableForDays: options.lock.changeableForDays,
      });
    const plan = new aws.backup.Plan("plan", {
      name: "daily",
      rules: [
        {
          ruleName: "daily",
          targetVaultName: vault.name,
          schedule: "cron(0 5 * * ? *)",
          lifecycle: { deleteAfter: options.retentionDays },
        },
      ],
    });
    const role = new aws.iam.Role("backup-role", {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "backup.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    new aws.backup.Selection("selection", {
      name: "openemr",
      planId: plan.id,
      iamRoleArn: role.arn,
      resources: options.selectDatabase ? [instance.arn, db.arn] : [instance.arn],
    });
  };
}

/** Host, attached volume and database selected, kept 35 days, in a vault under the data key. */
const complete = { selectDatabase: true, retentionDays: 35, vaultKey: true };

describe("backup rules", () => {
  it("in-backup-plan: host, attached volume and database selected; an unselected database fails", async () => {
    expectPasses(inBackupPlan, await declared(snapshots(complete)));
    const hostOnly = await declared(snapshots({ ...complete, selectDatabase: false }));
    expectFails(inBackupPlan, hostOnly, "db", "arn");
  });

  it("backup-plan-retention: schedule, retention and vault key", async () => {
    expectPasses(backupPlanRetention, await declared(snapshots(complete)));
    const shortLived = await declared(snapshots({ ...complete, retentionDays: 3 }));
    expectFails(backupPlanRetention, shortLived, "plan", "rules[0].lifecycle.deleteAfter");
    const keyless = await declared(snapshots({ ...complete, vaultKey: false }));
    expectFails(backupPlanRetention, keyless, "vault", "kmsKeyArn");
  });

  it("backup-vault-lock: advisory until a vault is locked; then bounds that hold every rule's retention", async () => {
    const unlocked = await declared(snapshots(complete));
    expectFails(backupVaultLock, unlocked, "vault", "VaultLockConfiguration");
    expect(evaluations(backupVaultLock, unlocked).map((result) => [result.enforcement, result.blocking])).toEqual([
      ["advisory", false],
    ]);
    const locked = await declared(snapshots({ ...complete, lock: { min: 35, max: 365, changeableForDays: 3 } }));
    expect(expectPasses(backupVaultLock, locked).map((result) => result.enforcement)).toEqual(["mandatory"]);
    const tooTight = await declared(snapshots({ ...complete, lock: { min: 40, max: 365, changeableForDays: 3 } }));
    expectFails(backupVaultLock, tooTight, "vault-lock", "rules[0].lifecycle.deleteAfter");
    expect(evaluations(backupVaultLock, tooTight)[0].blocking).toBe(true);
    const governance = await declared(snapshots({ ...complete, lock: { min: 35, max: 365 } }));
    expectFails(backupVaultLock, governance, "vault-lock", "changeableForDays");
    const shortMinimum = await declared(
      snapshots({ ...complete, retentionDays: 5, lock: { min: 5, max: 30, changeableForDays: 3 } }),
    );
    expectFails(backupVaultLock, shortMinimum, "vault-lock", "minRetentionDays");
  });
});
