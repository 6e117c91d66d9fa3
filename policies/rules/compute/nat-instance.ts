// The one instance the pack lets hold a public address: the stack's NAT instance. The exception
// is narrow and checked, not taken on the tag's word: the instance must be tagged as the NAT
// role, really forward (source/destination check off), admit nothing from outside its VPC (every
// ingress source of each of its groups an IPv4 range inside the VPC's), and have no volume
// attached (it holds no data). An app host tagged as the NAT still fails ec2-no-public-ip.
import type { RuleResource } from "../types";
import { AwsType } from "../resource-types";
import { asArray } from "../outcomes";
import { ofType, refersTo, resolve } from "../joins";
import { ingressEntries, ingressTypes } from "../ingress";
import { cidrContains } from "../../../infra/ipv4";

/** The tag the stack puts on its NAT instance (infra/components/nat-instance.ts). */
export const NAT_ROLE_TAG = { key: "Role", value: "nat-instance" } as const;

export type NatExemption = { exempt: true; evidence: Record<string, unknown> } | { exempt: false; why: string };

/** Whether `cidr` is an IPv4 range inside `vpcCidr`; an IPv6 or unreadable range is not. */
function insideRange(vpcCidr: string, cidr: string): boolean {
  try {
    return cidrContains(vpcCidr, cidr);
  } catch {
    return false;
  }
}

/** Whether `instance` is the stack's NAT instance, as the exception above defines it. */
export function natInstanceExemption(resources: RuleResource[], instance: RuleResource): NatExemption {
  const role = instance.props.tags?.[NAT_ROLE_TAG.key];
  if (role !== NAT_ROLE_TAG.value)
    return { exempt: false, why: `not tagged ${NAT_ROLE_TAG.key}=${NAT_ROLE_TAG.value}` };
  if (instance.props.sourceDestCheck !== false)
    return { exempt: false, why: "tagged as the NAT but sourceDestCheck is not false (it forwards nothing)" };
  const groupReferences = asArray<string>(instance.props.vpcSecurityGroupIds);
  if (groupReferences.length === 0) return { exempt: false, why: "tagged as the NAT but in no security group" };
  for (const reference of groupReferences) {
    const group = resolve(resources, reference, AwsType.securityGroup);
    if (!group) return { exempt: false, why: `security group ${reference} is not declared in the stack` };
    const vpc = resolve(resources, group.props.vpcId, AwsType.vpc);
    const vpcCidr = vpc?.props.cidrBlock;
    if (typeof vpcCidr !== "string") return { exempt: false, why: `the VPC of group "${group.name}" is not known` };
    const entries = ofType(resources, ...ingressTypes)
      .flatMap((resource) =>
        ingressEntries(resource).map((entry) => ({
          resource,
          entry,
          opens: resource === group || refersTo(entry.groupReference, group),
        })),
      )
      .filter(({ opens }) => opens);
    for (const { resource, entry } of entries) {
      if (entry.referenced)
        return {
          exempt: false,
          why: `"${resource.name}" admits another group or a prefix list, not only the VPC's range`,
        };
      const outside = entry.cidrs.find((source) => !insideRange(vpcCidr, source.cidr));
      if (outside)
        return { exempt: false, why: `"${resource.name}" admits ${outside.cidr}, outside the VPC's ${vpcCidr}` };
    }
  }
  const attached = ofType(resources, AwsType.volumeAttachment).find((attachment) =>
    refersTo(attachment.props.instanceId, instance),
  );
  if (attached) return { exempt: false, why: `volume attachment "${attached.name}" gives it data to keep` };
  return {
    exempt: true,
    evidence: {
      [`tags.${NAT_ROLE_TAG.key}`]: NAT_ROLE_TAG.value,
      sourceDestCheck: false,
      vpcSecurityGroupIds: groupReferences,
      ingress: "from inside the VPC only",
    },
  };
}
