// Storage rules on real S3 declarations: each bucket joined to its separate v7 configuration
// resources. A compliant data bucket and log bucket, then buckets each missing one setting.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { evaluate } from "../../../policies/engine";
import {
  s3AccessLogging,
  s3Lifecycle,
  s3NoPublicAcl,
  s3ObjectLock,
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
          destination: { bucket: "arn:aws:s3:::replica" },
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

function nonCompliantBuckets(): void {
  const { key, logs } = compliantBuckets();
  const broken: [string, Omitted | "sse-s3" | "short-lifecycle"][] = [
    ["open-bucket", "publicAccess"],
    ["unowned-bucket", "ownership"],
    ["sse-s3-bucket", "sse-s3"],
    ["http-bucket", "policy"],
    ["unversioned-bucket", "versioning"],
    ["unlogged-bucket", "logging"],
    ["unreplicated-bucket", "replication"],
    ["unlocked-bucket", "objectLock"],
    ["forever-bucket", "lifecycle"],
    ["short-lifecycle-bucket", "short-lifecycle"],
  ];
  for (const [name, breakage] of broken) {
    if (breakage === "sse-s3") bucket(name, { logBucket: logs });
    else if (breakage === "short-lifecycle")
      bucket(name, { key: key.arn, logBucket: logs, lifecycleNoncurrentDays: 1 });
    else bucket(name, { key: key.arn, logBucket: logs, omit: [breakage] });
  }
  const publicAcl = bucket("public-acl-bucket", { key: key.arn, logBucket: logs });
  new aws.s3.BucketAcl("public-acl-bucket-acl", { bucket: publicAcl.id, acl: "public-read" });
}

describe("storage rules", () => {
  let good: RuleResource[];
  let bad: RuleResource[];
  beforeAll(async () => {
    good = await declared(() => {
      compliantBuckets();
    });
    bad = await declared(nonCompliantBuckets);
  });

  it("s3-public-access-block: all four flags", () => {
    expectPasses(s3PublicAccessBlock, good);
    expectFails(s3PublicAccessBlock, bad, "open-bucket", "BucketPublicAccessBlock");
  });

  it("s3-no-public-acl: ownership enforced, no public ACL", () => {
    expectPasses(s3NoPublicAcl, good);
    expectFails(s3NoPublicAcl, bad, "unowned-bucket", "objectOwnership");
    expectFails(s3NoPublicAcl, bad, "public-acl-bucket-acl", "acl");
  });

  it("s3-sse-kms: aws:kms with a customer key; SSE-S3 fails", () => {
    expectPasses(s3SseKms, good);
    expectFails(s3SseKms, bad, "sse-s3-bucket-sse", "sseAlgorithm");
  });

  it("s3-ssl-only: the TLS-only deny", () => {
    expectPasses(s3SslOnly, good);
    expectFails(s3SslOnly, bad, "http-bucket", "policy");
  });

  it("s3-versioning", () => {
    expectPasses(s3Versioning, good);
    expectFails(s3Versioning, bad, "unversioned-bucket", "versioningConfiguration.status");
  });

  it("s3-access-logging: data buckets log; the log bucket itself is not applicable", () => {
    expectPasses(s3AccessLogging, good);
    expect(evaluate([s3AccessLogging], good).find((result) => result.resourceName === "access-logs")?.status).toBe(
      "not-applicable",
    );
    expectFails(s3AccessLogging, bad, "unlogged-bucket", "BucketLogging");
  });

  it("s3-replication: advisory, data buckets replicate", () => {
    expectPasses(s3Replication, good);
    expectFails(s3Replication, bad, "unreplicated-bucket", "BucketReplicationConfig");
    expect(s3Replication.enforcement).toBe("advisory");
  });

  it("s3-object-lock: data buckets locked with a default retention", () => {
    expectPasses(s3ObjectLock, good);
    expectFails(s3ObjectLock, bad, "unlocked-bucket", "objectLockEnabled");
  });

  it("s3-lifecycle: noncurrent versions expire, not before the minimum retention", () => {
    expectPasses(s3Lifecycle, good);
    expectFails(s3Lifecycle, bad, "forever-bucket", "noncurrentVersionExpiration");
    expectFails(s3Lifecycle, bad, "short-lifecycle-bucket-lifecycle", "noncurrentDays");
  });
});
