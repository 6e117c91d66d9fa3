// How rules phrase their outcomes: every failure names the resource (type and name) and the
// property, says what it found and what is expected, and carries the deciding values as
// evidence keyed by property path.
import type { Evidence, Outcome, RuleResource, StackRuleResult } from "./types";

/** `aws:rds/instance:Instance "db"`: how messages name a resource. */
export function label(resource: Pick<RuleResource, "type" | "name">): string {
  return `${resource.type} "${resource.name}"`;
}

/** A value as a message shows it: strings quoted, objects as JSON, absent as `not set`. */
export function show(value: unknown): string {
  if (value === undefined || value === null) return "not set";
  return JSON.stringify(value);
}

/** The value at a dotted path (`metadataOptions.httpTokens`, `rules[0].status`). */
export function valueAt(root: unknown, path: string): unknown {
  return path
    .split(/\.|\[(\d+)\]/)
    .filter((part) => part !== undefined && part !== "")
    .reduce<unknown>(
      (value, key) =>
        value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined,
      root,
    );
}

export function pass(evidence: Evidence): Outcome {
  return { status: "pass", evidence };
}

export function notApplicable(reason: string): Outcome {
  return { status: "not-applicable", reason };
}

/** A failure about one property: `<resource>: <path> is <actual>; expected <expected>`. */
export function failProperty(
  resource: Pick<RuleResource, "type" | "name">,
  path: string,
  actual: unknown,
  expected: string,
  evidence: Evidence = {},
): Outcome {
  return {
    status: "fail",
    message: `${label(resource)}: ${path} is ${show(actual)}; expected ${expected}`,
    evidence: { [path]: actual, ...evidence },
  };
}

/** A failure stated in the rule's own words, still naming the resource and the property. */
export function fail(resource: Pick<RuleResource, "type" | "name">, finding: string, evidence: Evidence): Outcome {
  return { status: "fail", message: `${label(resource)}: ${finding}`, evidence };
}

/** Passes when `test` holds for the value at `path`, else fails naming it. */
export function expectProperty(
  resource: RuleResource,
  path: string,
  test: (value: any) => boolean,
  expected: string,
): Outcome {
  const value = valueAt(resource.props, path);
  return test(value) ? pass({ [path]: value }) : failProperty(resource, path, value, expected);
}

/** A stack rule's result for one resource. */
export function resultFor(resource: RuleResource, outcome: Outcome): StackRuleResult {
  return { urn: resource.urn, outcome };
}

/** The first failure among several checks of one resource, else a pass carrying all their evidence. */
export function all(outcomes: Outcome[]): Outcome {
  const failed = outcomes.find((outcome) => outcome.status === "fail");
  if (failed) return failed;
  const passed = outcomes.filter(
    (outcome): outcome is Extract<Outcome, { status: "pass" }> => outcome.status === "pass",
  );
  if (passed.length === 0) return outcomes[0] ?? notApplicable("nothing to check");
  return pass(Object.assign({}, ...passed.map((outcome) => outcome.evidence)));
}

/** Prefixes each evidence key, for checks of a nested item (`ebsBlockDevices[1].`). */
export function prefixed(prefix: string, outcome: Outcome): Outcome {
  if (outcome.status === "not-applicable") return outcome;
  const evidence = Object.fromEntries(
    Object.entries(outcome.evidence).map(([key, value]) => [`${prefix}${key}`, value]),
  );
  return { ...outcome, evidence };
}

export const isTrue = (value: unknown): boolean => value === true || value === "true";
export const isSet = (value: unknown): boolean =>
  typeof value === "string" ? value.trim() !== "" : value !== undefined && value !== null;
export const asArray = <V>(value: V | V[] | undefined | null): V[] =>
  value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
