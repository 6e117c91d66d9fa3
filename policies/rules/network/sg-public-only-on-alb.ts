import type { RuleResource, StackRule } from "../types";
import { AwsType, loadBalancerTypes } from "../resource-types";
import { citeInferred } from "../citations";
import {
  coversPort,
  describePorts,
  entryEvidence,
  ingressEntries,
  ingressTypes,
  worldSources,
  type IngressEntry,
} from "../ingress";
import { asArray, fail, pass, resultFor } from "../outcomes";
import { ofType, refersTo, resolve } from "../joins";
import { SSH_PORT } from "./sg-no-public-ssh";
import { COMMON_PORTS } from "./sg-restricted-common-ports";

/** Ports with a rule of their own: a world-open entry on exactly one of them is reported there, once. */
const PORTS_WITH_OWN_RULE = [SSH_PORT, ...COMMON_PORTS];

function ownedByPortRule(entry: IngressEntry): boolean {
  return (
    entry.fromPort !== undefined &&
    entry.fromPort === (entry.toPort ?? entry.fromPort) &&
    PORTS_WITH_OWN_RULE.includes(Number(entry.fromPort))
  );
}

function onlyAllowedPorts(entry: IngressEntry, allowed: number[]): boolean {
  if (entry.fromPort === undefined || !["tcp", "6"].includes(entry.protocol.toLowerCase())) return false;
  for (let port = Number(entry.fromPort); port <= Number(entry.toPort ?? entry.fromPort); port++) {
    if (!allowed.includes(port)) return false;
  }
  return true;
}

export const sgPublicOnlyOnAlb: StackRule = {
  kind: "stack",
  id: "sg-public-only-on-alb",
  area: "network",
  description:
    "World-open ingress (0.0.0.0/0 or ::/0) exists only on an internet-facing load balancer's " +
    "security group and only on the allowed ports (setting worldOpenPorts, default 80 and 443). " +
    "SSH and the common administrative ports are reported by their own rules.",
  citations: citeInferred("164.312(e)(1)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Reach hosts and databases only from other security groups; " +
    "open the internet only on the load balancer's group, on 443 (and 80 for the redirect).",
  evaluate(resources, { settings }) {
    const balancerGroups = ofType(resources, ...loadBalancerTypes)
      .filter((balancer) => balancer.props.internal !== true)
      .flatMap((balancer) => asArray(balancer.props.securityGroups));
    const results = [];
    for (const resource of ofType(resources, ...ingressTypes)) {
      for (const entry of ingressEntries(resource)) {
        const sources = worldSources(entry);
        if (sources.length === 0 || ownedByPortRule(entry)) continue;
        const group: RuleResource | undefined =
          resource.type === AwsType.securityGroup || resource.type === AwsType.defaultSecurityGroup
            ? resource
            : resolve(resources, entry.groupReference, AwsType.securityGroup, AwsType.defaultSecurityGroup);
        const onBalancer = group !== undefined && balancerGroups.some((reference) => refersTo(reference, group));
        const evidence = {
          ...entryEvidence(entry, sources[0]),
          securityGroup: group?.name ?? entry.groupReference,
          loadBalancerGroup: onBalancer,
        };
        if (!onBalancer) {
          results.push(
            resultFor(
              resource,
              fail(
                resource,
                `${sources[0].property} is "${sources[0].cidr}" on ${describePorts(entry)} of a group no ` +
                  "internet-facing load balancer uses; expected world-open ingress only on the load balancer's group",
                evidence,
              ),
            ),
          );
        } else if (
          !onlyAllowedPorts(entry, settings.worldOpenPorts) ||
          !settings.worldOpenPorts.some((port) => coversPort(entry, port))
        ) {
          results.push(
            resultFor(
              resource,
              fail(
                resource,
                `${sources[0].property} is "${sources[0].cidr}" on ${describePorts(entry)}; ` +
                  `expected only ports ${settings.worldOpenPorts.join(", ")} (tcp) open to the internet`,
                evidence,
              ),
            ),
          );
        } else {
          results.push(resultFor(resource, pass(evidence)));
        }
      }
    }
    return results;
  },
};
