export { inBackupPlan } from "./in-backup-plan";
export { backupPlanRetention } from "./backup-plan-retention";
export { backupVaultLock } from "./backup-vault-lock";
