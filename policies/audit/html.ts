// report.html: one self-contained page for auditors (inline CSS, no script, nothing fetched):
// controls (45 CFR) -> rules -> resources -> pass / fail / waived / not applicable, with the
// evidence that decided each result.
import type { EvaluationStatus } from "../engine";
import type { Report, ReportControl, ReportResult, ReportRule } from "./report";
import { RULE_CATALOG, statusLabel } from "./markdown";

// Five characters to escape; a templating library would add a dependency for this alone.
function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const STYLE = `
:root {
  --fail: #b3261e; --pass: #1e6b34; --waived: #8a5a00; --unknown: #5b3f8f; --na: #666; --advisory: #c25e00;
  --line: #d8d8d8;
}
* { box-sizing: border-box; }
body {
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1a1a1a;
  background: #fafafa;
}
header { padding: 20px 32px; background: #fff; border-bottom: 1px solid var(--line); }
main { padding: 8px 32px 40px; max-width: 1500px; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 18px; margin: 28px 0 10px; }
h3 { font-size: 15px; margin: 0; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
code, .evidence { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12px; }
.evidence { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
table.results td:nth-child(1) { width: 18%; }
table.results td:nth-child(2) { width: 7%; }
table.results td:nth-child(4) { width: 40%; }
.badge {
  display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff;
  white-space: nowrap;
}
.status-fail { background: var(--fail); } .status-pass { background: var(--pass); }
.status-waived { background: var(--waived); } .status-unknown { background: var(--unknown); }
.status-advisory { background: var(--advisory); } .status-not-applicable { background: var(--na); }
.result { font-size: 18px; font-weight: 700; }
.result-fail { color: var(--fail); } .result-pass { color: var(--pass); }
.inferred { font-style: italic; color: #555; }
tr.row-fail td { background: #fdf0ef; } tr.row-waived td { background: #fdf7e8; }
.rule { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
.rule p { margin: 6px 0; }
.meta { color: #444; }
.summary td, .summary th { width: auto; }
.note { color: #444; max-width: 1000px; }
.control-rule { display: inline-block; margin: 1px 10px 1px 0; white-space: nowrap; }
#controls td:first-child { white-space: nowrap; }
`;

const PROVENANCE_NOTE =
  "Each control below is a section of the HIPAA Security Rule (45 CFR Part 164, Subpart C). " +
  'A citation in <span class="inferred">italics, marked (inferred)</span> maps a rule to that section by this ' +
  "pack's reasoning; the others come from a published HIPAA mapping (cdk-nag's HIPAA Security pack, " +
  "AWS Config's HIPAA conformance pack). A policy pack checks what the stack declares; it cannot prove " +
  "runtime behaviour or account-level settings.";

/** A failure that does not fail the audit (advisory) gets its own label and colour. */
function badge(status: EvaluationStatus, blocking = true): string {
  const advisory = status === "fail" && !blocking;
  const label = escapeHtml(statusLabel(status, blocking));
  return `<span class="badge status-${advisory ? "advisory" : status}">${label}</span>`;
}

function ruleLink(id: string): string {
  return `<a href="#rule-${escapeHtml(id)}">${escapeHtml(id)}</a>`;
}

function tableHead(columns: string[]): string {
  return `<thead><tr>${columns.map((column) => `<th>${column}</th>`).join("")}</tr></thead>`;
}

/** The `<td>` cells of a row, from contents already escaped. */
function tableCells(contents: string[]): string {
  return contents.map((content) => `<td>${content}</td>`).join("");
}

function citation(section: string, inferred: boolean): string {
  return inferred ? `<span class="inferred">${escapeHtml(section)} (inferred)</span>` : escapeHtml(section);
}

function evidenceHtml(evidence: Record<string, unknown> | undefined): string {
  if (!evidence || Object.keys(evidence).length === 0) return "";
  const lines = Object.entries(evidence).map(
    ([path, value]) => `${path} = ${value === undefined ? "not set" : JSON.stringify(value)}`,
  );
  return `<pre class="evidence">${escapeHtml(lines.join("\n"))}</pre>`;
}

function detailHtml(result: ReportResult): string {
  const parts: string[] = [];
  if (result.message) parts.push(escapeHtml(result.message));
  if (result.reason) parts.push(escapeHtml(result.reason));
  if (result.waiver) {
    const { justification, approvedBy, expires } = result.waiver;
    const approval = approvedBy ? ` (approved by ${escapeHtml(approvedBy)})` : "";
    const until = expires ? ` until ${escapeHtml(expires)}` : "";
    parts.push(`<strong>Waived:</strong> ${escapeHtml(justification)}${approval}${until}`);
  }
  return parts.join("<br>");
}

function controlRow(control: ReportControl): string {
  const rules = control.rules
    .map((rule) => {
      const inferred = rule.inferred ? ' <span class="inferred">(inferred)</span>' : "";
      return `<span class="control-rule">${ruleLink(rule.id)}${inferred} ${badge(rule.status, rule.blocking)}</span>`;
    })
    .join(" ");
  const cells = tableCells([
    citation(control.section, control.inferred),
    escapeHtml(control.title),
    badge(control.status, control.blocking),
    rules,
  ]);
  return `<tr class="row-${control.status}" data-section="${escapeHtml(control.section)}">${cells}</tr>`;
}

function ruleBlock(rule: ReportRule): string {
  const rows = rule.results
    .map((result) => {
      const data = `data-rule="${escapeHtml(rule.id)}" data-resource="${escapeHtml(result.resource.name)}"`;
      const cells = tableCells([
        `${escapeHtml(result.resource.name)}<br><code>${escapeHtml(result.resource.type)}</code>`,
        badge(result.status, result.blocking),
        detailHtml(result),
        evidenceHtml(result.evidence),
      ]);
      return `<tr class="row-${result.status}" ${data} data-status="${result.status}">${cells}</tr>`;
    })
    .join("\n");
  const head = tableHead(["resource", "result", "detail", "evidence"]);
  const table = rule.results.length
    ? `<table class="results">${head}<tbody>\n${rows}\n</tbody></table>`
    : '<p class="meta">No resource of the kinds this rule checks is declared: not applicable.</p>';
  const citations = rule.citations.map((item) => citation(item.section, item.inferred)).join(", ");
  const meta = [
    `Severity <strong>${escapeHtml(rule.severity)}</strong>`,
    `enforcement <strong>${escapeHtml(rule.enforcement)}</strong>`,
    `area ${escapeHtml(rule.area)}`,
    `45 CFR ${citations}`,
  ].join(" · ");
  return `<section class="rule" id="rule-${escapeHtml(rule.id)}">
<h3>${escapeHtml(rule.id)} ${badge(rule.status, rule.blocking)}</h3>
<p>${escapeHtml(rule.description)}</p>
<p class="meta">${meta}</p>
<p class="meta">Remediation: ${escapeHtml(rule.remediation)}</p>
${table}
</section>`;
}

/** The monthly estimate beside the findings. */
function costHtml(report: Report): string {
  const { cost } = report;
  if (!cost) return "";
  const gap = cost.notPriced.length ? `; not priced: ${escapeHtml(cost.notPriced.join(", "))}` : "";
  const top = cost.top
    .map((item) => `${escapeHtml(item.name)} ${escapeHtml(item.part)} $${item.monthlyUsd.toFixed(2)}`)
    .join(", ");
  return (
    `<p class="meta" id="cost">Monthly estimate: <strong>$${cost.monthlyUsd.toFixed(2)}</strong> ` +
    `(on-demand, ${escapeHtml(cost.region)}${gap}) · largest lines: ${top}</p>`
  );
}

export function renderHtml(report: Report): string {
  const { summary } = report;
  const waiverRows = report.waivers
    .map((waiver) => {
      const fields = [
        waiver.resource,
        waiver.state,
        waiver.justification,
        waiver.approvedBy ?? "",
        waiver.expires ?? "never",
      ];
      return `<tr>${tableCells([ruleLink(waiver.rule), ...fields.map(escapeHtml)])}</tr>`;
    })
    .join("");
  const waiverHead = tableHead(["rule", "resource", "state", "justification", "approved by", "expires"]);
  const waivers = report.waivers.length
    ? `<table id="waivers">${waiverHead}<tbody>${waiverRows}</tbody></table>`
    : "<p>None.</p>";
  const counts = (["fail", "unknown", "waived", "pass", "not-applicable"] as EvaluationStatus[])
    .map(
      (status) =>
        `<td>${badge(status)} ${summary.ruleStatus[status]} rules · ${summary.resultStatus[status]} results</td>`,
    )
    .join("");
  const verdict = report.result === "pass" ? "PASS" : "FAIL";
  const failures = `${summary.blockingFailures} mandatory failure${summary.blockingFailures === 1 ? "" : "s"}`;
  const provenance = [
    `Tier ${escapeHtml(report.stack.tier)}`,
    `configuration ${escapeHtml(report.stack.configFile ?? "defaults")}`,
    `${summary.resources} resources`,
    `${summary.rules} rules`,
    `generated ${escapeHtml(report.generatedAt)} offline from the planned resources (no AWS account was read)`,
  ].join(" · ");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>HIPAA audit: ${escapeHtml(report.stack.project)} / ${escapeHtml(report.stack.name)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>HIPAA Security Rule audit: ${escapeHtml(report.stack.project)} / ${escapeHtml(report.stack.name)}</h1>
<p class="result result-${report.result}" id="result">${verdict}: ${failures}</p>
<p class="meta">${provenance}</p>
<p class="meta">Rule catalog: <code>${RULE_CATALOG}</code> (each rule's check, citations and remediation)</p>
${costHtml(report)}
<table class="summary"><tr>${counts}</tr></table>
</header>
<main>
<p class="note">${PROVENANCE_NOTE}</p>
<h2>Controls</h2>
<table id="controls"><thead><tr><th>45 CFR section</th><th>control</th><th>result</th><th>rules</th></tr></thead><tbody>
${report.controls.map(controlRow).join("\n")}
</tbody></table>
<h2>Waivers</h2>
${waivers}
<h2>Rules</h2>
${report.rules.map(ruleBlock).join("\n")}
</main>
</body>
</html>
`;
}
