export { logGroupKms } from "./log-group-kms";
export { logGroupRetention } from "./log-group-retention";
export { auditLogRetention } from "./audit-log-retention";
