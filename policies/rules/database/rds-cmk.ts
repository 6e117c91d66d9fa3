import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { expectProperty, isTrue, notApplicable } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const rdsCmk: ResourceRule = {
  kind: "resource",
  id: "rds-cmk",
  area: "database",
  description:
    "Encrypted RDS storage uses the stack's customer managed KMS key, not the AWS managed aws/rds key, " +
    "so key use is logged and access to it is governed by the stack's key policy.",
  citations: citeInferred(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Set kmsKeyId to the stack's data key ARN " +
    "(changing the key of an existing instance needs a snapshot copy and restore).",
  resourceTypes: [AwsType.rdsInstance],
  evaluate(resource) {
    if (!isTrue(resource.props.storageEncrypted))
      return notApplicable("storage is not encrypted (rds-storage-encrypted reports it)");
    return expectProperty(resource, "kmsKeyId", isCustomerKey, "a customer managed KMS key ARN");
  },
};
