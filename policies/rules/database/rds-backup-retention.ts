import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty } from "../outcomes";

export const rdsBackupRetention: ResourceRule = {
  kind: "resource",
  id: "rds-backup-retention",
  area: "database",
  description:
    "RDS automated backups are kept at least the minimum retention (setting minBackupRetentionDays, default 7 days).",
  citations: cite(...sections.BAK),
  severity: "high",
  enforcement: "mandatory",
  remediation: "Set backupRetentionPeriod to at least the minimum (up to 35 days).",
  resourceTypes: [AwsType.rdsInstance],
  evaluate: (resource, { settings }) =>
    expectProperty(
      resource,
      "backupRetentionPeriod",
      (value) => Number(value) >= settings.minBackupRetentionDays,
      `at least ${settings.minBackupRetentionDays} (days)`,
    ),
};
