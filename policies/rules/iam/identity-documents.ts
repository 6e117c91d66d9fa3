// The identity policy documents a resource declares (a managed policy, an inline role/user/
// group policy, a role's inlinePolicies), and the shared check of their Allow statements.
import type { Outcome, RuleResource } from "../types";
import { AwsType } from "../resource-types";
import { asArray, failProperty, notApplicable, pass } from "../outcomes";
import { statementPath, statementsOf, type Statement } from "../documents";

export const identityPolicyTypes: string[] = [
  AwsType.policy,
  AwsType.rolePolicy,
  AwsType.userPolicy,
  AwsType.groupPolicy,
  AwsType.role,
];

export function identityDocuments(resource: RuleResource): { property: string; document: unknown }[] {
  if (resource.type === AwsType.role)
    return asArray<any>(resource.props.inlinePolicies).map((policy, index) => ({
      property: `inlinePolicies[${index}].policy`,
      document: policy?.policy,
    }));
  return resource.props.policy === undefined ? [] : [{ property: "policy", document: resource.props.policy }];
}

/**
 * Fails on the first Allow statement for which `finding` returns a description (which action,
 * on which resource), naming the statement's path; passes with the statements' actions otherwise.
 */
export function checkAllowStatements(
  resource: RuleResource,
  finding: (statement: Statement) => { property: "Action" | "Resource"; value: unknown; expected: string } | undefined,
): Outcome {
  const documents = identityDocuments(resource);
  if (documents.length === 0) return notApplicable("declares no identity policy document");
  for (const { property, document } of documents) {
    for (const statement of statementsOf(document)) {
      if (statement.effect !== "Allow") continue;
      const found = finding(statement);
      if (found)
        return failProperty(
          resource,
          `${statementPath(property, statement)}.${found.property}`,
          found.value,
          found.expected,
        );
    }
  }
  return pass(
    Object.fromEntries(
      documents.flatMap(({ property, document }) =>
        statementsOf(document).map((statement) => [`${statementPath(property, statement)}.Action`, statement.actions]),
      ),
    ),
  );
}
