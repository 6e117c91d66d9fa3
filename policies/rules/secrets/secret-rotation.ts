import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { fail, failProperty, isSet, isTrue, pass, resultFor } from "../outcomes";
import { ofType, referencing } from "../joins";

export const secretRotation: StackRule = {
  kind: "stack",
  id: "secret-rotation",
  area: "secrets",
  description:
    "Secrets rotate at least every maxSecretRotationDays (default 90). An RDS master password managed by RDS " +
    "(manageMasterUserPassword) passes: RDS rotates it. A Secrets Manager secret passes only with an " +
    "aws.secretsmanager.SecretRotation; generated secrets without one are reported. Here that includes OpenEMR's " +
    "database password, which the host's own timer rotates (dbPasswordRotationDays, outside what a plan shows), and " +
    "the admin, backup and restore passwords (openemr-ops rotate-admin-password rotates the admin's on demand). " +
    "Advisory, because the plan cannot show rotation done on the host.",
  citations: cite("164.308(a)(4)(ii)(B)"),
  severity: "medium",
  enforcement: "advisory",
  remediation:
    "Let RDS manage the master password (manageMasterUserPassword: true). OpenEMR's database password: keep " +
    "dbPasswordRotationDays at 90 or less and waive the finding with that reason. The admin password: run " +
    "openemr-ops rotate-admin-password on the schedule and record it in a waiver.",
  evaluate(resources, { settings }) {
    const databases = ofType(resources, AwsType.rdsInstance).map((database) => {
      if (isTrue(database.props.manageMasterUserPassword))
        return resultFor(database, pass({ manageMasterUserPassword: true }));
      return resultFor(
        database,
        failProperty(
          database,
          "manageMasterUserPassword",
          database.props.manageMasterUserPassword,
          "true, so RDS stores and rotates the master password",
        ),
      );
    });
    const secrets = ofType(resources, AwsType.secret).map((secret) => {
      const rotation = referencing(resources, secret, "secretId", AwsType.secretRotation)[0];
      if (!rotation)
        return resultFor(
          secret,
          fail(
            secret,
            `no ${AwsType.secretRotation} has secretId set to it; ` +
              `expected rotation at least every ${settings.maxSecretRotationDays} days`,
            { rotation: null },
          ),
        );
      const days = rotation.props.rotationRules?.automaticallyAfterDays;
      const schedule = rotation.props.rotationRules?.scheduleExpression;
      if (isSet(days) ? Number(days) > settings.maxSecretRotationDays : !isSet(schedule)) {
        return resultFor(
          secret,
          failProperty(
            rotation,
            "rotationRules.automaticallyAfterDays",
            days,
            `at most ${settings.maxSecretRotationDays}`,
          ),
        );
      }
      return resultFor(
        secret,
        pass({
          "rotationRules.automaticallyAfterDays": days ?? null,
          "rotationRules.scheduleExpression": schedule ?? null,
        }),
      );
    });
    return [...databases, ...secrets];
  },
};
