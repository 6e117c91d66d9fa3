import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, isSet, notApplicable, pass, resultFor } from "../outcomes";
import { refersTo, resolve } from "../joins";
import { bucketSettings, buckets, isLogDestination } from "./buckets";
import { declaresCopyRegion, regionOf } from "./copy-region";

/** The Enabled replication rules of every configuration in the stack, with the bucket each replicates. */
function enabledRules(resources: RuleResource[]): { source: unknown; rule: any }[] {
  return resources
    .filter((resource) => resource.type === AwsType.bucketReplication)
    .flatMap((configuration) =>
      asArray<any>(configuration.props.rules)
        .filter((rule) => rule?.status === "Enabled")
        .map((rule) => ({ source: configuration.props.bucket, rule })),
    );
}

export const s3Replication: StackRule = {
  kind: "stack",
  id: "s3-replication",
  area: "storage",
  description:
    "Buckets that hold data (every bucket that is not a log destination nor itself a replica, " +
    "here the backups) replicate to a bucket in another region, with the replicas encrypted by a KMS key there. " +
    "Advisory while the stack has no copy region (the cross-region copy is optional; the report shows where " +
    "it is missing); mandatory once it declares one (openemr:copyRegion): the copy it chose must be whole. " +
    'In a pulumi preview, set the pack config "s3-replication": "mandatory" for such a stack.',
  citations: cite(...sections.BAK),
  severity: "medium",
  enforcement: "advisory",
  enforcementWhenDeclared: {
    enforcement: "mandatory",
    what: "a copy region (a provider for a second region, a replication configuration or a backup copy action)",
    declared: declaresCopyRegion,
  },
  remediation:
    "Set openemr:copyRegion, or declare an aws.s3.BucketReplicationConfig with an Enabled rule to a versioned, " +
    "SSE-KMS bucket in a second region (destination.encryptionConfiguration.replicaKmsKeyId its own key), " +
    "or accept the single-region risk with a waiver.",
  evaluate(resources) {
    const rules = enabledRules(resources);
    return buckets(resources).map((bucket) => {
      if (isLogDestination(resources, bucket))
        return resultFor(bucket, notApplicable("is a log destination, not a data bucket"));
      const replicaOf = rules.find(({ rule }) => refersTo(rule.destination?.bucket, bucket));
      if (replicaOf) {
        const source = resolve(resources, replicaOf.source, AwsType.bucket, AwsType.bucketV2);
        return resultFor(bucket, notApplicable(`is the replica of ${source?.name ?? String(replicaOf.source)}`));
      }
      const configurations = bucketSettings(resources, bucket, AwsType.bucketReplication);
      const declared = configurations.flatMap((configuration) => asArray<any>(configuration.props.rules));
      const enabled = declared.find((rule) => rule?.status === "Enabled");
      if (!enabled) {
        return resultFor(
          bucket,
          fail(
            configurations[0] ?? bucket,
            configurations.length === 0
              ? `no ${AwsType.bucketReplication} has bucket set to it; expected an Enabled replication rule`
              : `rules[].status has no "Enabled" rule; expected one`,
            { "replication.rules": declared.map((rule) => rule?.status) },
          ),
        );
      }
      const destination = resolve(resources, enabled.destination?.bucket, AwsType.bucket, AwsType.bucketV2);
      const [here, there] = [regionOf(bucket), destination && regionOf(destination)];
      if (here && there && here === there)
        return resultFor(
          bucket,
          fail(
            configurations[0],
            `rules[].destination.bucket is ${destination!.name}, in ${there} like the source; ` +
              "expected a bucket in another region",
            { region: here, "destination.region": there },
          ),
        );
      if (enabled.sourceSelectionCriteria?.sseKmsEncryptedObjects?.status !== "Enabled")
        return resultFor(
          bucket,
          fail(
            configurations[0],
            'rules[].sourceSelectionCriteria.sseKmsEncryptedObjects.status is not "Enabled"; ' +
              "expected it (S3 skips SSE-KMS objects, here every backup, without it)",
            { "sourceSelectionCriteria.sseKmsEncryptedObjects.status": null },
          ),
        );
      if (!isSet(enabled.destination?.encryptionConfiguration?.replicaKmsKeyId))
        return resultFor(
          bucket,
          fail(
            configurations[0],
            "rules[].destination.encryptionConfiguration.replicaKmsKeyId is not set; " +
              "expected the destination region's KMS key (SSE-KMS backups replicate only with one)",
            { "destination.encryptionConfiguration.replicaKmsKeyId": null },
          ),
        );
      return resultFor(
        bucket,
        pass({
          "rules[].status": "Enabled",
          "rules[].destination.bucket": enabled.destination.bucket,
          "rules[].destination.encryptionConfiguration.replicaKmsKeyId":
            enabled.destination.encryptionConfiguration.replicaKmsKeyId,
          ...(here ? { region: here } : {}),
          ...(there ? { "destination.region": there } : {}),
        }),
      );
    });
  },
};
