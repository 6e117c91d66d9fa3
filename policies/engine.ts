// Runs rules the way the Pulumi policy engine runs them, over resources captured by the
// offline plan: resource rules only on resources of their types, stack rules over every
// resource, unknown values reported instead of guessed, waivers and enforcement applied.
// The pack (policies/index.ts) maps the same rules onto @pulumi/policy through `toPolicies`.
import type { Enforcement, Outcome, PolicySettings, Rule, RuleContext, RuleResource } from "./rules/types";
import type { OfflineRun } from "../infra/offline/run";
import type { EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy, PolicyResource } from "@pulumi/policy";
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import { defaultSettings, settingsConfigSchema, settingsFromConfig } from "./settings";
import { enforcementFor } from "./rules/enforcement";
import { findWaiver, waiverConfigSchema, waiversFromConfig, type Waiver } from "./waivers";

export { defaultSettings };
export type { Waiver };

/** What one rule concluded about one resource, after waivers and enforcement. */
export type EvaluationStatus = "pass" | "fail" | "waived" | "not-applicable" | "unknown";

export interface Evaluation {
  rule: Rule;
  urn: string;
  resourceName: string;
  resourceType: string;
  /** The rule's own outcome; for `unknown`, a not-applicable outcome whose reason names the unknown value. */
  outcome: Outcome;
  /** The waiver that turned a failure into `waived`. */
  waiver?: Waiver;
  status: EvaluationStatus;
  /** The rule's enforcement after pack configuration. */
  enforcement: Enforcement;
  /** True when this evaluation fails the preview or the audit: a mandatory, unwaived failure. */
  blocking: boolean;
}

export interface EvaluateOptions {
  settings?: Partial<PolicySettings>;
  waivers?: Waiver[];
  /** Per-rule enforcement overrides (the pack config's `enforcementLevel`); `disabled` skips the rule. */
  enforcement?: Record<string, Enforcement | "disabled">;
  /** The day waiver expiry is judged against (default: today). */
  now?: Date;
}

/**
 * The resources a rule sees: custom resources (cloud resources and providers, as the engine
 * passes them), inputs with secrets already unwrapped by the capture, provider joined.
 */
export function toRuleResources(run: OfflineRun): RuleResource[] {
  const custom = run.resources.filter((resource) => resource.custom);
  const byUrn = new Map(custom.map((resource) => [resource.urn, resource]));
  return custom.map((resource) => {
    const ruleResource: RuleResource = {
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      props: resource.inputs,
      outputs: resource.state,
    };
    const provider = resource.provider ? byUrn.get(providerUrn(resource.provider)) : undefined;
    if (provider)
      ruleResource.provider = { urn: provider.urn, type: provider.type, name: provider.name, props: provider.inputs };
    return ruleResource;
  });
}

/** A provider reference is `<provider urn>::<provider id>`; URNs contain `::` themselves. */
function providerUrn(reference: string): string {
  const separator = reference.lastIndexOf("::");
  return separator < 0 ? reference : reference.slice(0, separator);
}

/** The resource name a URN ends with (`urn:pulumi:stack::project::type::name`). */
export function nameFromUrn(urn: string): string {
  const separator = urn.lastIndexOf("::");
  return separator < 0 ? urn : urn.slice(separator + 2);
}

function typeFromUrn(urn: string): string {
  const parts = urn.split("::");
  const typeChain = parts.length >= 4 ? parts[parts.length - 2] : "";
  return typeChain.split("$").pop() ?? "";
}

/** A resource as the engine hands it to a resource rule: inputs, and reading an unknown value throws. */
function asResourceRuleSees(resource: RuleResource): RuleResource {
  return { ...resource, props: unknownCheckingProxy(resource.props) };
}

/** A resource as the engine hands it to a stack rule: its outputs (state) where known. */
function asStackRuleSees(resource: RuleResource): RuleResource {
  return { ...resource, props: unknownCheckingProxy(resource.outputs ?? resource.props) };
}

function unknownOutcome(error: UnknownValueError): Outcome {
  return { status: "not-applicable", reason: `cannot be decided before deployment: the ${error.message}` };
}

function runRule<T>(rule: Rule, subject: string, evaluateRule: () => T, onUnknown: (error: UnknownValueError) => T): T {
  try {
    return evaluateRule();
  } catch (error) {
    if (error instanceof UnknownValueError) return onUnknown(error);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`rule ${rule.id} failed while evaluating ${subject}: ${reason}`, { cause: error });
  }
}

/** Evaluates `rules` over `resources`. Rules disabled by `options.enforcement` are skipped. */
export function evaluate(rules: Rule[], resources: RuleResource[], options: EvaluateOptions = {}): Evaluation[] {
  const context: RuleContext = { settings: { ...defaultSettings, ...options.settings } };
  const waivers = options.waivers ?? [];
  const now = options.now ?? new Date();
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const evaluations: Evaluation[] = [];

  for (const rule of rules) {
    const level = options.enforcement?.[rule.id] ?? enforcementFor(rule, context.settings, resources);
    if (level === "disabled") continue;
    const record = (urn: string, outcome: Outcome, unknown: boolean) => {
      const resource = byUrn.get(urn);
      const resourceName = resource?.name ?? (urn ? nameFromUrn(urn) : "(stack)");
      const waiver = outcome.status === "fail" ? findWaiver(waivers, rule.id, resourceName, urn, now) : undefined;
      const status: EvaluationStatus = unknown ? "unknown" : waiver ? "waived" : outcome.status;
      const evaluation: Evaluation = {
        rule,
        urn,
        resourceName,
        resourceType: resource?.type ?? typeFromUrn(urn),
        outcome,
        status,
        enforcement: level,
        blocking: status === "fail" && level === "mandatory",
      };
      if (waiver) evaluation.waiver = waiver;
      evaluations.push(evaluation);
    };

    if (rule.kind === "resource") {
      for (const resource of resources) {
        if (!rule.resourceTypes.includes(resource.type)) continue;
        const result = runRule<{ outcome: Outcome; unknown: boolean }>(
          rule,
          resource.urn,
          () => ({ outcome: rule.evaluate(asResourceRuleSees(resource), context), unknown: false }),
          (error) => ({ outcome: unknownOutcome(error), unknown: true }),
        );
        record(resource.urn, result.outcome, result.unknown);
      }
    } else {
      const results = runRule<{ urn: string; outcome: Outcome; unknown: boolean }[]>(
        rule,
        "the stack",
        () => rule.evaluate(resources.map(asStackRuleSees), context).map((result) => ({ ...result, unknown: false })),
        // As in the engine, one unknown value makes the whole stack check undecidable.
        (error) => [{ urn: "", outcome: unknownOutcome(error), unknown: true }],
      );
      for (const result of results) record(result.urn, result.outcome, result.unknown);
    }
  }
  return evaluations;
}

/** True when any evaluation fails a mandatory rule without a valid waiver. */
export function hasBlockingFailures(evaluations: Evaluation[]): boolean {
  return evaluations.some((evaluation) => evaluation.blocking);
}

function violationMessage(outcome: Outcome, rule: Rule): string {
  return outcome.status === "fail" ? `${outcome.message} Remediation: ${rule.remediation}` : "";
}

function policyMetadata(rule: Rule) {
  return {
    name: rule.id,
    description: rule.description,
    // A policy's level is fixed when the pack loads: the default tier's. A stricter tier's
    // level is set in the pack config (`"<rule>": "mandatory"`); the audit applies it itself.
    enforcementLevel: enforcementFor(rule, defaultSettings) as EnforcementLevel,
    severity: rule.severity,
    remediationSteps: rule.remediation,
    tags: [
      rule.area,
      ...rule.citations.map((citation) => `45 CFR ${citation.section}${citation.inferred ? " (inferred)" : ""}`),
    ],
    framework: {
      name: "HIPAA Security Rule",
      version: "45 CFR Part 164 Subpart C",
      reference: "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-C",
      specification: rule.citations.map((citation) => citation.section).join(", "),
    },
    configSchema: {
      properties: { ...settingsConfigSchema(), waivers: waiverConfigSchema() },
    },
  };
}

/** The rule's view of a resource the engine passed to a stack policy. */
function fromPolicyResource(resource: PolicyResource): RuleResource {
  const ruleResource: RuleResource = {
    urn: resource.urn,
    type: resource.type,
    name: resource.name,
    props: resource.props,
    outputs: resource.props,
  };
  if (resource.provider) ruleResource.provider = { ...resource.provider };
  return ruleResource;
}

/**
 * The rules as @pulumi/policy policies. Each policy's config carries the settings and that
 * rule's waivers (defaults: `defaultSettings` and the committed waivers file), so a pack
 * config file can tune or waive one rule without code changes.
 */
export function toPolicies(
  rules: Rule[],
  defaultWaivers: Waiver[],
): (ResourceValidationPolicy | StackValidationPolicy)[] {
  return rules.map((rule) => {
    const contextOf = (config: Record<string, unknown>): RuleContext => ({ settings: settingsFromConfig(config) });
    const waiversOf = (config: Record<string, unknown>) => waiversFromConfig(config, rule.id, defaultWaivers);
    if (rule.kind === "resource") {
      const policy: ResourceValidationPolicy = {
        ...policyMetadata(rule),
        validateResource: (args, reportViolation) => {
          if (!rule.resourceTypes.includes(args.type))
            args.notApplicable(`applies to ${rule.resourceTypes.join(", ")} only`);
          const config = args.getConfig<Record<string, unknown>>();
          const resource: RuleResource = { urn: args.urn, type: args.type, name: args.name, props: args.props };
          if (args.provider) resource.provider = { ...args.provider };
          const outcome = rule.evaluate(resource, contextOf(config));
          if (outcome.status === "not-applicable") args.notApplicable(outcome.reason);
          if (outcome.status === "fail" && !findWaiver(waiversOf(config), rule.id, args.name, args.urn, new Date())) {
            reportViolation(violationMessage(outcome, rule));
          }
        },
      };
      return policy;
    }
    const policy: StackValidationPolicy = {
      ...policyMetadata(rule),
      validateStack: (args, reportViolation) => {
        const config = args.getConfig<Record<string, unknown>>();
        const results = rule.evaluate(args.resources.map(fromPolicyResource), contextOf(config));
        if (results.length === 0) args.notApplicable("no resource of the kinds it checks");
        for (const { urn, outcome } of results) {
          if (outcome.status !== "fail") continue;
          if (findWaiver(waiversOf(config), rule.id, nameFromUrn(urn), urn, new Date())) continue;
          reportViolation(violationMessage(outcome, rule), urn || undefined);
        }
      },
    };
    return policy;
  });
}
