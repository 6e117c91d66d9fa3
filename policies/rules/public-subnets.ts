// Which subnets are public by design: those an internet-facing load balancer or a NAT gateway
// is placed in. The network rules hold every other subnet to "no way in from the internet".
import type { RuleResource } from "./types";
import { AwsType, loadBalancerTypes } from "./resource-types";
import { ofType, refersTo } from "./joins";
import { asArray } from "./outcomes";

/** The subnets that hold a NAT gateway or an internet-facing load balancer. */
export function designatedPublicSubnets(resources: RuleResource[]): RuleResource[] {
  const references: unknown[] = [
    ...ofType(resources, AwsType.natGateway).map((nat) => nat.props.subnetId),
    ...ofType(resources, ...loadBalancerTypes)
      .filter((balancer) => balancer.props.internal !== true)
      .flatMap((balancer) => [
        ...asArray(balancer.props.subnets),
        ...asArray<any>(balancer.props.subnetMappings).map((mapping) => mapping?.subnetId),
      ]),
  ];
  return ofType(resources, AwsType.subnet).filter((subnet) =>
    references.some((reference) => refersTo(reference, subnet)),
  );
}
