// A rule's enforcement for the tier under review: its per-tier override, else its default.
import type { Enforcement, PolicySettings, RuleMeta } from "./types";

export function enforcementFor(rule: RuleMeta, settings: PolicySettings): Enforcement {
  return rule.enforcementByTier?.[settings.tier] ?? rule.enforcement;
}
