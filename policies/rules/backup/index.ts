export { inBackupPlan } from "./in-backup-plan";
export { backupPlanRetention } from "./backup-plan-retention";
