// Load balancer helpers for the edge rules: which balancers are application load balancers,
// and the listeners of a balancer.
import type { RuleResource } from "../types";
import { listenerTypes } from "../resource-types";
import { referencing } from "../joins";

export function isApplicationLoadBalancer(balancer: RuleResource): boolean {
  return (balancer.props.loadBalancerType ?? "application") === "application";
}

export function listenersOf(resources: RuleResource[], balancer: RuleResource): RuleResource[] {
  return referencing(resources, balancer, "loadBalancerArn", ...listenerTypes);
}

/** HTTP listeners are those with protocol HTTP, or port 80 and no protocol. */
export function isHttpListener(listener: RuleResource): boolean {
  return (
    listener.props.protocol === "HTTP" || (listener.props.protocol === undefined && Number(listener.props.port) === 80)
  );
}
