// A rule's enforcement for the stack under review: its per-tier override, else its level once the
// stack declares what it checks (when the rule has one and the resources are given), else its default.
import type { Enforcement, PolicySettings, RuleMeta, RuleResource } from "./types";

export function enforcementFor(rule: RuleMeta, settings: PolicySettings, resources?: RuleResource[]): Enforcement {
  const byTier = rule.enforcementByTier?.[settings.tier];
  if (byTier) return byTier;
  const opted = rule.enforcementWhenDeclared;
  if (opted && resources && opted.declared(resources)) return opted.enforcement;
  return rule.enforcement;
}
