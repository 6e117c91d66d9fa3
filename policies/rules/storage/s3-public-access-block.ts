import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { fail, failProperty, isTrue, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";
import { bucketSettings, buckets } from "./buckets";

export const PUBLIC_ACCESS_FLAGS = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
];

export const s3PublicAccessBlock: StackRule = {
  kind: "stack",
  id: "s3-public-access-block",
  area: "storage",
  description:
    "Every bucket has a public access block with all four flags on (its own, or the account's declared in the stack).",
  citations: cite(...sections.ACC),
  severity: "critical",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.s3.BucketPublicAccessBlock for the bucket with blockPublicAcls, " +
    "blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true.",
  evaluate(resources) {
    const account = ofType(resources, AwsType.accountPublicAccessBlock).find((block) =>
      PUBLIC_ACCESS_FLAGS.every((flag) => isTrue(block.props[flag])),
    );
    return buckets(resources).map((bucket) => {
      const blocks = bucketSettings(resources, bucket, AwsType.bucketPublicAccessBlock);
      if (blocks.length === 0) {
        if (account) return resultFor(bucket, pass({ accountPublicAccessBlock: account.name }));
        return resultFor(
          bucket,
          fail(
            bucket,
            `no ${AwsType.bucketPublicAccessBlock} has bucket set to it; expected one with all four flags true`,
            { publicAccessBlock: null },
          ),
        );
      }
      for (const block of blocks) {
        const off = PUBLIC_ACCESS_FLAGS.find((flag) => !isTrue(block.props[flag]));
        if (off) return resultFor(bucket, failProperty(block, off, block.props[off], "true"));
      }
      return resultFor(
        bucket,
        pass(Object.fromEntries(PUBLIC_ACCESS_FLAGS.map((flag) => [`publicAccessBlock.${flag}`, true]))),
      );
    });
  },
};
