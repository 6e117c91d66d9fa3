import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue, notApplicable } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const secretCmk: ResourceRule = {
  kind: "resource",
  id: "secret-cmk",
  area: "secrets",
  description:
    "Secrets Manager secrets, the RDS-managed master secret included, are encrypted with a customer managed KMS key.",
  citations: cite(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Set kmsKeyId on aws.secretsmanager.Secret (masterUserSecretKmsKeyId on " +
    "an RDS instance with manageMasterUserPassword) to the stack's data key.",
  resourceTypes: [AwsType.secret, AwsType.rdsInstance],
  evaluate(resource) {
    if (resource.type === AwsType.rdsInstance) {
      if (!isTrue(resource.props.manageMasterUserPassword))
        return notApplicable("RDS does not manage a master secret for it");
      return expectProperty(resource, "masterUserSecretKmsKeyId", isCustomerKey, "a customer managed KMS key ARN");
    }
    return expectProperty(resource, "kmsKeyId", isCustomerKey, "a customer managed KMS key ARN");
  },
};
