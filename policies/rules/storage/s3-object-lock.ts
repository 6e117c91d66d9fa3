import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { fail, failProperty, isTrue, notApplicable, pass, resultFor } from "../outcomes";
import { bucketSettings, buckets, isLogDestination } from "./buckets";

const DAYS_PER_YEAR = 365;

export const s3ObjectLock: StackRule = {
  kind: "stack",
  id: "s3-object-lock",
  area: "storage",
  description:
    "Buckets that hold data (every bucket that is not a log destination, " +
    "here the backups) have Object Lock on with a default retention of at least the minimum backup retention " +
    "(setting minBackupRetentionDays), so backups cannot be deleted or overwritten early (WORM).",
  citations: citeInferred("164.312(c)(1)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Create the bucket with objectLockEnabled: true and declare an " +
    "aws.s3.BucketObjectLockConfiguration with rule.defaultRetention { mode, days }.",
  evaluate(resources, { settings }) {
    return buckets(resources).map((bucket) => {
      if (isLogDestination(resources, bucket))
        return resultFor(bucket, notApplicable("is a log destination, not a data bucket"));
      if (
        !isTrue(bucket.props.objectLockEnabled) &&
        bucket.props.objectLockConfiguration?.objectLockEnabled !== "Enabled"
      ) {
        return resultFor(bucket, failProperty(bucket, "objectLockEnabled", bucket.props.objectLockEnabled, "true"));
      }
      const configuration = bucketSettings(resources, bucket, AwsType.bucketObjectLock, AwsType.bucketObjectLockV2)[0];
      const retention =
        configuration?.props.rule?.defaultRetention ?? bucket.props.objectLockConfiguration?.rule?.defaultRetention;
      if (!retention)
        return resultFor(
          bucket,
          fail(
            configuration ?? bucket,
            "rule.defaultRetention is not set; " +
              `expected a default retention of at least ${settings.minBackupRetentionDays} days`,
            { "rule.defaultRetention": null },
          ),
        );
      const days = retention.days !== undefined ? Number(retention.days) : Number(retention.years) * DAYS_PER_YEAR;
      if (!(days >= settings.minBackupRetentionDays)) {
        return resultFor(
          bucket,
          failProperty(
            configuration ?? bucket,
            "rule.defaultRetention.days",
            retention.days ?? null,
            `at least ${settings.minBackupRetentionDays}`,
          ),
        );
      }
      return resultFor(
        bucket,
        pass({
          objectLockEnabled: true,
          "rule.defaultRetention.mode": retention.mode,
          "rule.defaultRetention.days": retention.days ?? null,
          "rule.defaultRetention.years": retention.years ?? null,
        }),
      );
    });
  },
};
