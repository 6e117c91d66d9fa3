// Security group ingress in every shape the stack can declare it: inline `ingress` blocks on a
// group (or the default group), `aws.ec2.SecurityGroupRule` of type ingress, and one
// `aws.vpc.SecurityGroupIngressRule` per rule. Rules about open ports read this one view.
import type { RuleResource } from "./types";
import { AwsType } from "./resource-types";
import { asArray } from "./outcomes";

export const WORLD = ["0.0.0.0/0", "::/0"];

export interface IngressEntry {
  /** Path of the entry inside the resource: `ingress[0].` for inline blocks, empty for rule resources. */
  path: string;
  protocol: string;
  /** The property holding the protocol (`ingress[0].protocol`, `protocol` or `ipProtocol`). */
  protocolProperty: string;
  fromPort?: number;
  toPort?: number;
  /** CIDR sources with the property that holds each. */
  cidrs: { property: string; cidr: string }[];
  /** Sources that are other groups, prefix lists or the group itself. */
  referenced: boolean;
  /** Reference to the group the entry opens: the group itself for inline entries. */
  groupReference?: string;
}

export const ingressTypes: string[] = [
  AwsType.securityGroup,
  AwsType.defaultSecurityGroup,
  AwsType.securityGroupRule,
  AwsType.ingressRule,
];

/** The ingress entries a resource declares; none for egress-only resources. */
export function ingressEntries(resource: RuleResource): IngressEntry[] {
  const props = resource.props ?? {};
  switch (resource.type) {
    case AwsType.securityGroup:
    case AwsType.defaultSecurityGroup:
      return asArray<any>(props.ingress).map((block, index) => ({
        path: `ingress[${index}].`,
        protocol: String(block.protocol),
        protocolProperty: `ingress[${index}].protocol`,
        fromPort: block.fromPort,
        toPort: block.toPort,
        cidrs: [
          ...asArray<string>(block.cidrBlocks).map((cidr) => ({ property: `ingress[${index}].cidrBlocks`, cidr })),
          ...asArray<string>(block.ipv6CidrBlocks).map((cidr) => ({
            property: `ingress[${index}].ipv6CidrBlocks`,
            cidr,
          })),
        ],
        referenced:
          asArray(block.securityGroups).length > 0 || asArray(block.prefixListIds).length > 0 || block.self === true,
        groupReference: props.id,
      }));
    case AwsType.securityGroupRule:
      if (props.type !== "ingress") return [];
      return [
        {
          path: "",
          protocol: String(props.protocol),
          protocolProperty: "protocol",
          fromPort: props.fromPort,
          toPort: props.toPort,
          cidrs: [
            ...asArray<string>(props.cidrBlocks).map((cidr) => ({ property: "cidrBlocks", cidr })),
            ...asArray<string>(props.ipv6CidrBlocks).map((cidr) => ({ property: "ipv6CidrBlocks", cidr })),
          ],
          referenced:
            Boolean(props.sourceSecurityGroupId) || asArray(props.prefixListIds).length > 0 || props.self === true,
          groupReference: props.securityGroupId,
        },
      ];
    case AwsType.ingressRule:
      return [
        {
          path: "",
          protocol: String(props.ipProtocol),
          protocolProperty: "ipProtocol",
          fromPort: props.fromPort,
          toPort: props.toPort,
          cidrs: [
            ...(props.cidrIpv4 ? [{ property: "cidrIpv4", cidr: props.cidrIpv4 as string }] : []),
            ...(props.cidrIpv6 ? [{ property: "cidrIpv6", cidr: props.cidrIpv6 as string }] : []),
          ],
          referenced: Boolean(props.referencedSecurityGroupId) || Boolean(props.prefixListId),
          groupReference: props.securityGroupId,
        },
      ];
    default:
      return [];
  }
}

const allProtocols = ["-1", "all"];
const portProtocols = ["tcp", "6", "udp", "17"];

/** True when the entry lets traffic reach `port`. */
export function coversPort(entry: IngressEntry, port: number): boolean {
  if (allProtocols.includes(entry.protocol.toLowerCase())) return true;
  if (!portProtocols.includes(entry.protocol.toLowerCase())) return false;
  const from = Number(entry.fromPort);
  const to = Number(entry.toPort ?? entry.fromPort);
  return from <= port && port <= to;
}

/** The entry's CIDR sources that are the whole internet. */
export function worldSources(entry: IngressEntry): { property: string; cidr: string }[] {
  return entry.cidrs.filter((source) => WORLD.includes(source.cidr));
}

/** `ports 22-22 (tcp)` or `all ports and protocols`. */
export function describePorts(entry: IngressEntry): string {
  if (allProtocols.includes(entry.protocol.toLowerCase())) return "all ports and protocols";
  return `ports ${entry.fromPort}-${entry.toPort ?? entry.fromPort} (${entry.protocol})`;
}

/** Evidence for one entry: its source, protocol and ports, by property path. */
export function entryEvidence(
  entry: IngressEntry,
  source?: { property: string; cidr: string },
): Record<string, unknown> {
  return {
    ...(source ? { [source.property]: source.cidr } : {}),
    [entry.protocolProperty]: entry.protocol,
    [`${entry.path}fromPort`]: entry.fromPort,
    [`${entry.path}toPort`]: entry.toPort,
  };
}
