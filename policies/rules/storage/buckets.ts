// A bucket and its separate configuration resources (@pulumi/aws v7 declares encryption,
// versioning, policy, public access block, logging, lifecycle and Object Lock apart from the
// bucket, each naming it in `bucket`), and which buckets are log destinations.
import type { RuleResource } from "../types";
import { AwsType, bucketTypes, loadBalancerTypes } from "../resource-types";
import { ofType, referencing, refersTo } from "../joins";

export function buckets(resources: RuleResource[]): RuleResource[] {
  return ofType(resources, ...bucketTypes);
}

/** The configuration resources of `types` that name `bucket`. */
export function bucketSettings(resources: RuleResource[], bucket: RuleResource, ...types: string[]): RuleResource[] {
  return referencing(resources, bucket, "bucket", ...types);
}

/** References to buckets that receive logs: S3 server access logs, load balancer access logs, CloudTrail. */
function logDestinationReferences(resources: RuleResource[]): unknown[] {
  return [
    ...ofType(resources, AwsType.bucketLogging, AwsType.bucketLoggingV2).map((logging) => logging.props.targetBucket),
    ...buckets(resources).map((bucket) => bucket.props.logging?.targetBucket),
    ...ofType(resources, ...loadBalancerTypes).map((balancer) =>
      balancer.props.accessLogs?.enabled === false ? undefined : balancer.props.accessLogs?.bucket,
    ),
    ...ofType(resources, AwsType.trail).map((trail) => trail.props.s3BucketName),
  ];
}

/** True when the bucket receives logs rather than holding data. */
export function isLogDestination(resources: RuleResource[], bucket: RuleResource): boolean {
  return logDestinationReferences(resources).some((reference) => refersTo(reference, bucket));
}

/** True when the bucket receives S3 server access logs of other buckets. */
export function receivesServerAccessLogs(resources: RuleResource[], bucket: RuleResource): boolean {
  return [
    ...ofType(resources, AwsType.bucketLogging, AwsType.bucketLoggingV2).map((logging) => logging.props.targetBucket),
    ...buckets(resources).map((other) => other.props.logging?.targetBucket),
  ].some((reference) => refersTo(reference, bucket));
}
