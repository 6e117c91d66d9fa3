import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { failProperty, notApplicable, pass } from "../outcomes";
import { statementPath, statementsOf } from "../documents";

export const kmsPolicyNoWildcard: ResourceRule = {
  kind: "resource",
  id: "kms-policy-no-wildcard",
  area: "keys",
  description:
    'No key policy statement allows a bare "*" principal (everyone, any account) without a condition that narrows it.',
  citations: citeInferred("164.312(a)(1)"),
  severity: "critical",
  enforcement: "mandatory",
  remediation:
    'Name the principals (the account root, service principals) instead of "*", ' +
    "or add conditions such as kms:CallerAccount and kms:ViaService.",
  resourceTypes: [AwsType.kmsKey],
  evaluate(resource) {
    if (resource.props.policy === undefined) return notApplicable("uses the default key policy (the account only)");
    const statements = statementsOf(resource.props.policy);
    const open = statements.find(
      (statement) => statement.effect === "Allow" && statement.principals.includes("*") && !statement.condition,
    );
    if (open)
      return failProperty(
        resource,
        `${statementPath("policy", open)}.Principal`,
        "*",
        "named principals, or a condition narrowing the wildcard",
      );
    return pass({ "policy.Statement[].Principal": statements.map((statement) => statement.principals) });
  },
};
