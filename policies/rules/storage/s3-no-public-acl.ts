import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, failProperty, pass, resultFor } from "../outcomes";
import { bucketSettings, buckets } from "./buckets";

const PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEES = /acs\.amazonaws\.com\/groups\/global\/(AllUsers|AuthenticatedUsers)/;
const OWNER_ENFORCED = "BucketOwnerEnforced";

export const s3NoPublicAcl: StackRule = {
  kind: "stack",
  id: "s3-no-public-acl",
  area: "storage",
  description:
    "No bucket has a public canned ACL or a grant to AllUsers/AuthenticatedUsers, " +
    "and every bucket declares object ownership BucketOwnerEnforced (ACLs disabled).",
  citations: cite(...sections.ACC),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Remove public ACLs and grants, and declare an aws.s3.BucketOwnershipControls with " +
    'objectOwnership "BucketOwnerEnforced"; grant access through bucket and IAM policies.',
  evaluate(resources) {
    return buckets(resources).map((bucket) => {
      if (PUBLIC_CANNED_ACLS.includes(bucket.props.acl))
        return resultFor(bucket, failProperty(bucket, "acl", bucket.props.acl, "private or not set"));
      for (const acl of bucketSettings(resources, bucket, AwsType.bucketAcl, AwsType.bucketAclV2)) {
        if (PUBLIC_CANNED_ACLS.includes(acl.props.acl))
          return resultFor(bucket, failProperty(acl, "acl", acl.props.acl, "private or not set"));
        const grants = asArray<any>(acl.props.accessControlPolicy?.grants);
        const index = grants.findIndex((grant) => PUBLIC_GRANTEES.test(String(grant?.grantee?.uri ?? "")));
        if (index >= 0)
          return resultFor(
            bucket,
            failProperty(
              acl,
              `accessControlPolicy.grants[${index}].grantee.uri`,
              grants[index].grantee.uri,
              "no grant to AllUsers or AuthenticatedUsers",
            ),
          );
      }
      const ownership = bucketSettings(resources, bucket, AwsType.bucketOwnershipControls);
      if (ownership.length === 0)
        return resultFor(
          bucket,
          fail(
            bucket,
            `no ${AwsType.bucketOwnershipControls} has bucket set to it; ` +
              `expected rule.objectOwnership "${OWNER_ENFORCED}"`,
            { "ownershipControls.rule.objectOwnership": null },
          ),
        );
      const notEnforced = ownership.find((controls) => controls.props.rule?.objectOwnership !== OWNER_ENFORCED);
      if (notEnforced)
        return resultFor(
          bucket,
          failProperty(
            notEnforced,
            "rule.objectOwnership",
            notEnforced.props.rule?.objectOwnership,
            `"${OWNER_ENFORCED}"`,
          ),
        );
      return resultFor(
        bucket,
        pass({ acl: bucket.props.acl ?? null, "ownershipControls.rule.objectOwnership": OWNER_ENFORCED }),
      );
    });
  },
};
