import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const rdsStorageEncrypted: ResourceRule = {
  kind: "resource",
  id: "rds-storage-encrypted",
  area: "database",
  description: "RDS instances encrypt their storage, automated backups and snapshots.",
  citations: cite(...sections.ENC),
  severity: "critical",
  enforcement: "mandatory",
  remediation: "Set storageEncrypted: true (an existing instance must be restored from an encrypted snapshot copy).",
  resourceTypes: [AwsType.rdsInstance],
  evaluate: (resource) => expectProperty(resource, "storageEncrypted", isTrue, "true"),
};
