import type { ResourceRule } from "../types";
import { loadBalancerTypes } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue, notApplicable } from "../outcomes";
import { isApplicationLoadBalancer } from "./load-balancers";

export const albDropInvalidHeaders: ResourceRule = {
  kind: "resource",
  id: "alb-drop-invalid-headers",
  area: "edge",
  description:
    "Application load balancers drop HTTP headers with invalid names " +
    "instead of passing them to OpenEMR (request smuggling defence).",
  citations: cite(...sections.TLS),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set dropInvalidHeaderFields: true.",
  resourceTypes: loadBalancerTypes,
  evaluate(resource) {
    if (!isApplicationLoadBalancer(resource))
      return notApplicable(`is a ${resource.props.loadBalancerType} load balancer`);
    return expectProperty(resource, "dropInvalidHeaderFields", isTrue, "true");
  },
};
