import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty } from "../outcomes";

export const logGroupRetention: ResourceRule = {
  kind: "resource",
  id: "log-group-retention",
  area: "logs",
  description:
    "CloudWatch Logs groups set a retention of at least the minimum (setting minLogRetentionDays, " +
    "default 365 days); not set means kept forever at growing cost, with no decision recorded.",
  citations: cite(...sections.AUD),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set retentionInDays to one of CloudWatch's values at or above the minimum (365, 400, 545, 731, ...).",
  resourceTypes: [AwsType.logGroup],
  evaluate: (resource, { settings }) =>
    expectProperty(
      resource,
      "retentionInDays",
      (value) => Number(value) >= settings.minLogRetentionDays,
      `at least ${settings.minLogRetentionDays} (days)`,
    ),
};
