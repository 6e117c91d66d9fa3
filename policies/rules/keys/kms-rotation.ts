import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { expectProperty, isTrue, notApplicable } from "../outcomes";

export const kmsRotation: ResourceRule = {
  kind: "resource",
  id: "kms-rotation",
  area: "keys",
  description: "Customer managed KMS keys rotate their key material automatically.",
  citations: citeInferred(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set enableKeyRotation: true (yearly by default; rotationPeriodInDays may shorten it).",
  resourceTypes: [AwsType.kmsKey],
  // AWS rotates symmetric encryption keys only; a signing key is replaced, not rotated.
  evaluate: (resource) =>
    resource.props.keyUsage === "SIGN_VERIFY"
      ? notApplicable("an asymmetric signing key: AWS does not rotate those")
      : expectProperty(resource, "enableKeyRotation", isTrue, "true"),
};
