import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const snsKms: ResourceRule = {
  kind: "resource",
  id: "sns-kms",
  area: "monitoring",
  description:
    "SNS topics (the alert topic) are encrypted with a customer managed KMS key; " +
    "the AWS managed aws/sns key would also stop CloudWatch from publishing alarms to it.",
  citations: cite(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set kmsMasterKeyId to the stack's alerts key, whose policy lets cloudwatch.amazonaws.com use it.",
  resourceTypes: [AwsType.snsTopic],
  evaluate: (resource) => expectProperty(resource, "kmsMasterKeyId", isCustomerKey, "a customer managed KMS key"),
};
