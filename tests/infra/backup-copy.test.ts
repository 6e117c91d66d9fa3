// The second copy of the backups outside the region (openemr:copyRegion): the replica bucket, the
// replication role and rule, the copy-region key and the AWS Backup copy action, planned offline.
import { join } from "path";
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun, PlannedResource } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { loadStackFile, validateConfig } from "../../infra/config";
import { named, ofType, policyStatements } from "./helpers";

const COPY_REGION = "us-west-2";

/** The region of the provider a resource was declared with (the stack's default provider when none). */
function regionOf(run: OfflineRun, resource: PlannedResource): string {
  const reference = resource.provider ?? "";
  const providerUrn = reference.slice(0, reference.lastIndexOf("::"));
  const provider = run.resources.find((candidate) => candidate.urn === providerUrn);
  return provider?.inputs.region;
}

function bucketPolicy(run: OfflineRun, bucket: string): any[] {
  return policyStatements(named(run, "aws:s3/bucketPolicy:BucketPolicy", `${bucket}-policy`).inputs.policy);
}

describe("copyRegion in the config", () => {
  it("defaults to empty: no copy, for cost", () => {
    expect(validateConfig({}).config?.copyRegion).toBe("");
  });

  it("takes a region", () => {
    expect(validateConfig({ copyRegion: COPY_REGION }).problems).toEqual([]);
  });

  it("refuses something that is not a region", () => {
    expect(validateConfig({ copyRegion: "oregon" }).problems).toEqual([
      'openemr:copyRegion: "oregon" is not an AWS region other than openemr:region, ' +
        "such as us-west-2, or empty for none",
    ]);
  });

  it("refuses the stack's own region", () => {
    expect(validateConfig({ region: "us-east-1", copyRegion: "us-east-1" }).problems).toEqual([
      'openemr:copyRegion: "us-east-1" is openemr:region itself; expected another region ' +
        "(a copy in the same region survives no regional outage), or empty for none",
    ]);
  });
});

describe.each(["standard", "single"])("%s tier with a copy region", (tier) => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await planStack({
      config: { "openemr:tier": tier, "openemr:copyRegion": COPY_REGION },
      stackName: "clinic-dr",
    });
  });

  const bucket = (name: string) => named(run, "aws:s3/bucket:Bucket", name);

  it("a provider for the copy region, with the stack's tags", () => {
    const provider = named(run, "pulumi:providers:aws", "aws-copy");
    expect(provider.inputs.region).toBe(COPY_REGION);
    expect(JSON.parse(provider.inputs.defaultTags).tags).toMatchObject({
      Stack: "clinic-dr",
      DataClassification: "PHI",
    });
  });

  it("a rotating customer key of its own in the copy region, kept on destroy", () => {
    const key = named(run, "aws:kms/key:Key", "copy-keys-data");
    expect(regionOf(run, key)).toBe(COPY_REGION);
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(key.retainOnDelete).toBe(true);
    expect(named(run, "aws:kms/alias:Alias", "copy-keys-data").inputs.name).toBe("alias/openemr-aws/clinic-dr/data");
  });

  it("replica bucket in the copy region: versioned, Object Lock like the primary, SSE-KMS with the copy key", () => {
    const replica = bucket("backup-storage-replica");
    expect(regionOf(run, replica)).toBe(COPY_REGION);
    expect(replica.inputs.objectLockEnabled).toBe(true);
    expect(replica.retainOnDelete).toBe(true);
    const lock = (name: string) =>
      named(run, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", `${name}-object-lock`).inputs
        .rule.defaultRetention;
    expect(lock("backup-storage-replica")).toEqual(lock("backup-storage-backups"));
    expect(
      named(run, "aws:s3/bucketVersioning:BucketVersioning", "backup-storage-replica-versioning").inputs
        .versioningConfiguration.status,
    ).toBe("Enabled");
    const [encryption] = named(
      run,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "backup-storage-replica-encryption",
    ).inputs.rules;
    expect(encryption.applyServerSideEncryptionByDefault).toEqual({
      sseAlgorithm: "aws:kms",
      kmsMasterKeyId: named(run, "aws:kms/key:Key", "copy-keys-data").state.arn,
    });
  });

  it("replica bucket: public access blocked, TLS only, deletes and retention changes denied like the primary", () => {
    expect(
      named(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "backup-storage-replica-public-access")
        .inputs,
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const sids = (name: string) => bucketPolicy(run, name).map((statement) => statement.Sid);
    expect(sids("backup-storage-replica")).toEqual(sids("backup-storage-backups"));
    expect(sids("backup-storage-replica")).toEqual(
      expect.arrayContaining(["DenyInsecureTransport", "DenyDeletingBackups", "DenyWeakeningRetention"]),
    );
  });

  it("replica bucket: access logs to a log bucket in the copy region (S3 logs only within a region)", () => {
    const logBucket = bucket("backup-storage-replica-access-logs");
    expect(regionOf(run, logBucket)).toBe(COPY_REGION);
    expect(named(run, "aws:s3/bucketLogging:BucketLogging", "backup-storage-replica-logging").inputs.targetBucket).toBe(
      logBucket.state.bucket,
    );
  });

  it("replication: backups/ only, to the replica in Standard-IA with the copy key, delete markers kept home", () => {
    const replication = named(
      run,
      "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
      "backup-storage-replication",
    ).inputs;
    expect(replication.bucket).toBe(bucket("backup-storage-backups").state.id);
    expect(replication.role).toBe(named(run, "aws:iam/role:Role", "backup-storage-replication").state.arn);
    expect(replication.rules).toEqual([
      {
        id: "backups-to-copy-region",
        status: "Enabled",
        priority: 1,
        filter: { prefix: "backups/" },
        deleteMarkerReplication: { status: "Disabled" },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
        destination: {
          bucket: bucket("backup-storage-replica").state.arn,
          storageClass: "STANDARD_IA",
          encryptionConfiguration: { replicaKmsKeyId: named(run, "aws:kms/key:Key", "copy-keys-data").state.arn },
        },
      },
    ]);
  });

  it("replication role: S3 only, for this account and this source bucket (confused deputy)", () => {
    const trust = policyStatements(
      named(run, "aws:iam/role:Role", "backup-storage-replication").inputs.assumeRolePolicy,
    );
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "s3.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: {
            "aws:SourceAccount": "111122223333",
            "aws:SourceArn": bucket("backup-storage-backups").state.arn,
          },
        },
      },
    ]);
  });

  it("replication role: a managed policy, reads under backups/ and writes replicas only, keys through S3 only", () => {
    const statements = policyStatements(
      named(run, "aws:iam/policy:Policy", "backup-storage-replication").inputs.policy,
    );
    const source = bucket("backup-storage-backups").state.arn;
    const replica = bucket("backup-storage-replica").state.arn;
    for (const statement of statements) {
      expect(statement.Effect).toBe("Allow");
      expect([statement.Resource].flat()).not.toContain("*");
      expect([statement.Action].flat().some((action: string) => action.endsWith("*"))).toBe(false);
    }
    const bySid = Object.fromEntries(statements.map((statement) => [statement.Sid, statement]));
    expect(bySid.ReadBackupVersions.Resource).toBe(`${source}/backups/*`);
    expect(bySid.WriteReplicas.Resource).toBe(`${replica}/backups/*`);
    expect(bySid.WriteReplicas.Action).not.toContain("s3:ReplicateDelete");
    expect(bySid.DecryptSourceThroughS3.Condition.StringEquals["kms:ViaService"]).toBe("s3.us-east-1.amazonaws.com");
    expect(bySid.EncryptReplicasThroughS3.Condition.StringEquals["kms:ViaService"]).toBe(
      `s3.${COPY_REGION}.amazonaws.com`,
    );
    expect(bySid.EncryptReplicasThroughS3.Resource).toBe(named(run, "aws:kms/key:Key", "copy-keys-data").state.arn);
  });

  it("AWS Backup: a copy of every snapshot to a vault in the copy region, encrypted there, kept as long", () => {
    const vault = named(run, "aws:backup/vault:Vault", "snapshots-copy-vault");
    expect(regionOf(run, vault)).toBe(COPY_REGION);
    expect(vault.inputs.kmsKeyArn).toBe(named(run, "aws:kms/key:Key", "copy-keys-data").state.arn);
    const [rule] = named(run, "aws:backup/plan:Plan", "snapshots-plan").inputs.rules;
    expect(rule.copyActions).toEqual([
      { destinationVaultArn: vault.state.arn, lifecycle: { deleteAfter: rule.lifecycle.deleteAfter } },
    ]);
  });

  it("outputs name the copy region and the replica bucket", () => {
    expect(run.outputs.copyRegion).toBe(COPY_REGION);
    expect(run.outputs.replicaBackupBucket).toBe(bucket("backup-storage-replica").state.bucket);
  });
});

describe("without a copy region (the default)", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await planStack({ config: {}, stackName: "clinic" });
  });

  it("nothing is declared outside the stack's region", () => {
    expect(ofType(run, "pulumi:providers:aws").map((provider) => provider.name)).toEqual(["aws"]);
    expect(ofType(run, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")).toEqual([]);
    expect(named(run, "aws:backup/plan:Plan", "snapshots-plan").inputs.rules[0].copyActions).toBeUndefined();
    expect(run.outputs.copyRegion).toBeUndefined();
  });
});

describe("the examples", () => {
  const examples = join(__dirname, "..", "..", "config", "examples");
  const plan = (file: string) =>
    planStack({ config: loadStackFile(join(examples, file)), stackName: file.replace(/^Pulumi\.|\.yaml$/g, "") });

  it("standard turns the second copy on: replication to us-west-2 and a copy action to a vault there", async () => {
    const run = await plan("Pulumi.standard.yaml");
    const vault = named(run, "aws:backup/vault:Vault", "snapshots-copy-vault");
    expect(regionOf(run, vault)).toBe("us-west-2");
    expect(named(run, "aws:backup/plan:Plan", "snapshots-plan").inputs.rules[0].copyActions).toHaveLength(1);
    expect(regionOf(run, named(run, "aws:s3/bucket:Bucket", "backup-storage-replica"))).toBe("us-west-2");
    expect(ofType(run, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")).toHaveLength(1);
  });

  it("single keeps its backups in its region (copyRegion empty)", async () => {
    const run = await plan("Pulumi.single.yaml");
    expect(ofType(run, "pulumi:providers:aws")).toHaveLength(1);
    expect(ofType(run, "aws:backup/vault:Vault").map((vault) => vault.name)).toEqual(["snapshots-vault"]);
  });
});
