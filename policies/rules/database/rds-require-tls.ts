import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { asArray, fail, failProperty, pass, resultFor } from "../outcomes";
import { ofType, resolve } from "../joins";

const TLS_PARAMETER = "require_secure_transport";
const ON_VALUES = ["1", "on", "true"];

export const rdsRequireTls: StackRule = {
  kind: "stack",
  id: "rds-require-tls",
  area: "database",
  description:
    "Every RDS MySQL/MariaDB instance uses a parameter group that " +
    "sets require_secure_transport, so no client connects without TLS.",
  citations: citeInferred(...sections.TLS),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.rds.ParameterGroup with " +
    '{ name: "require_secure_transport", value: "1" } and set the instance\'s parameterGroupName to it.',
  evaluate(resources) {
    return ofType(resources, AwsType.rdsInstance).map((database) => {
      const group = resolve(resources, database.props.parameterGroupName, AwsType.rdsParameterGroup);
      if (!group)
        return resultFor(
          database,
          failProperty(
            database,
            "parameterGroupName",
            database.props.parameterGroupName,
            `a parameter group declared in the stack that sets ${TLS_PARAMETER}`,
          ),
        );
      const parameters = asArray<any>(group.props.parameters);
      const index = parameters.findIndex((parameter) => parameter?.name === TLS_PARAMETER);
      const value = index >= 0 ? String(parameters[index].value).toLowerCase() : undefined;
      if (value === undefined || !ON_VALUES.includes(value)) {
        const path = index >= 0 ? `parameters[${index}].value` : "parameters";
        return resultFor(
          database,
          fail(
            group,
            `${path} ${index >= 0 ? `is ${JSON.stringify(parameters[index].value)}` : `has no ${TLS_PARAMETER}`}; ` +
              `expected ${TLS_PARAMETER} = "1"`,
            { [path]: index >= 0 ? parameters[index].value : null },
          ),
        );
      }
      return resultFor(
        database,
        pass({ parameterGroupName: group.name, [`parameters[${index}].value`]: parameters[index].value }),
      );
    });
  },
};
