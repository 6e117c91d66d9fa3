import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { fail, failProperty, isTrue, pass, resultFor } from "../outcomes";
import { bucketSettings, buckets } from "./buckets";

export const s3Versioning: StackRule = {
  kind: "stack",
  id: "s3-versioning",
  area: "storage",
  description: "Every bucket has versioning enabled, so an overwritten or deleted object can be recovered.",
  citations: cite(...sections.BAK, "164.312(c)(1)", "164.312(c)(2)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation: 'Declare an aws.s3.BucketVersioning with versioningConfiguration.status "Enabled".',
  evaluate(resources) {
    return buckets(resources).map((bucket) => {
      if (isTrue(bucket.props.versioning?.enabled)) return resultFor(bucket, pass({ "versioning.enabled": true }));
      const versionings = bucketSettings(resources, bucket, AwsType.bucketVersioning, AwsType.bucketVersioningV2);
      if (versionings.length === 0)
        return resultFor(
          bucket,
          fail(
            bucket,
            `no ${AwsType.bucketVersioning} has bucket set to it; expected versioningConfiguration.status "Enabled"`,
            { "versioningConfiguration.status": null },
          ),
        );
      const versioning = versionings[0];
      const status = versioning.props.versioningConfiguration?.status;
      if (status !== "Enabled")
        return resultFor(bucket, failProperty(versioning, "versioningConfiguration.status", status, '"Enabled"'));
      return resultFor(bucket, pass({ "versioningConfiguration.status": status, versioning: versioning.name }));
    });
  },
};
