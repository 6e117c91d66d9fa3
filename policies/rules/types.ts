// The shape of a policy rule. Rules are pure functions of declared resources: no I/O, no
// Pulumi runtime, so the same rule runs in the Pulumi policy pack, in the offline audit and
// in tests.

export type Severity = "critical" | "high" | "medium" | "low";

/** `mandatory` fails the preview and the audit; `advisory` is reported only. */
export type Enforcement = "mandatory" | "advisory";

export interface Citation {
  /** A 45 CFR section, e.g. `164.312(a)(2)(iv)`. */
  section: string;
  /** True when the mapping was inferred rather than taken from a published HIPAA mapping. */
  inferred: boolean;
}

export interface RuleMeta {
  /** Stable identifier, kebab-case, e.g. `rds-storage-encrypted`. Never reused. */
  id: string;
  /** Area, for grouping: network, compute, database, backup, storage, keys, logs, ... */
  area: string;
  /** One sentence: what the rule asserts. */
  description: string;
  citations: Citation[];
  severity: Severity;
  enforcement: Enforcement;
  /** What to change when the rule fails. */
  remediation: string;
  /** Enforcement for particular tiers (`settings.tier`), overriding `enforcement` there. */
  enforcementByTier?: Partial<Record<string, Enforcement>>;
  /**
   * Enforcement once the stack declares what the rule checks (it opted in, e.g. a copy region):
   * a control the stack chose must then be whole. Overrides `enforcement`, not a tier's override.
   */
  enforcementWhenDeclared?: {
    enforcement: Enforcement;
    /** What counts as declared, for the catalog: "the stack declares ...". */
    what: string;
    declared(resources: RuleResource[]): boolean;
  };
}

/** A declared resource as a rule sees it: inputs with secrets unwrapped. */
export interface RuleResource {
  urn: string;
  type: string;
  name: string;
  props: Record<string, any>;
  /**
   * The resource's state (inputs plus the values the provider computes, such as `id` and
   * `arn`), when known. Stack rules receive it as `props`, as the engine gives stack
   * policies outputs: that is how they join a bucket to its separate versioning resource.
   */
  outputs?: Record<string, any>;
  /** The provider the resource was declared with (its `defaultTags`, region, ...), when known. */
  provider?: { urn: string; type: string; name: string; props: Record<string, any> };
}

/** The property values that decided an outcome, keyed by property path. */
export type Evidence = Record<string, unknown>;

export type Outcome =
  | { status: "pass"; evidence: Evidence }
  | { status: "fail"; message: string; evidence: Evidence }
  | { status: "not-applicable"; reason: string };

/** Settings a rule may read; every one has a safe default in the pack's config. */
export interface PolicySettings {
  /** Minimum retention of CloudWatch log groups, in days. */
  minLogRetentionDays: number;
  /** Minimum retention of automated and plan backups, in days. */
  minBackupRetentionDays: number;
  /** Longest allowed rotation period of database secrets, in days. */
  maxSecretRotationDays: number;
  /** Ports that may be open to the world, and only on the load balancer's group. */
  worldOpenPorts: number[];
  /** Tag key and value that mark PHI-bearing resources. */
  dataClassificationTag: { key: string; value: string };
  /** The deployment tier, for rules whose enforcement depends on it (e.g. Multi-AZ on `ha`). */
  tier: string;
}

export interface RuleContext {
  settings: PolicySettings;
}

export interface ResourceRule extends RuleMeta {
  kind: "resource";
  /** Pulumi type tokens the rule applies to, e.g. `aws:rds/instance:Instance`. */
  resourceTypes: string[];
  evaluate(resource: RuleResource, context: RuleContext): Outcome;
}

export interface StackRuleResult {
  /** The resource the outcome is about. */
  urn: string;
  outcome: Outcome;
}

export interface StackRule extends RuleMeta {
  kind: "stack";
  /** Sees every declared resource; joins related ones itself (e.g. a bucket and its policy). */
  evaluate(resources: RuleResource[], context: RuleContext): StackRuleResult[];
}

export type Rule = ResourceRule | StackRule;
