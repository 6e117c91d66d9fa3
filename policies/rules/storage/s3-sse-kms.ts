import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, failProperty, pass, resultFor } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";
import { bucketSettings, buckets } from "./buckets";

const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

export const s3SseKms: StackRule = {
  kind: "stack",
  id: "s3-sse-kms",
  area: "storage",
  description: "Every bucket's default encryption is SSE-KMS (aws:kms) with a customer managed key.",
  citations: cite(...sections.ENC),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.s3.BucketServerSideEncryptionConfiguration with sseAlgorithm aws:kms, " +
    "kmsMasterKeyId the data key and bucketKeyEnabled true. Buckets that receive S3 server access logs or " +
    "ALB access logs must stay SSE-S3 (an AWS constraint): waive this rule for them with that justification.",
  evaluate(resources) {
    return buckets(resources).map((bucket) => {
      const configurations = bucketSettings(resources, bucket, AwsType.bucketEncryption, AwsType.bucketEncryptionV2);
      const declared = [
        ...configurations.flatMap((configuration) =>
          asArray<any>(configuration.props.rules).map((rule, index) => ({
            owner: configuration,
            path: `rules[${index}].applyServerSideEncryptionByDefault.`,
            byDefault: rule?.applyServerSideEncryptionByDefault,
          })),
        ),
        ...(bucket.props.serverSideEncryptionConfiguration
          ? [
              {
                owner: bucket,
                path: "serverSideEncryptionConfiguration.rule.applyServerSideEncryptionByDefault.",
                byDefault: bucket.props.serverSideEncryptionConfiguration.rule?.applyServerSideEncryptionByDefault,
              },
            ]
          : []),
      ];
      if (declared.length === 0)
        return resultFor(
          bucket,
          fail(
            bucket,
            `no ${AwsType.bucketEncryption} has bucket set to it; ` +
              "expected default encryption aws:kms with a customer key",
            { sseAlgorithm: null },
          ),
        );
      for (const { owner, path, byDefault } of declared) {
        if (!KMS_ALGORITHMS.includes(byDefault?.sseAlgorithm))
          return resultFor(bucket, failProperty(owner, `${path}sseAlgorithm`, byDefault?.sseAlgorithm, '"aws:kms"'));
        if (!isCustomerKey(byDefault?.kmsMasterKeyId))
          return resultFor(
            bucket,
            failProperty(owner, `${path}kmsMasterKeyId`, byDefault?.kmsMasterKeyId, "a customer managed KMS key"),
          );
      }
      return resultFor(
        bucket,
        pass(
          Object.assign(
            {},
            ...declared.map(({ path, byDefault }) => ({
              [`${path}sseAlgorithm`]: byDefault.sseAlgorithm,
              [`${path}kmsMasterKeyId`]: byDefault.kmsMasterKeyId,
            })),
          ),
        ),
      );
    });
  },
};
