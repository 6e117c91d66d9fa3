import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, notApplicable, pass, resultFor } from "../outcomes";
import { bucketSettings, buckets, isLogDestination } from "./buckets";

export const s3Replication: StackRule = {
  kind: "stack",
  id: "s3-replication",
  area: "storage",
  description:
    "Buckets that hold data (every bucket that is not a log destination, " +
    "here the backups) replicate to another bucket, ideally in another region. " +
    "Advisory: the cross-region copy is optional in this stack; the report shows where it is missing.",
  citations: cite(...sections.BAK),
  severity: "medium",
  enforcement: "advisory",
  remediation:
    "Declare an aws.s3.BucketReplicationConfig with an Enabled rule to a versioned, " +
    "SSE-KMS bucket in a second region (its own key), or accept the single-region risk with a waiver.",
  evaluate(resources) {
    return buckets(resources).map((bucket) => {
      if (isLogDestination(resources, bucket))
        return resultFor(bucket, notApplicable("is a log destination, not a data bucket"));
      const configurations = bucketSettings(resources, bucket, AwsType.bucketReplication);
      const rules = configurations.flatMap((configuration) => asArray<any>(configuration.props.rules));
      const enabled = rules.find((rule) => rule?.status === "Enabled");
      if (!enabled) {
        return resultFor(
          bucket,
          fail(
            configurations[0] ?? bucket,
            configurations.length === 0
              ? `no ${AwsType.bucketReplication} has bucket set to it; expected an Enabled replication rule`
              : `rules[].status has no "Enabled" rule; expected one`,
            { "replication.rules": rules.map((rule) => rule?.status) },
          ),
        );
      }
      return resultFor(
        bucket,
        pass({ "rules[].status": "Enabled", "rules[].destination.bucket": enabled.destination?.bucket }),
      );
    });
  },
};
