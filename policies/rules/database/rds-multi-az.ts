import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const rdsMultiAz: ResourceRule = {
  kind: "resource",
  id: "rds-multi-az",
  area: "database",
  description:
    "RDS instances run Multi-AZ (a synchronous standby in a second zone). " +
    "Mandatory on the `ha` tier, advisory on the others, where a single zone is a documented cost choice.",
  citations: cite(...sections.AVL),
  severity: "medium",
  enforcement: "advisory",
  enforcementByTier: { ha: "mandatory" },
  remediation: "Set multiAz: true (config openemr:multiAz on `standard`); it roughly doubles the database's cost.",
  resourceTypes: [AwsType.rdsInstance],
  evaluate: (resource) => expectProperty(resource, "multiAz", isTrue, "true"),
};
