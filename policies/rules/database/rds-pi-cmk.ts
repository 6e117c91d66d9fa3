import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { expectProperty, isTrue, notApplicable } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const rdsPiCmk: ResourceRule = {
  kind: "resource",
  id: "rds-pi-cmk",
  area: "database",
  description:
    "Performance Insights, when on, encrypts its data (which includes SQL text) with the stack's customer managed key.",
  citations: citeInferred(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Set performanceInsightsKmsKeyId to the stack's data key ARN " +
    "(it can only be set when Performance Insights is first enabled).",
  resourceTypes: [AwsType.rdsInstance],
  evaluate(resource) {
    if (!isTrue(resource.props.performanceInsightsEnabled)) return notApplicable("Performance Insights is off");
    return expectProperty(resource, "performanceInsightsKmsKeyId", isCustomerKey, "a customer managed KMS key ARN");
  },
};
