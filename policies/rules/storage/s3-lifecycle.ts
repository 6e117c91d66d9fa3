import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { asArray, fail, isTrue, notApplicable, pass, resultFor } from "../outcomes";
import { bucketSettings, buckets } from "./buckets";

export const s3Lifecycle: StackRule = {
  kind: "stack",
  id: "s3-lifecycle",
  area: "storage",
  description:
    "Every versioned bucket has an enabled lifecycle rule that expires " +
    "noncurrent versions, no sooner than the minimum backup retention " +
    "(setting minBackupRetentionDays): old versions are kept as long as required, then removed.",
  citations: citeInferred(...sections.BAK),
  severity: "low",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.s3.BucketLifecycleConfiguration with an Enabled rule whose " +
    "noncurrentVersionExpiration.noncurrentDays is at least the minimum retention.",
  evaluate(resources, { settings }) {
    return buckets(resources).map((bucket) => {
      const versioned =
        isTrue(bucket.props.versioning?.enabled) ||
        bucketSettings(resources, bucket, AwsType.bucketVersioning, AwsType.bucketVersioningV2).some(
          (versioning) => versioning.props.versioningConfiguration?.status === "Enabled",
        );
      if (!versioned) return resultFor(bucket, notApplicable("is not versioned (s3-versioning reports it)"));
      const configurations = bucketSettings(resources, bucket, AwsType.bucketLifecycle, AwsType.bucketLifecycleV2);
      const rules = configurations.flatMap((configuration) => asArray<any>(configuration.props.rules));
      const expiring = rules.findIndex(
        (rule) => rule?.status === "Enabled" && rule?.noncurrentVersionExpiration?.noncurrentDays !== undefined,
      );
      if (expiring < 0) {
        return resultFor(
          bucket,
          fail(
            configurations[0] ?? bucket,
            "rules[].noncurrentVersionExpiration is not set on any Enabled rule; " +
              `expected noncurrent versions to expire after at least ${settings.minBackupRetentionDays} days`,
            { "rules[].noncurrentVersionExpiration": null },
          ),
        );
      }
      const days = Number(rules[expiring].noncurrentVersionExpiration.noncurrentDays);
      if (!(days >= settings.minBackupRetentionDays)) {
        return resultFor(
          bucket,
          fail(
            configurations[0],
            `rules[${expiring}].noncurrentVersionExpiration.noncurrentDays is ${days}; ` +
              `expected at least ${settings.minBackupRetentionDays}`,
            { [`rules[${expiring}].noncurrentVersionExpiration.noncurrentDays`]: days },
          ),
        );
      }
      return resultFor(bucket, pass({ [`rules[${expiring}].noncurrentVersionExpiration.noncurrentDays`]: days }));
    });
  },
};
