// Runs real resource declarations under the offline mocks, hands them to the rules as the
// engine does, and states what a rule concluded about them.
import { expect } from "vitest";
import { runOffline } from "../../../infra/offline/run";
import { evaluate, toRuleResources, type Evaluation } from "../../../policies/engine";
import type { PolicySettings, Rule, RuleResource } from "../../../policies/rules/types";

/** The resources `program` declares, as rules see them. */
export async function declared(program: () => void): Promise<RuleResource[]> {
  return toRuleResources(await runOffline(program));
}

export function evaluations(
  rule: Rule,
  resources: RuleResource[],
  settings: Partial<PolicySettings> = {},
): Evaluation[] {
  return evaluate([rule], resources, { settings });
}

/** The rule decides at least once and never fails. */
export function expectPasses(
  rule: Rule,
  resources: RuleResource[],
  settings: Partial<PolicySettings> = {},
): Evaluation[] {
  const results = evaluations(rule, resources, settings);
  const failures = results
    .filter((result) => result.status === "fail")
    .map((result) => (result.outcome.status === "fail" ? result.outcome.message : ""));
  expect(failures, `${rule.id} failures`).toEqual([]);
  expect(results.filter((result) => result.status === "pass").length, `${rule.id} passes`).toBeGreaterThan(0);
  return results;
}

/** The rule fails with a message naming the resource (by its quoted name) and the property. */
export function expectFails(
  rule: Rule,
  resources: RuleResource[],
  resourceName: string,
  property: string,
  settings: Partial<PolicySettings> = {},
): string {
  const messages = evaluations(rule, resources, settings).flatMap((result) =>
    result.outcome.status === "fail" ? [result.outcome.message] : [],
  );
  const message = messages.find((candidate) => candidate.includes(`"${resourceName}"`) && candidate.includes(property));
  expect(
    message,
    `${rule.id}: a failure naming "${resourceName}" and ${property}; got ${JSON.stringify(messages)}`,
  ).toBeDefined();
  return message!;
}
