import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { all, fail, failProperty, pass } from "../outcomes";
import { statementPath, statementsOf, wildcardMatches, type Statement } from "../documents";

/** Actions that manage a key: who may use it, whether it works, whether it exists. */
const ADMIN_ACTIONS = [
  "kms:PutKeyPolicy",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:DisableKey",
  "kms:EnableKey",
  "kms:DisableKeyRotation",
  "kms:UpdateKeyDescription",
  "kms:TagResource",
];
/** Actions that use a key: its cryptographic operations, and grants (which hand them on). */
const USE_ACTIONS = [
  "kms:Decrypt",
  "kms:Encrypt",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:GenerateDataKeyPair",
  "kms:Sign",
  "kms:GenerateMac",
  "kms:CreateGrant",
];

const allows = (statement: Statement, candidates: string[]) =>
  candidates.filter((action) => statement.actions.some((pattern) => wildcardMatches(pattern, action)));

export const kmsKeyAdminSeparated: ResourceRule = {
  kind: "resource",
  id: "kms-key-admin-separated",
  area: "keys",
  description:
    "Each key policy keeps administering the key apart from using it: no statement allows both an administrative " +
    "action (kms:PutKeyPolicy, kms:ScheduleKeyDeletion, ...) and a cryptographic one (kms:Decrypt, kms:Sign, ...), " +
    'as "kms:*" does; ' +
    "a named principal (the account, or an admin role) administers it, and no AWS service may.",
  citations: citeInferred(...sections.IAM),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Write the key policy as infra/components/keys.ts does (keyOwnerStatements): a KeyAdministration statement " +
    "for the account root or openemr:keyAdminRoleArn with the administrative actions only, and separate " +
    "statements for use (through IAM, through grants for AWS resources, and each service's own).",
  resourceTypes: [AwsType.kmsKey],
  evaluate(resource) {
    if (resource.props.policy === undefined)
      return failProperty(resource, "policy", undefined, "a key policy (AWS's default gives the account kms:*)");
    const statements = statementsOf(resource.props.policy).filter((statement) => statement.effect === "Allow");
    const checks = statements.map((statement) => {
      const admin = allows(statement, ADMIN_ACTIONS);
      const use = allows(statement, USE_ACTIONS);
      const path = `${statementPath("policy", statement)}.Action`;
      if (admin.length > 0 && use.length > 0)
        return failProperty(
          resource,
          path,
          statement.actions,
          `administrative actions (${admin[0]}) and use (${use[0]}) in separate statements`,
        );
      if (admin.length > 0 && statement.services.length > 0)
        return failProperty(resource, path, statement.actions, `no administrative action for ${statement.services[0]}`);
      return pass({ [path]: statement.actions });
    });
    const administrators = statements.filter(
      (statement) =>
        statement.services.length === 0 && allows(statement, ["kms:PutKeyPolicy"]).length > 0 && !statement.condition,
    );
    if (administrators.length === 0)
      checks.push(
        fail(resource, "policy names no principal allowed kms:PutKeyPolicy; expected a key administrator", {
          "policy.Statement[].Principal": statements.map((statement) => statement.principals),
        }),
      );
    return all(checks);
  },
};
