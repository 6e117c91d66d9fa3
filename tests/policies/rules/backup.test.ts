// Backup rules on real AWS Backup declarations: a plan with a keyed vault selecting the host
// (and through it its data volume) and the database; then gaps.
import * as aws from "@pulumi/aws";
import { describe, it } from "vitest";
import { backupPlanRetention, inBackupPlan } from "../../../policies/rules/backup";
import { declared, expectFails, expectPasses } from "./harness";

function snapshots(options: { selectDatabase: boolean; retentionDays: number; vaultKey: boolean }): () => void {
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
});
