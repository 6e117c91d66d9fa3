// The log groups the host ships, under `<LOG_GROUP_PREFIX>/` (docs/host-interface.md): declared
// by the Host component and read by `openemr-ops logs`, so the two name the same groups. A
// module of its own so the ops tool does not load the Pulumi program to read it.
export const hostLogGroupNames = [
  "apache-access",
  "apache-error",
  "php-fpm",
  "openemr-bootstrap",
  "openemr-backup",
  "system",
  "auditd",
  "ssm-sessions",
] as const;

/**
 * The host's audit records, kept `auditLogRetentionDays` rather than `logRetentionDays`:
 * auditd's log, and what operators typed and saw in Session Manager sessions on the host (its
 * SSM agent writes them, as the stack's session document asks).
 */
export const hostAuditLogGroupNames: ReadonlyArray<(typeof hostLogGroupNames)[number]> = ["auditd", "ssm-sessions"];
