import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { asArray, fail, pass, resultFor } from "../outcomes";
import { ofType, resolve } from "../joins";
import { statementPath, statementsOf, wildcardMatches } from "../documents";
import { policiesOfRole } from "../iam/attachments";

/** An RDS-managed master secret's ARN shape (RDS names it `rds!db-<id>`), for masters the plan cannot name. */
const RDS_MASTER_SECRET_NAME = "rds!db-00000000-0000-0000-0000-000000000000-AbCdEf";

/** AWS-managed policies that allow secretsmanager:GetSecretValue on every secret. */
const AWS_POLICIES_READING_EVERY_SECRET = ["AdministratorAccess", "PowerUserAccess", "SecretsManagerReadWrite"].map(
  (name) => `arn:aws:iam::aws:policy/${name}`,
);

/** The roles EC2 instances run with: instance -> instance profile -> role, also through launch templates. */
function ec2Roles(resources: RuleResource[]): RuleResource[] {
  const profileReferences = [
    ...ofType(resources, AwsType.instance).map((instance) => instance.props.iamInstanceProfile),
    ...ofType(resources, AwsType.launchTemplate).flatMap((template) => [
      template.props.iamInstanceProfile?.name,
      template.props.iamInstanceProfile?.arn,
    ]),
  ].filter((reference) => typeof reference === "string" && reference !== "");
  const roles = profileReferences
    .map((reference) => resolve(resources, reference, AwsType.instanceProfile))
    .flatMap((profile) => (profile ? [resolve(resources, profile.props.role, AwsType.role)] : []))
    .filter((role): role is RuleResource => role !== undefined);
  return [...new Set(roles)];
}

/** Whether a statement's Resource pattern covers the master secret: `*`, its ARN, or any `rds!` secret. */
function coversMasterSecret(pattern: string, masterArns: string[]): boolean {
  if (pattern === "*") return true;
  if (masterArns.some((arn) => wildcardMatches(pattern, arn))) return true;
  const name = pattern.split(":secret:")[1];
  return name !== undefined && pattern.includes("secretsmanager") && wildcardMatches(name, RDS_MASTER_SECRET_NAME);
}

export const masterSecretNotOnEc2: StackRule = {
  kind: "stack",
  id: "master-secret-not-on-ec2",
  area: "secrets",
  description:
    "No EC2 instance role can read the RDS master secret: none of its policies allows " +
    'secretsmanager:GetSecretValue on the master secret, on an `rds!` secret pattern or on every secret ("*"), ' +
    "so code running on a web host never holds database administrator rights.",
  citations: citeInferred(...sections.IAM),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Give the host role GetSecretValue on its own secrets only (the app, backup and restore accounts); create the " +
    "database accounts with a function that alone reads the master secret (infra/components/database-users.ts).",
  evaluate(resources) {
    const masterArns = ofType(resources, AwsType.rdsInstance)
      .flatMap((database) => asArray<any>(database.props.masterUserSecrets))
      .map((secret) => secret?.secretArn)
      .filter((arn): arn is string => typeof arn === "string" && arn !== "");
    return ec2Roles(resources).map((role) => {
      const policies = policiesOfRole(resources, role);
      for (const policy of policies) {
        if (policy.arn && AWS_POLICIES_READING_EVERY_SECRET.includes(policy.arn))
          return resultFor(
            role,
            fail(role, `${policy.source} attaches ${policy.arn}, which reads every secret, the RDS master's too`, {
              policyArn: policy.arn,
            }),
          );
        for (const statement of statementsOf(policy.document)) {
          if (statement.effect !== "Allow") continue;
          const reads =
            statement.actions.some((action) => wildcardMatches(action, "secretsmanager:GetSecretValue")) ||
            (statement.notActions.length > 0 &&
              !statement.notActions.some((action) => wildcardMatches(action, "secretsmanager:GetSecretValue")));
          const covered = statement.resources.find((pattern) => coversMasterSecret(pattern, masterArns));
          if (reads && covered !== undefined)
            return resultFor(
              role,
              fail(
                role,
                `${policy.source} ${statementPath("policy", statement)} allows secretsmanager:GetSecretValue on ` +
                  `${covered}, which covers the RDS master secret; expected the role's own secrets only`,
                { [`${policy.source}.Resource`]: covered },
              ),
            );
        }
      }
      return resultFor(
        role,
        pass({ policies: policies.map((policy) => policy.arn ?? policy.source), masterSecrets: masterArns }),
      );
    });
  },
};
