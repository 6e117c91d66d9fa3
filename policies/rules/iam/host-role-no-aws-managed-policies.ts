import type { RuleResource, StackRule, StackRuleResult } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { asArray, fail, notApplicable, pass, resultFor } from "../outcomes";
import { ofType, refersTo } from "../joins";
import { hostRole, isAwsManagedPolicy } from "./attachments";

/**
 * Mandatory: the host is where code from the internet runs (OpenEMR's PHP), so its role is what an
 * attacker with code execution holds. An AWS-managed policy is written for every customer (the SSM
 * and CloudWatch agent ones grant ssm:GetParameter on every parameter, logs on every group) and
 * AWS may widen it at any time without a change to the stack. One that is truly needed is waived
 * by name, with the reason, in policies/waivers.yaml (the attachment's name, or the role's for
 * `managedPolicyArns`).
 */
export const hostRoleNoAwsManagedPolicies: StackRule = {
  kind: "stack",
  id: "host-role-no-aws-managed-policies",
  area: "iam",
  description:
    "The role a host (instance or launch template) runs as has no AWS-managed policy attached: its permissions are " +
    "the stack's own policies, scoped to the stack's resources, which AWS cannot widen under it.",
  citations: citeInferred(...sections.IAM),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Replace the AWS-managed policy with an aws.iam.Policy of the stack holding only the actions the host uses, on " +
    "the stack's resources (see infra/components/host.ts), or waive the attachment with the reason in " +
    "policies/waivers.yaml.",
  evaluate(resources) {
    const seen = new Set<string>();
    return ofType(resources, AwsType.instance, AwsType.launchTemplate).flatMap((host): StackRuleResult[] => {
      const { role } = hostRole(resources, host);
      if (!role)
        return [resultFor(host, notApplicable("runs as no role declared in the stack (ec2-ssm-managed reports it)"))];
      if (seen.has(role.urn)) return [];
      seen.add(role.urn);
      return managedPolicyFindings(resources, role);
    });
  },
};

/** One failure per AWS-managed attachment of `role`, or a pass on the role naming what is attached. */
function managedPolicyFindings(resources: RuleResource[], role: RuleResource): StackRuleResult[] {
  const attachments = [
    ...ofType(resources, AwsType.rolePolicyAttachment).filter((attachment) => refersTo(attachment.props.role, role)),
    ...ofType(resources, AwsType.policyAttachment).filter((attachment) =>
      asArray(attachment.props.roles).some((reference) => refersTo(reference, role)),
    ),
  ];
  const failures = attachments
    .filter((attachment) => isAwsManagedPolicy(attachment.props.policyArn))
    .map((attachment) =>
      resultFor(
        attachment,
        fail(
          attachment,
          `policyArn ${JSON.stringify(attachment.props.policyArn)} attaches an AWS-managed policy to the host role ` +
            `"${role.name}"; expected a policy of the stack's own, or a waiver with the reason`,
          { policyArn: attachment.props.policyArn, role: role.name },
        ),
      ),
    );
  const onRole = asArray<string>(role.props.managedPolicyArns).filter(isAwsManagedPolicy);
  if (onRole.length > 0)
    failures.push(
      resultFor(
        role,
        fail(
          role,
          `managedPolicyArns holds AWS-managed policies (${onRole.join(", ")}); expected the stack's own policies`,
          { managedPolicyArns: onRole },
        ),
      ),
    );
  if (failures.length > 0) return failures;
  return [
    resultFor(
      role,
      pass({
        attachedPolicyArns: [
          ...attachments.map((attachment) => attachment.props.policyArn),
          ...asArray(role.props.managedPolicyArns),
        ],
      }),
    ),
  ];
}
