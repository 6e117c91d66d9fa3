import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { expectProperty } from "../outcomes";

export const rdsMinorUpgrade: ResourceRule = {
  kind: "resource",
  id: "rds-minor-upgrade",
  area: "database",
  description:
    "RDS instances take automatic minor version upgrades " +
    "(security patches) in their maintenance window; not set means AWS's default, on.",
  citations: cite("164.308(a)(5)(ii)(A)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set autoMinorVersionUpgrade: true (or leave it unset) and a maintenance window that suits the clinic.",
  resourceTypes: [AwsType.rdsInstance],
  evaluate: (resource) =>
    expectProperty(
      resource,
      "autoMinorVersionUpgrade",
      (value) => value !== false && value !== "false",
      "true or not set (AWS default: true)",
    ),
};
