// Storage rules on real S3 declarations: each bucket joined to its separate v7 configuration
// resources. A compliant data bucket and log bucket; each test adds a bucket missing one setting.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../policies/engine";
import {
  s3AccessLogging,
  s3Lifecycle,
  s3NoPublicAcl,
  s3ObjectLock,
  s3PolicyBreakGlass,
  s3PublicAccessBlock,
  s3Replication,
  s3SseKms,
  s3SslOnly,
  s3Versioning,
} from "../../../policies/rules/storage";
import { declared, expectFails, expectPasses } from "./harness";

type Omitted =
  | "publicAccess"
  | "ownership"
  | "encryption"
  | "policy"
  | "versioning"
  | "logging"
  | "lifecycle"
  | "objectLock"
  | "replication";

interface BucketOptions {
  omit?: Omitted[];
  key?: pulumi.Input<string>;
  logBucket?: aws.s3.Bucket;
  lifecycleNoncurrentDays?: number;
}

function bucket(name: string, options: BucketOptions): aws.s3.Bucket {
  const omit = new Set(options.omit ?? []);
  const created = new aws.s3.Bucket(name, { objectLockEnabled: omit.has("objectLock") ? undefined : true });
  const id = created.id;
  if (!omit.has("publicAccess"))
    new aws.s3.BucketPublicAccessBlock(`${name}-pab`, {
      bucket: id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  if (!omit.has("ownership"))
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, {
      bucket: id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
  if (!omit.has("encryption")) {
    new aws.s3.BucketServerSideEncryptionConfiguration(`${name}-sse`, {
      bucket: id,
      rules: [
        {
          applyServerSideEncryptionByDefault: options.key
            ? { sseAlgorithm: "aws:kms", kmsMasterKeyId: options.key }
            : { sseAlgorithm: "AES256" },
        },
      ],
    });
  }
  if (!omit.has("policy")) {
    new aws.s3.BucketPolicy(`${name}-policy`, {
      bucket: id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [created.arn, pulumi.interpolate`${created.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
  }
  if (!omit.has("versioning"))
    new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: id, versioningConfiguration: { status: "Enabled" } });
  if (!omit.has("logging") && options.logBucket)
    new aws.s3.BucketLogging(`${name}-logging`, {
      bucket: id,
      targetBucket: options.logBucket.bucket,
      targetPrefix: `s3/${name}/`,
    });
  if (!omit.has("lifecycle")) {
    new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, {
      bucket: id,
      rules: [
        {
          id: "noncurrent",
          status: "Enabled",
          filter: {},
          noncurrentVersionExpiration: { noncurrentDays: options.lifecycleNoncurrentDays ?? 30 },
        },
      ],
    });
  }
  if (!omit.has("objectLock"))
    new aws.s3.BucketObjectLockConfiguration(`${name}-lock`, {
      bucket: id,
      rule: { defaultRetention: { mode: "GOVERNANCE", days: 35 } },
    });
  if (!omit.has("replication")) {
    new aws.s3.BucketReplicationConfig(`${name}-replication`, {
      bucket: id,
      role: "arn:aws:iam::111122223333:role/replication",
      rules: [
        {
          id: "all",
          status: "Enabled",
          filter: {},
          destination: {
            bucket: "arn:aws:s3:::replica",
            encryptionConfiguration: { replicaKmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/replica" },
          },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          deleteMarkerReplication: { status: "Disabled" },
        },
      ],
    });
  }
  return created;
}

function compliantBuckets(): { key: aws.kms.Key; logs: aws.s3.Bucket } {
  const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
  const logs = bucket("access-logs", { key: key.arn, omit: ["objectLock", "replication"] });
  bucket("backups", { key: key.arn, logBucket: logs });
  return { key, logs };
}

/** The compliant buckets, and beside them one more bucket declared with `options`. */
function compliantAnd(name: string, options: BucketOptions): () => void {
  return () => {
    const { key, logs } = compliantBuckets();
    bucket(name, { key: key.arn, logBucket: logs, ...options });
  };
}

describe("storage rules", () => {
  it("s3-public-access-block: all four flags", async () => {
    expectPasses(s3PublicAccessBlock, await declared(compliantBuckets));
    const open = await declared(compliantAnd("open-bucket", { omit: ["publicAccess"] }));
    expectFails(s3PublicAccessBlock, open, "open-bucket", "BucketPublicAccessBlock");
  });

  it("s3-no-public-acl: ownership enforced, no public ACL", async () => {
    expectPasses(s3NoPublicAcl, await declared(compliantBuckets));
    const unowned = await declared(compliantAnd("unowned-bucket", { omit: ["ownership"] }));
    expectFails(s3NoPublicAcl, unowned, "unowned-bucket", "objectOwnership");
    const publicAcl = await declared(() => {
      const { key, logs } = compliantBuckets();
      const shared = bucket("public-acl-bucket", { key: key.arn, logBucket: logs });
      new aws.s3.BucketAcl("public-acl-bucket-acl", { bucket: shared.id, acl: "public-read" });
    });
    expectFails(s3NoPublicAcl, publicAcl, "public-acl-bucket-acl", "acl");
  });

  it("s3-sse-kms: aws:kms with a customer key; SSE-S3 fails", async () => {
    expectPasses(s3SseKms, await declared(compliantBuckets));
    const sseS3 = await declared(compliantAnd("sse-s3-bucket", { key: undefined }));
    expectFails(s3SseKms, sseS3, "sse-s3-bucket-sse", "sseAlgorithm");
  });

  it("s3-ssl-only: the TLS-only deny", async () => {
    expectPasses(s3SslOnly, await declared(compliantBuckets));
    const http = await declared(compliantAnd("http-bucket", { omit: ["policy"] }));
    expectFails(s3SslOnly, http, "http-bucket", "policy");
  });

  it("s3-versioning", async () => {
    expectPasses(s3Versioning, await declared(compliantBuckets));
    const unversioned = await declared(compliantAnd("unversioned-bucket", { omit: ["versioning"] }));
    expectFails(s3Versioning, unversioned, "unversioned-bucket", "versioningConfiguration.status");
  });

  it("s3-access-logging: data buckets log; the log bucket itself is not applicable", async () => {
    const compliant = await declared(compliantBuckets);
    expectPasses(s3AccessLogging, compliant);
    expect(evaluate([s3AccessLogging], compliant).find((result) => result.resourceName === "access-logs")?.status).toBe(
      "not-applicable",
    );
    const unlogged = await declared(compliantAnd("unlogged-bucket", { omit: ["logging"] }));
    expectFails(s3AccessLogging, unlogged, "unlogged-bucket", "BucketLogging");
  });

  it("s3-replication: advisory, data buckets replicate", async () => {
    expectPasses(s3Replication, await declared(compliantBuckets));
    const unreplicated = await declared(compliantAnd("unreplicated-bucket", { omit: ["replication"] }));
    expectFails(s3Replication, unreplicated, "unreplicated-bucket", "BucketReplicationConfig");
    expect(s3Replication.enforcement).toBe("advisory");
    // No copy region declared (one provider region, no replication): a gap is advisory, not blocking.
    const [single] = evaluate([s3Replication], await declared(() => bucket("lone-bucket", { omit: ["replication"] })));
    expect([single.status, single.enforcement, single.blocking]).toEqual(["fail", "advisory", false]);
  });

  it("s3-replication: mandatory once the stack declares a copy region; the replica itself is not asked", async () => {
    const copyRegion = (options: { sameRegion?: boolean; noKey?: boolean; disabled?: boolean }) => () => {
      const home = new aws.Provider("home", { region: "us-east-1" });
      const away = new aws.Provider("away", { region: options.sameRegion ? "us-east-1" : "us-west-2" });
      const replica = new aws.s3.Bucket("replica-bucket", { objectLockEnabled: true }, { provider: away });
      const source = new aws.s3.Bucket("source-bucket", { objectLockEnabled: true }, { provider: home });
      new aws.s3.BucketReplicationConfig(
        "source-replication",
        {
          bucket: source.id,
          role: "arn:aws:iam::111122223333:role/replication",
          rules: [
            {
              id: "backups",
              status: options.disabled ? "Disabled" : "Enabled",
              filter: { prefix: "backups/" },
              deleteMarkerReplication: { status: "Disabled" },
              sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
              destination: {
                bucket: replica.arn,
                encryptionConfiguration: options.noKey
                  ? undefined
                  : { replicaKmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/replica" },
              },
            },
          ],
        },
        { provider: home },
      );
    };
    const whole = evaluate([s3Replication], await declared(copyRegion({})));
    expect(whole.map((result) => [result.resourceName, result.status, result.enforcement]).sort()).toEqual([
      ["replica-bucket", "not-applicable", "mandatory"],
      ["source-bucket", "pass", "mandatory"],
    ]);
    expectFails(
      s3Replication,
      await declared(copyRegion({ sameRegion: true })),
      "source-replication",
      "another region",
    );
    expectFails(s3Replication, await declared(copyRegion({ noKey: true })), "source-replication", "replicaKmsKeyId");
    const disabled = evaluate([s3Replication], await declared(copyRegion({ disabled: true })));
    expect(disabled.find((result) => result.status === "fail")?.blocking).toBe(true);
  });

  it("s3-policy-break-glass: locked buckets' policies deny policy changes to all but a named role", async () => {
    const guarded = (condition: Record<string, unknown> | undefined) => () => {
      const locked = new aws.s3.Bucket("locked-bucket", { objectLockEnabled: true });
      new aws.s3.Bucket("plain-bucket", {});
      new aws.s3.BucketPolicy("locked-bucket-policy", {
        bucket: locked.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "DenyInsecureTransport",
              Effect: "Deny",
              Principal: "*",
              Action: "s3:*",
              Resource: [locked.arn],
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            ...(condition === undefined
              ? []
              : [
                  {
                    Sid: "DenyPolicyChangesExceptBreakGlass",
                    Effect: "Deny",
                    Principal: "*",
                    Action: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
                    Resource: locked.arn,
                    ...(Object.keys(condition).length ? { Condition: condition } : {}),
                  },
                ]),
          ],
        }),
      });
    };
    const role = { ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/break-glass" } };
    const passing = expectPasses(s3PolicyBreakGlass, await declared(guarded(role)));
    expect(passing.map((result) => [result.resourceName, result.status, result.enforcement]).sort()).toEqual([
      ["locked-bucket", "pass", "mandatory"],
      ["plain-bucket", "not-applicable", "mandatory"],
    ]);
    // No such deny anywhere (the TLS-only deny does not count): an advisory finding.
    const open = await declared(guarded(undefined));
    expectFails(s3PolicyBreakGlass, open, "locked-bucket-policy", "s3:PutBucketPolicy");
    expect(evaluate([s3PolicyBreakGlass], open).find((result) => result.status === "fail")?.enforcement).toBe(
      "advisory",
    );
    // A deny without an exception locks everyone but the root user out: a failure, and blocking.
    const lockedOut = await declared(guarded({}));
    expectFails(s3PolicyBreakGlass, lockedOut, "locked-bucket-policy", "aws:PrincipalArn");
  });

  it("s3-object-lock: data buckets locked with a default retention", async () => {
    expectPasses(s3ObjectLock, await declared(compliantBuckets));
    const unlocked = await declared(compliantAnd("unlocked-bucket", { omit: ["objectLock"] }));
    expectFails(s3ObjectLock, unlocked, "unlocked-bucket", "objectLockEnabled");
  });

  it("s3-lifecycle: noncurrent versions expire, not before the minimum retention", async () => {
    expectPasses(s3Lifecycle, await declared(compliantBuckets));
    const forever = await declared(compliantAnd("forever-bucket", { omit: ["lifecycle"] }));
    expectFails(s3Lifecycle, forever, "forever-bucket", "noncurrentVersionExpiration");
    const shortLived = await declared(compliantAnd("short-lifecycle-bucket", { lifecycleNoncurrentDays: 1 }));
    expectFails(s3Lifecycle, shortLived, "short-lifecycle-bucket-lifecycle", "noncurrentDays");
  });
});
