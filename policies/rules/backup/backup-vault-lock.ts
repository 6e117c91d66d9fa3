import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { asArray, fail, failProperty, pass, resultFor } from "../outcomes";
import { ofType, referencing, refersTo } from "../joins";

/** AWS Backup's shortest grace time before a vault lock becomes immutable (compliance mode). */
const MIN_CHANGEABLE_DAYS = 3;

/** The retention (days) of every plan rule and copy action that writes into `vault`. */
function retentionsInto(resources: RuleResource[], vault: RuleResource): { at: string; days: unknown }[] {
  return ofType(resources, AwsType.backupPlan).flatMap((plan) =>
    asArray<any>(plan.props.rules).flatMap((rule, index) => [
      ...(refersTo(rule?.targetVaultName, vault)
        ? [{ at: `${plan.name}.rules[${index}].lifecycle.deleteAfter`, days: rule?.lifecycle?.deleteAfter }]
        : []),
      ...asArray<any>(rule?.copyActions)
        .map((copy, copyIndex) => ({ copy, copyIndex }))
        .filter(({ copy }) => refersTo(copy?.destinationVaultArn, vault))
        .map(({ copy, copyIndex }) => ({
          at: `${plan.name}.rules[${index}].copyActions[${copyIndex}].lifecycle.deleteAfter`,
          days: copy?.lifecycle?.deleteAfter,
        })),
    ]),
  );
}

export const backupVaultLock: StackRule = {
  kind: "stack",
  id: "backup-vault-lock",
  area: "backup",
  description:
    "Every AWS Backup vault has a Vault Lock in compliance mode (changeableForDays set) whose minimum retention " +
    "is at least the minimum backup retention (setting minBackupRetentionDays) and whose bounds hold the " +
    "retention of every plan rule and copy action writing into it (AWS Backup fails jobs outside them). " +
    "Advisory while the stack locks no vault (openemr:backupVaultLock is off by default); mandatory once it " +
    "locks one.",
  citations: citeInferred(...sections.BAK, "164.312(c)(1)"),
  severity: "medium",
  enforcement: "advisory",
  enforcementWhenDeclared: {
    enforcement: "mandatory",
    what: "an aws.backup.VaultLockConfiguration",
    declared: (resources) => ofType(resources, AwsType.backupVaultLock).length > 0,
  },
  remediation:
    "Set openemr:backupVaultLock, or declare an aws.backup.VaultLockConfiguration for the vault with " +
    "minRetentionDays <= each rule's deleteAfter <= maxRetentionDays and changeableForDays >= 3.",
  evaluate(resources, { settings }) {
    return ofType(resources, AwsType.backupVault).map((vault) => {
      const lock = referencing(resources, vault, "backupVaultName", AwsType.backupVaultLock)[0];
      if (!lock)
        return resultFor(
          vault,
          fail(
            vault,
            `no ${AwsType.backupVaultLock} has backupVaultName set to it; expected a vault lock ` +
              "(recovery points cannot then be deleted early, by anyone)",
            { vaultLock: null },
          ),
        );
      const { minRetentionDays, maxRetentionDays, changeableForDays } = lock.props;
      if (!(Number(changeableForDays) >= MIN_CHANGEABLE_DAYS))
        return resultFor(
          vault,
          failProperty(
            lock,
            "changeableForDays",
            changeableForDays,
            `at least ${MIN_CHANGEABLE_DAYS} (compliance mode)`,
          ),
        );
      if (!(Number(minRetentionDays) >= settings.minBackupRetentionDays))
        return resultFor(
          vault,
          failProperty(lock, "minRetentionDays", minRetentionDays, `at least ${settings.minBackupRetentionDays}`),
        );
      const retentions = retentionsInto(resources, vault);
      const outside = retentions.find(
        ({ days }) =>
          !(Number(days) >= Number(minRetentionDays)) ||
          (maxRetentionDays !== undefined && !(Number(days) <= Number(maxRetentionDays))),
      );
      if (outside)
        return resultFor(
          vault,
          fail(
            lock,
            `${outside.at} is ${JSON.stringify(outside.days ?? null)}, outside the lock's ` +
              `${minRetentionDays} to ${maxRetentionDays ?? "any"} days; expected a retention the lock accepts`,
            { [outside.at]: outside.days ?? null, minRetentionDays, maxRetentionDays: maxRetentionDays ?? null },
          ),
        );
      return resultFor(
        vault,
        pass({ minRetentionDays, maxRetentionDays: maxRetentionDays ?? null, changeableForDays, lock: lock.name }),
      );
    });
  },
};
