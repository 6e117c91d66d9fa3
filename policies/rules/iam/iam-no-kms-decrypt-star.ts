import type { ResourceRule } from "../types";
import { citeInferred, sections } from "../citations";
import { wildcardMatches } from "../documents";
import { checkAllowStatements, identityPolicyTypes } from "./identity-documents";

export const iamNoKmsDecryptStar: ResourceRule = {
  kind: "resource",
  id: "iam-no-kms-decrypt-star",
  area: "iam",
  description:
    "No identity policy allows kms:Decrypt on every key " +
    '(Resource "*"): a principal decrypts only with the keys it needs.',
  citations: citeInferred(...sections.IAM),
  severity: "high",
  enforcement: "mandatory",
  remediation: "Set Resource to the ARNs of the keys the principal must use (e.g. the data key).",
  resourceTypes: identityPolicyTypes,
  evaluate: (resource) =>
    checkAllowStatements(resource, (statement) =>
      statement.resources.includes("*") && statement.actions.some((action) => wildcardMatches(action, "kms:Decrypt"))
        ? { property: "Resource", value: "*", expected: "key ARNs for kms:Decrypt" }
        : undefined,
    ),
};
