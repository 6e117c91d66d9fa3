import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const rdsNotPublic: ResourceRule = {
  kind: "resource",
  id: "rds-not-public",
  area: "database",
  description: "RDS instances are not publicly accessible.",
  citations: cite(...sections.ACC),
  severity: "critical",
  enforcement: "mandatory",
  remediation: "Set publiclyAccessible: false and place the instance in isolated database subnets.",
  resourceTypes: [AwsType.rdsInstance],
  evaluate: (resource) => expectProperty(resource, "publiclyAccessible", (value) => !isTrue(value), "false"),
};
