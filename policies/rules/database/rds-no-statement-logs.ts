import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { asArray, failProperty, pass } from "../outcomes";

/** MySQL/MariaDB logs that write each statement's full text, literals (patient data) included. */
export const STATEMENT_LOGS = ["slow_query_log", "general_log"];
const ON_VALUES = ["1", "on", "true"];

export const rdsNoStatementLogs: ResourceRule = {
  kind: "resource",
  id: "rds-no-statement-logs",
  area: "database",
  description:
    "RDS parameter groups keep the slow query and general logs off: both copy statement text, and so patient " +
    "data, into log files and CloudWatch Logs, readable by whoever may read the logs.",
  citations: citeInferred("164.312(a)(1)", "164.308(a)(4)(ii)(B)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    'Set { name: "slow_query_log", value: "0" } and { name: "general_log", value: "0" }; find slow statements ' +
    "with Performance Insights' digests (literals replaced by ?).",
  resourceTypes: [AwsType.rdsParameterGroup],
  evaluate(resource) {
    const parameters = asArray<any>(resource.props.parameters);
    for (const [index, parameter] of parameters.entries()) {
      if (STATEMENT_LOGS.includes(parameter?.name) && ON_VALUES.includes(String(parameter.value).toLowerCase()))
        return failProperty(resource, `parameters[${index}].value`, parameter.value, `"0": ${parameter.name} off`);
    }
    return pass(
      Object.fromEntries(
        STATEMENT_LOGS.map((name) => [name, parameters.find((parameter) => parameter?.name === name)?.value ?? null]),
      ),
    );
  },
};
