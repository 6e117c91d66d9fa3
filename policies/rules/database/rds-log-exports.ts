import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { asArray, failProperty, pass } from "../outcomes";

// Not the slow query log: it copies statement text, and so patient data, into the logs (the
// rds-no-statement-logs rule keeps it off).
export const REQUIRED_LOG_EXPORTS = ["audit", "error", "general"];

export const rdsLogExports: ResourceRule = {
  kind: "resource",
  id: "rds-log-exports",
  area: "database",
  description: `RDS MySQL/MariaDB instances export the ${REQUIRED_LOG_EXPORTS.join(", ")} logs to CloudWatch Logs.`,
  citations: cite("164.308(a)(3)(ii)(A)", "164.308(a)(5)(ii)(C)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    `Set enabledCloudwatchLogsExports to ${JSON.stringify(REQUIRED_LOG_EXPORTS)} ` +
    "(audit needs the MARIADB_AUDIT_PLUGIN option); " +
    "keep general_log off in the parameter group if statements must not reach the logs.",
  resourceTypes: [AwsType.rdsInstance],
  evaluate(resource) {
    const exported = asArray<string>(resource.props.enabledCloudwatchLogsExports);
    const missing = REQUIRED_LOG_EXPORTS.filter((logType) => !exported.includes(logType));
    if (missing.length > 0)
      return failProperty(resource, "enabledCloudwatchLogsExports", exported, `to include ${missing.join(", ")}`);
    return pass({ enabledCloudwatchLogsExports: exported });
  },
};
