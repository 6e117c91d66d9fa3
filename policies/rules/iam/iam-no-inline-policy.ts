import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, failProperty, pass } from "../outcomes";

export const iamNoInlinePolicy: ResourceRule = {
  kind: "resource",
  id: "iam-no-inline-policy",
  area: "iam",
  description:
    "Permissions come from managed policies attached to roles, not inline policies " +
    "(which cannot be reviewed, versioned or reused on their own).",
  citations: cite(...sections.IAM),
  severity: "low",
  enforcement: "mandatory",
  remediation: "Declare the permissions as an aws.iam.Policy and attach it with aws.iam.RolePolicyAttachment.",
  resourceTypes: [AwsType.rolePolicy, AwsType.userPolicy, AwsType.groupPolicy, AwsType.role],
  evaluate(resource) {
    if (resource.type !== AwsType.role)
      return fail(
        resource,
        `policy is an inline policy (${resource.type}); expected a managed aws.iam.Policy attached to the principal`,
        { policy: "(inline)" },
      );
    const inline = asArray(resource.props.inlinePolicies).filter((policy: any) => policy?.policy);
    if (inline.length > 0)
      return failProperty(
        resource,
        "inlinePolicies",
        `${inline.length} inline policies`,
        "none: managed policies only",
      );
    return pass({ inlinePolicies: inline.length });
  },
};
