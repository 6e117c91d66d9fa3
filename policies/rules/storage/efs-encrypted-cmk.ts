import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { failProperty, isTrue, pass } from "../outcomes";
import { isCustomerKey } from "../keys/customer-key";

export const efsEncryptedCmk: ResourceRule = {
  kind: "resource",
  id: "efs-encrypted-cmk",
  area: "storage",
  description:
    "EFS file systems (the `ha` tier's shared `sites/`) are encrypted at rest with a customer managed KMS key.",
  citations: citeInferred(...sections.ENC),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Set encrypted: true and kmsKeyId to the stack's data key on the aws.efs.FileSystem (EFS encrypts only at " +
    "creation: a new file system and a copy of the data).",
  resourceTypes: [AwsType.efsFileSystem],
  evaluate(resource) {
    const { encrypted, kmsKeyId } = resource.props;
    if (!isTrue(encrypted)) return failProperty(resource, "encrypted", encrypted, "true");
    if (!isCustomerKey(kmsKeyId)) return failProperty(resource, "kmsKeyId", kmsKeyId, "a customer managed KMS key");
    return pass({ encrypted, kmsKeyId });
  },
};
