import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { fail, failProperty, isSet, notApplicable, pass, resultFor } from "../outcomes";
import { bucketSettings, buckets, receivesServerAccessLogs } from "./buckets";

export const s3AccessLogging: StackRule = {
  kind: "stack",
  id: "s3-access-logging",
  area: "storage",
  description:
    "Every bucket sends server access logs to a log bucket; " +
    "the bucket receiving them is exempt (logging it into itself would log its own log deliveries).",
  citations: cite("164.308(a)(3)(ii)(A)", ...sections.AUD),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.s3.BucketLogging for the bucket with " +
    "targetBucket the stack's access-log bucket and a targetPrefix.",
  evaluate(resources) {
    return buckets(resources).map((bucket) => {
      const loggings = bucketSettings(resources, bucket, AwsType.bucketLogging, AwsType.bucketLoggingV2);
      const target = loggings[0]?.props.targetBucket ?? bucket.props.logging?.targetBucket;
      if (loggings.length === 0 && !bucket.props.logging && receivesServerAccessLogs(resources, bucket)) {
        return resultFor(bucket, notApplicable("receives the other buckets' server access logs"));
      }
      if (loggings.length === 0 && !bucket.props.logging)
        return resultFor(
          bucket,
          fail(
            bucket,
            `no ${AwsType.bucketLogging} has bucket set to it; expected access logs sent to the log bucket`,
            { targetBucket: null },
          ),
        );
      if (!isSet(target))
        return resultFor(
          bucket,
          failProperty(
            loggings[0] ?? bucket,
            loggings[0] ? "targetBucket" : "logging.targetBucket",
            target,
            "the log bucket's name",
          ),
        );
      return resultFor(bucket, pass({ targetBucket: target }));
    });
  },
};
