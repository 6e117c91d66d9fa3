import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { failProperty, pass } from "../outcomes";
import { statementPath, statementsOf } from "../documents";

export const iamTrustRestricted: ResourceRule = {
  kind: "resource",
  id: "iam-trust-restricted",
  area: "iam",
  description: 'No role\'s trust policy lets "*" (any AWS principal) assume it.',
  citations: citeInferred(...sections.IAM),
  severity: "critical",
  enforcement: "mandatory",
  remediation: "Name the service principal (e.g. ec2.amazonaws.com) or account that must assume the role.",
  resourceTypes: [AwsType.role],
  evaluate(resource) {
    const statements = statementsOf(resource.props.assumeRolePolicy);
    const open = statements.find((statement) => statement.effect === "Allow" && statement.principals.includes("*"));
    if (open)
      return failProperty(
        resource,
        `${statementPath("assumeRolePolicy", open)}.Principal`,
        "*",
        "a named service or account principal",
      );
    return pass({ "assumeRolePolicy.Statement[].Principal": statements.map((statement) => statement.principals) });
  },
};
