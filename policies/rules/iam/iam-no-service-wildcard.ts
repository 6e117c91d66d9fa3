import type { ResourceRule } from "../types";
import { cite, sections } from "../citations";
import { checkAllowStatements, identityPolicyTypes } from "./identity-documents";

const SERVICE_WILDCARD = /^[A-Za-z0-9-]+:\*$/;

export const iamNoServiceWildcard: ResourceRule = {
  kind: "resource",
  id: "iam-no-service-wildcard",
  area: "iam",
  description: 'No identity policy allows every action of a service ("s3:*", "kms:*").',
  citations: cite(...sections.IAM),
  severity: "high",
  enforcement: "mandatory",
  remediation: 'List the actions the role needs (e.g. "s3:GetObject", "s3:PutObject") instead of "service:*".',
  resourceTypes: identityPolicyTypes,
  evaluate: (resource) =>
    checkAllowStatements(resource, (statement) => {
      const action = statement.actions.find((candidate) => SERVICE_WILDCARD.test(candidate));
      return action ? { property: "Action", value: action, expected: "named actions, not a whole service" } : undefined;
    }),
};
