import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, failProperty, pass } from "../outcomes";
import { checkAllowStatements, identityPolicyTypes } from "./identity-documents";

const FULL_ACCESS_ACTIONS = ["*", "*:*"];
const ADMIN_POLICY = /:iam::aws:policy\/AdministratorAccess$/;
const attachmentTypes: string[] = [
  AwsType.rolePolicyAttachment,
  AwsType.policyAttachment,
  AwsType.userPolicyAttachment,
  AwsType.groupPolicyAttachment,
];

export const iamNoAdmin: ResourceRule = {
  kind: "resource",
  id: "iam-no-admin",
  area: "iam",
  description:
    'No identity policy allows every action ("*"), and no principal is given AWS\'s AdministratorAccess policy.',
  citations: cite(...sections.IAM),
  severity: "critical",
  enforcement: "mandatory",
  remediation:
    "Grant only the actions each role needs, on the resources it needs; remove AdministratorAccess attachments.",
  resourceTypes: [...identityPolicyTypes, ...attachmentTypes],
  evaluate(resource) {
    if (attachmentTypes.includes(resource.type)) {
      const arn = resource.props.policyArn;
      return ADMIN_POLICY.test(String(arn ?? ""))
        ? failProperty(resource, "policyArn", arn, "a least-privilege policy, not AdministratorAccess")
        : pass({ policyArn: arn });
    }
    if (resource.type === AwsType.role) {
      const index = asArray<string>(resource.props.managedPolicyArns).findIndex((arn) => ADMIN_POLICY.test(arn));
      if (index >= 0)
        return failProperty(
          resource,
          `managedPolicyArns[${index}]`,
          resource.props.managedPolicyArns[index],
          "a least-privilege policy, not AdministratorAccess",
        );
    }
    return checkAllowStatements(resource, (statement) => {
      const action = statement.actions.find((candidate) => FULL_ACCESS_ACTIONS.includes(candidate));
      return action ? { property: "Action", value: action, expected: "named actions, not every action" } : undefined;
    });
  },
};
