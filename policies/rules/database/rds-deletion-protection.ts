import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const rdsDeletionProtection: ResourceRule = {
  kind: "resource",
  id: "rds-deletion-protection",
  area: "database",
  description: "RDS instances have deletion protection on.",
  citations: cite(...sections.AVL),
  severity: "high",
  enforcement: "mandatory",
  remediation: "Set deletionProtection: true; turn it off deliberately, in its own change, before a planned deletion.",
  resourceTypes: [AwsType.rdsInstance],
  evaluate: (resource) => expectProperty(resource, "deletionProtection", isTrue, "true"),
};
