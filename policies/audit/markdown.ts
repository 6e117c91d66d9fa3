// report.md: the report for people reading it in a terminal, a pull request or a wiki.
import type { EvaluationStatus } from "../engine";
import type { Report, ReportResult, ReportRule } from "./report";

export const STATUS_LABELS: Record<EvaluationStatus, string> = {
  fail: "FAIL",
  unknown: "UNKNOWN",
  waived: "WAIVED",
  pass: "pass",
  "not-applicable": "n/a",
};

/** A status as reports show it; a failure that does not fail the audit reads `fail (advisory)`. */
export function statusLabel(status: EvaluationStatus, blocking: boolean): string {
  return status === "fail" && !blocking ? "fail (advisory)" : STATUS_LABELS[status];
}

/** One line of evidence: `path = value` pairs, values as JSON. */
export function formatEvidence(evidence: Record<string, unknown> | undefined): string {
  if (!evidence) return "";
  return Object.entries(evidence)
    .map(([path, value]) => `${path} = ${value === undefined ? "not set" : JSON.stringify(value)}`)
    .join("; ");
}

/** A citation as reports show it: `164.312(b)`, or `164.312(b) (inferred)`. */
export function formatCitation(citation: { section: string; inferred: boolean }): string {
  return citation.inferred ? `${citation.section} (inferred)` : citation.section;
}

function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A table row of cells already escaped with `cell` (or known to hold no pipe or newline). */
function tableRow(cells: string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function resultDetail(result: ReportResult): string {
  if (result.waiver) {
    const { justification, approvedBy, expires } = result.waiver;
    const approval = approvedBy ? ` (approved by ${approvedBy})` : "";
    const until = expires ? ` until ${expires}` : "";
    return `${result.message ?? ""} Waived: ${justification}${approval}${until}`;
  }
  return result.message ?? result.reason ?? "";
}

function ruleSection(rule: ReportRule): string[] {
  const lines = [
    `### ${rule.id}: ${statusLabel(rule.status, rule.blocking)}`,
    "",
    `${rule.description}`,
    "",
    `- Severity: ${rule.severity}; enforcement: ${rule.enforcement}; area: ${rule.area}`,
    `- 45 CFR: ${rule.citations.map(formatCitation).join(", ")}`,
    `- Remediation: ${rule.remediation}`,
    "",
  ];
  if (rule.results.length === 0) return [...lines, "No resource of the kinds this rule checks is declared.", ""];
  lines.push("| resource | type | result | detail | evidence |", "|---|---|---|---|---|");
  for (const result of rule.results) {
    lines.push(
      tableRow([
        cell(result.resource.name),
        cell(result.resource.type),
        statusLabel(result.status, result.blocking),
        cell(resultDetail(result)),
        cell(formatEvidence(result.evidence)),
      ]),
    );
  }
  return [...lines, ""];
}

export function renderMarkdown(report: Report): string {
  const { summary } = report;
  const failing = report.rules.flatMap((rule) =>
    rule.results.filter((result) => result.status === "fail").map((result) => ({ rule, result })),
  );
  const verdict = report.result === "pass" ? "PASS" : "FAIL";
  const failures = `${summary.blockingFailures} mandatory failure${summary.blockingFailures === 1 ? "" : "s"}`;
  const { ruleStatus } = summary;
  const counts = [
    `${ruleStatus.fail} failing (${report.rules.filter((rule) => rule.blocking).length} mandatory)`,
    `${ruleStatus.unknown} unknown`,
    `${ruleStatus.waived} waived`,
    `${ruleStatus.pass} passing`,
    `${ruleStatus["not-applicable"]} not applicable`,
  ].join(", ");
  const lines = [
    `# HIPAA Security Rule audit: ${report.stack.project} / ${report.stack.name}`,
    "",
    `Result: **${verdict}** (${failures})`,
    "",
    `- Tier: ${report.stack.tier}; configuration: ${report.stack.configFile ?? "defaults"}`,
    `- Generated: ${report.generatedAt}, offline, from the planned resources (no AWS account was read)`,
    `- ${summary.resources} resources, ${summary.rules} rules: ${counts}`,
    "",
    "Citations marked (inferred) map a rule to a section by this pack's own reasoning; the others come from " +
      "a published HIPAA mapping (cdk-nag's HIPAA Security pack, AWS Config's HIPAA conformance pack).",
    "",
    "## Failures",
    "",
  ];
  if (failing.length === 0) lines.push("None.", "");
  else {
    lines.push("| rule | enforcement | resource | finding | remediation |", "|---|---|---|---|---|");
    for (const { rule, result } of failing) {
      lines.push(
        tableRow([
          rule.id,
          rule.enforcement,
          cell(result.resource.name),
          cell(result.message ?? ""),
          cell(rule.remediation),
        ]),
      );
    }
    lines.push("");
  }
  lines.push("## Controls (45 CFR)", "", "| section | control | result | rules |", "|---|---|---|---|");
  for (const control of report.controls) {
    const rules = control.rules
      .map((rule) => `${rule.id}${rule.inferred ? " (inferred)" : ""}: ${statusLabel(rule.status, rule.blocking)}`)
      .join(", ");
    lines.push(
      tableRow([
        formatCitation(control),
        cell(control.title),
        statusLabel(control.status, control.blocking),
        cell(rules),
      ]),
    );
  }
  lines.push("", "## Waivers", "");
  if (report.waivers.length === 0) lines.push("None.", "");
  else {
    lines.push("| rule | resource | state | justification | approved by | expires |", "|---|---|---|---|---|---|");
    for (const waiver of report.waivers) {
      lines.push(
        tableRow([
          waiver.rule,
          cell(waiver.resource),
          waiver.state,
          cell(waiver.justification),
          cell(waiver.approvedBy ?? ""),
          waiver.expires ?? "never",
        ]),
      );
    }
    lines.push("");
  }
  lines.push("## Rules", "");
  for (const rule of report.rules) lines.push(...ruleSection(rule));
  return `${lines.join("\n").trimEnd()}\n`;
}
