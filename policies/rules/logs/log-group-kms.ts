import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const logGroupKms: ResourceRule = {
  kind: "resource",
  id: "log-group-kms",
  area: "logs",
  description:
    "CloudWatch Logs groups are encrypted with a customer managed KMS key (logs may hold PHI: URLs, queries, errors).",
  citations: cite(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set kmsKeyId to the stack's logs key ARN; the key policy must allow logs.<region>.amazonaws.com.",
  resourceTypes: [AwsType.logGroup],
  evaluate: (resource) => expectProperty(resource, "kmsKeyId", isCustomerKey, "a customer managed KMS key ARN"),
};
