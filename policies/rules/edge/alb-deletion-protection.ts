import type { ResourceRule } from "../types";
import { loadBalancerTypes } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const albDeletionProtection: ResourceRule = {
  kind: "resource",
  id: "alb-deletion-protection",
  area: "edge",
  description: "Load balancers have deletion protection on.",
  citations: cite(...sections.AVL),
  severity: "low",
  enforcement: "mandatory",
  remediation: "Set enableDeletionProtection: true; turn it off in its own change before a planned teardown.",
  resourceTypes: loadBalancerTypes,
  evaluate: (resource) => expectProperty(resource, "enableDeletionProtection", isTrue, "true"),
};
