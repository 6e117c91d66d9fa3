// The permissions a role ends up with: managed policies attached to it (by ARN, with the
// stack's own policies resolved to their documents) and inline policies.
import type { RuleResource } from "../types";
import { AwsType } from "../resource-types";
import { asArray } from "../outcomes";
import { ofType, refersTo, resolve } from "../joins";

export interface GrantedPolicy {
  /** Where the grant is declared, for evidence. */
  source: string;
  /** The managed policy ARN, when attached by ARN. */
  arn?: string;
  /** The policy document, when the stack declares it. */
  document?: unknown;
}

export function policiesOfRole(resources: RuleResource[], role: RuleResource): GrantedPolicy[] {
  const attachedArns = [
    ...ofType(resources, AwsType.rolePolicyAttachment)
      .filter((attachment) => refersTo(attachment.props.role, role))
      .map((attachment) => ({ source: attachment.name, arn: attachment.props.policyArn as string })),
    ...ofType(resources, AwsType.policyAttachment)
      .filter((attachment) => asArray(attachment.props.roles).some((reference) => refersTo(reference, role)))
      .map((attachment) => ({ source: attachment.name, arn: attachment.props.policyArn as string })),
    ...asArray<string>(role.props.managedPolicyArns).map((arn) => ({ source: `${role.name}.managedPolicyArns`, arn })),
  ];
  const managed = attachedArns.map((grant) => ({
    ...grant,
    document: resolve(resources, grant.arn, AwsType.policy)?.props.policy,
  }));
  const inline = [
    ...ofType(resources, AwsType.rolePolicy)
      .filter((policy) => refersTo(policy.props.role, role))
      .map((policy) => ({ source: policy.name, document: policy.props.policy })),
    ...asArray<any>(role.props.inlinePolicies).map((policy, index) => ({
      source: `${role.name}.inlinePolicies[${index}]`,
      document: policy?.policy,
    })),
  ];
  return [...managed, ...inline];
}

/** What a host (an instance or a launch template) runs as: its instance profile, and that profile's role. */
export function hostRole(
  resources: RuleResource[],
  host: RuleResource,
): { profileReference: unknown; profile?: RuleResource; role?: RuleResource } {
  const profileReference =
    host.type === AwsType.launchTemplate
      ? (host.props.iamInstanceProfile?.name ?? host.props.iamInstanceProfile?.arn)
      : host.props.iamInstanceProfile;
  const profile = resolve(resources, profileReference, AwsType.instanceProfile);
  const role = profile && resolve(resources, profile.props.role, AwsType.role);
  return { profileReference, profile, role };
}

/** True for an ARN of a policy AWS manages (`arn:<partition>:iam::aws:policy/...`). */
export function isAwsManagedPolicy(arn: unknown): arn is string {
  return typeof arn === "string" && /^arn:[^:]+:iam::aws:policy\//.test(arn);
}
