// The audit report's model: what every output format (Markdown, JSON, SARIF, HTML) renders.
// Its JSON form is report.json; the shape is documented in policies/audit/README.md and only
// grows (new optional fields) within one `format` version.
import type { OfflineRun } from "../../infra/offline/run";
import { placeholderValues, REDACTED, redactRun } from "../../infra/plan/report";
import type { Enforcement, Evidence, PolicySettings, Rule, Severity } from "../rules/types";
import { hasBlockingFailures, type Evaluation, type EvaluationStatus } from "../engine";
import { enforcementFor } from "../rules/enforcement";
import { isExpired, type Waiver } from "../waivers";
import { compareSections, controlTitles } from "./controls";
import type { CostSummary } from "../../infra/cost/report";

export const REPORT_FORMAT = "openemr-aws-audit/1";

export interface ReportResult {
  resource: { urn: string; name: string; type: string };
  status: EvaluationStatus;
  /** A mandatory, unwaived failure: fails the audit. */
  blocking: boolean;
  /** The failure message (fail, waived). */
  message?: string;
  /** Why the rule does not apply, or which value is unknown before deployment. */
  reason?: string;
  /** The property values that decided the result. */
  evidence?: Evidence;
  waiver?: { justification: string; approvedBy?: string; expires?: string };
}

export interface ReportRule {
  id: string;
  area: string;
  description: string;
  severity: Severity;
  enforcement: Enforcement;
  citations: { section: string; inferred: boolean }[];
  remediation: string;
  /**
   * fail if any resource fails; else unknown, waived, pass in that order; not-applicable when no
   * resource is in scope.
   */
  status: EvaluationStatus;
  /** A mandatory, unwaived failure among the results: fails the audit. */
  blocking: boolean;
  results: ReportResult[];
}

export interface ReportControl {
  section: string;
  title: string;
  /** True when every rule citing this section cites it as inferred. */
  inferred: boolean;
  status: EvaluationStatus;
  /** A rule citing it fails the audit; false when only advisory rules fail. */
  blocking: boolean;
  rules: { id: string; inferred: boolean; status: EvaluationStatus; blocking: boolean }[];
}

export type StatusCounts = Record<EvaluationStatus, number>;

export interface Report {
  format: typeof REPORT_FORMAT;
  generatedAt: string;
  stack: { project: string; name: string; tier: string; configFile: string | null };
  /** `fail` when any mandatory rule fails on a resource without a valid waiver. */
  result: "pass" | "fail";
  summary: {
    resources: number;
    rules: number;
    /** Rules by their overall status. */
    ruleStatus: StatusCounts;
    /** Rule-resource results by status. */
    resultStatus: StatusCounts;
    blockingFailures: number;
  };
  settings: PolicySettings;
  controls: ReportControl[];
  rules: ReportRule[];
  waivers: (Waiver & { state: "applied" | "unused" | "expired" })[];
  /** The stack's monthly estimate (infra/cost), when the audit computed one. */
  cost?: CostSummary;
  /**
   * Values in the results that the offline plan made up (account id, instance ids, host names),
   * each with what it stands for; a string that is or contains one holds a placeholder.
   */
  placeholders?: Record<string, string>;
}

export interface ReportInput {
  run: OfflineRun;
  rules: Rule[];
  evaluations: Evaluation[];
  settings: PolicySettings;
  waivers: Waiver[];
  tier: string;
  configFile: string | null;
  now: Date;
  cost?: CostSummary;
}

const STATUSES: EvaluationStatus[] = ["fail", "unknown", "waived", "pass", "not-applicable"];

/** The worst status of a set, in the order fail > unknown > waived > pass > not-applicable. */
function overall(statuses: EvaluationStatus[]): EvaluationStatus {
  return STATUSES.find((status) => statuses.includes(status)) ?? "not-applicable";
}

function countStatuses(statuses: EvaluationStatus[]): StatusCounts {
  const counts = Object.fromEntries(STATUSES.map((status) => [status, 0])) as StatusCounts;
  for (const status of statuses) counts[status]++;
  return counts;
}

/**
 * Replaces every secret value of the run wherever it would appear in the report (messages,
 * evidence), not only at the property it was declared in: a report is shared, a secret must
 * never be in it. What is secret is what the plan's redaction (`redactRun`) redacts.
 */
export function secretRedactor(run: OfflineRun): <T>(value: T) => T {
  const secrets = new Set<string>();
  const collect = (value: unknown) => {
    if (typeof value === "string" && value.length >= 4 && value !== REDACTED) secrets.add(value);
    else if (value && typeof value === "object") Object.values(value).forEach(collect);
  };
  const collectRedacted = (original: unknown, redacted: unknown) => {
    if (redacted === REDACTED) collect(original);
    else if (original && typeof original === "object" && redacted && typeof redacted === "object") {
      for (const key of Object.keys(original))
        collectRedacted((original as Record<string, unknown>)[key], (redacted as Record<string, unknown>)[key]);
    }
  };
  redactRun(run).resources.forEach((redacted, index) => {
    collectRedacted(run.resources[index].inputs, redacted.inputs);
    collectRedacted(run.resources[index].state, redacted.state);
  });
  const ordered = [...secrets].sort((a, b) => b.length - a.length);
  const redact = (value: unknown): unknown => {
    if (typeof value === "string") return ordered.reduce((text, secret) => text.split(secret).join(REDACTED), value);
    if (Array.isArray(value)) return value.map(redact);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redact(item)]));
    return value;
  };
  return <T>(value: T) => redact(value) as T;
}

function toResult(evaluation: Evaluation): ReportResult {
  const result: ReportResult = {
    resource: { urn: evaluation.urn, name: evaluation.resourceName, type: evaluation.resourceType },
    status: evaluation.status,
    blocking: evaluation.blocking,
  };
  const { outcome } = evaluation;
  if (outcome.status === "fail") result.message = outcome.message;
  if (outcome.status === "not-applicable") result.reason = outcome.reason;
  if (outcome.status !== "not-applicable") result.evidence = outcome.evidence;
  if (evaluation.waiver) {
    const { justification, approvedBy, expires } = evaluation.waiver;
    result.waiver = { justification, ...(approvedBy ? { approvedBy } : {}), ...(expires ? { expires } : {}) };
  }
  return result;
}

export function buildReport(input: ReportInput): Report {
  const redact = secretRedactor(input.run);
  const byRule = new Map<string, Evaluation[]>(input.rules.map((rule) => [rule.id, []]));
  for (const evaluation of input.evaluations) byRule.get(evaluation.rule.id)?.push(evaluation);

  const rules: ReportRule[] = input.rules.map((rule) => {
    const evaluations = byRule.get(rule.id) ?? [];
    const results = evaluations
      .map(toResult)
      .sort(
        (a, b) =>
          STATUSES.indexOf(a.status) - STATUSES.indexOf(b.status) || a.resource.name.localeCompare(b.resource.name),
      );
    return {
      id: rule.id,
      area: rule.area,
      description: rule.description,
      severity: rule.severity,
      enforcement: evaluations[0]?.enforcement ?? enforcementFor(rule, input.settings),
      citations: rule.citations.map(({ section, inferred }) => ({ section, inferred })),
      remediation: rule.remediation,
      status: overall(results.map((result) => result.status)),
      blocking: results.some((result) => result.blocking),
      results: redact(results),
    };
  });

  const sections = [...new Set(rules.flatMap((rule) => rule.citations.map((citation) => citation.section)))].sort(
    compareSections,
  );
  const controls: ReportControl[] = sections.map((section) => {
    const citing = rules
      .filter((rule) => rule.citations.some((citation) => citation.section === section))
      .map((rule) => ({
        id: rule.id,
        inferred: rule.citations.find((citation) => citation.section === section)!.inferred,
        status: rule.status,
        blocking: rule.blocking,
      }));
    return {
      section,
      title: controlTitles[section] ?? "",
      inferred: citing.every((rule) => rule.inferred),
      status: overall(citing.map((rule) => rule.status)),
      blocking: citing.some((rule) => rule.blocking),
      rules: citing,
    };
  });

  const used = new Set(
    input.evaluations.map((evaluation) => evaluation.waiver).filter((waiver): waiver is Waiver => waiver !== undefined),
  );
  const blockingFailures = input.evaluations.filter((evaluation) => evaluation.blocking).length;
  return {
    format: REPORT_FORMAT,
    generatedAt: input.now.toISOString(),
    stack: { project: input.run.project, name: input.run.stack, tier: input.tier, configFile: input.configFile },
    result: hasBlockingFailures(input.evaluations) ? "fail" : "pass",
    summary: {
      resources: new Set(input.run.resources.filter((resource) => resource.custom).map((resource) => resource.urn))
        .size,
      rules: rules.length,
      ruleStatus: countStatuses(rules.map((rule) => rule.status)),
      resultStatus: countStatuses(input.evaluations.map((evaluation) => evaluation.status)),
      blockingFailures,
    },
    settings: input.settings,
    controls,
    rules,
    waivers: input.waivers.map((waiver) => ({
      ...waiver,
      state: used.has(waiver) ? "applied" : isExpired(waiver, input.now) ? "expired" : "unused",
    })),
    ...(input.cost ? { cost: input.cost } : {}),
    ...placeholdersIn(input.run, rules),
  };
}

/** The run's placeholders that the report shows (in a message or evidence). */
function placeholdersIn(run: OfflineRun, rules: ReportRule[]): { placeholders?: Record<string, string> } {
  const text = JSON.stringify(rules);
  const shown = Object.entries(placeholderValues(run)).filter(([value]) => text.includes(value));
  return shown.length ? { placeholders: Object.fromEntries(shown) } : {};
}

/** `1 rule`, `2 rules`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** A rule that fails, with its failing results and where each is in the rule's table. */
export interface Finding {
  rule: ReportRule;
  /** A mandatory failure (fails the audit); false for an advisory finding. */
  blocking: boolean;
  results: { result: ReportResult; anchor: string }[];
}

const SEVERITIES: Severity[] = ["critical", "high", "medium", "low"];

/** The anchor of a rule's result in the reports that link to it (report.html, report.md). */
export function resultAnchor(rule: ReportRule, index: number): string {
  return `result-${rule.id}-${index}`;
}

/**
 * What failed, for the top of the reports: the rules with mandatory failures first, then those
 * with advisory findings; by severity within each, then in the catalog's order.
 */
export function findings(report: Report): Finding[] {
  const found = report.rules
    .map((rule) => ({
      rule,
      blocking: rule.results.some((result) => result.blocking),
      results: rule.results
        .map((result, index) => ({ result, anchor: resultAnchor(rule, index) }))
        .filter(({ result }) => result.status === "fail"),
    }))
    .filter((finding) => finding.results.length > 0);
  return found.sort(
    (a, b) =>
      Number(b.blocking) - Number(a.blocking) ||
      SEVERITIES.indexOf(a.rule.severity) - SEVERITIES.indexOf(b.rule.severity),
  );
}

/** Failing results that do not fail the audit. */
export function advisoryFindings(report: Report): number {
  return report.rules.reduce(
    (count, rule) => count + rule.results.filter((result) => result.status === "fail" && !result.blocking).length,
    0,
  );
}

/**
 * The verdict in one line: `FAIL: 1 mandatory failure, 3 advisory findings`,
 * `PASS with 8 advisory findings`, `PASS: no failures`.
 */
export function verdictLine(report: Report, verdict = report.result === "pass" ? "PASS" : "FAIL"): string {
  const advisory = advisoryFindings(report);
  const advisoryText = plural(advisory, "advisory finding");
  if (report.result === "pass") return advisory ? `${verdict} with ${advisoryText}` : `${verdict}: no failures`;
  const mandatory = plural(report.summary.blockingFailures, "mandatory failure");
  return `${verdict}: ${mandatory}${advisory ? `, ${advisoryText}` : ""}`;
}
