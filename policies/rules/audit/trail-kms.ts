import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const trailKms: ResourceRule = {
  kind: "resource",
  id: "trail-kms",
  area: "audit",
  description: "CloudTrail trails encrypt their log files with a customer managed KMS key (SSE-KMS).",
  citations: cite(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set kmsKeyId to the stack's logs key, whose policy lets cloudtrail.amazonaws.com generate data keys.",
  resourceTypes: [AwsType.trail],
  evaluate: (resource) => expectProperty(resource, "kmsKeyId", isCustomerKey, "a customer managed KMS key ARN"),
};
