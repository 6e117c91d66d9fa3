import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { asArray, fail, failProperty, isSet, pass, resultFor } from "../outcomes";
import { ofType, resolve } from "../joins";
import { isCustomerKey } from "../keys/customer-key";

export const backupPlanRetention: StackRule = {
  kind: "stack",
  id: "backup-plan-retention",
  area: "backup",
  description:
    "Every AWS Backup plan rule has a schedule, keeps recovery points at least the minimum retention " +
    "(setting minBackupRetentionDays) and targets a vault the stack declares with a customer managed key.",
  citations: citeInferred(...sections.BAK),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Give each plan rule a schedule, lifecycle.deleteAfter of at least the minimum, " +
    "and a targetVaultName of an aws.backup.Vault with kmsKeyArn set to the data key.",
  evaluate(resources, { settings }) {
    return ofType(resources, AwsType.backupPlan).map((plan) => {
      const rules = asArray<any>(plan.props.rules);
      if (rules.length === 0) return resultFor(plan, failProperty(plan, "rules", rules, "at least one rule"));
      const evidence: Record<string, unknown> = {};
      for (const [index, rule] of rules.entries()) {
        const at = `rules[${index}].`;
        if (!isSet(rule?.schedule))
          return resultFor(plan, failProperty(plan, `${at}schedule`, rule?.schedule, "a schedule expression"));
        const deleteAfter = rule?.lifecycle?.deleteAfter;
        if (!(Number(deleteAfter) >= settings.minBackupRetentionDays))
          return resultFor(
            plan,
            failProperty(
              plan,
              `${at}lifecycle.deleteAfter`,
              deleteAfter,
              `at least ${settings.minBackupRetentionDays} (days)`,
            ),
          );
        const vault = resolve(resources, rule?.targetVaultName, AwsType.backupVault);
        if (!vault)
          return resultFor(
            plan,
            failProperty(plan, `${at}targetVaultName`, rule?.targetVaultName, "a vault declared in the stack"),
          );
        if (!isCustomerKey(vault.props.kmsKeyArn))
          return resultFor(
            plan,
            fail(
              vault,
              `kmsKeyArn is ${JSON.stringify(vault.props.kmsKeyArn ?? null)}; expected a customer managed KMS key`,
              { kmsKeyArn: vault.props.kmsKeyArn ?? null },
            ),
          );
        Object.assign(evidence, {
          [`${at}schedule`]: rule.schedule,
          [`${at}lifecycle.deleteAfter`]: deleteAfter,
          [`${at}targetVaultName`]: rule.targetVaultName,
          "vault.kmsKeyArn": vault.props.kmsKeyArn,
        });
      }
      return resultFor(plan, pass(evidence));
    });
  },
};
