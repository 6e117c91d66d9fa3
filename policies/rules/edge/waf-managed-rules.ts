import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { asArray, fail, failProperty, pass } from "../outcomes";

/** AWS managed rule groups every web ACL of the stack must run, blocking (not counting). */
export const REQUIRED_MANAGED_GROUPS = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"];

export const wafManagedRules: ResourceRule = {
  kind: "resource",
  id: "waf-managed-rules",
  area: "edge",
  description:
    `WAF web ACLs run the AWS managed rule groups ${REQUIRED_MANAGED_GROUPS.join(" and ")}, ` +
    "in block mode (override action none, not count).",
  citations: citeInferred("164.308(a)(5)(ii)(B)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    'Add rules with statement.managedRuleGroupStatement { vendorName: "AWS", name } ' +
    "for each group and overrideAction { none: {} }.",
  resourceTypes: [AwsType.webAcl],
  evaluate(resource) {
    const rules = asArray<any>(resource.props.rules);
    const managed = rules
      .map((rule, index) => ({ index, rule, group: rule?.statement?.managedRuleGroupStatement }))
      .filter(({ group }) => group?.vendorName === "AWS");
    const missing = REQUIRED_MANAGED_GROUPS.filter((name) => !managed.some(({ group }) => group.name === name));
    if (missing.length > 0) {
      return fail(
        resource,
        `rules[].statement.managedRuleGroupStatement.name lacks ${missing.map((name) => `"${name}"`).join(", ")}; ` +
          `expected the AWS managed groups ${REQUIRED_MANAGED_GROUPS.join(", ")}`,
        {
          "rules[].statement.managedRuleGroupStatement.name": managed.map(({ group }) => group.name),
        },
      );
    }
    const counting = managed.find(
      ({ group, rule }) => REQUIRED_MANAGED_GROUPS.includes(group.name) && rule.overrideAction?.count !== undefined,
    );
    if (counting)
      return failProperty(
        resource,
        `rules[${counting.index}].overrideAction`,
        counting.rule.overrideAction,
        "{ none: {} } (block), not count",
      );
    return pass({ "rules[].statement.managedRuleGroupStatement.name": managed.map(({ group }) => group.name) });
  },
};
