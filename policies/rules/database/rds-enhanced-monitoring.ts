import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty } from "../outcomes";

export const rdsEnhancedMonitoring: ResourceRule = {
  kind: "resource",
  id: "rds-enhanced-monitoring",
  area: "database",
  description: "RDS instances have enhanced monitoring on (monitoringInterval greater than 0).",
  citations: cite(...sections.AUD),
  severity: "low",
  enforcement: "mandatory",
  remediation: "Set monitoringInterval (e.g. 60) and monitoringRoleArn to a role with AmazonRDSEnhancedMonitoringRole.",
  resourceTypes: [AwsType.rdsInstance],
  evaluate: (resource) =>
    expectProperty(resource, "monitoringInterval", (value) => Number(value) > 0, "greater than 0 (seconds)"),
};
