// report.html: one self-contained page for auditors (inline CSS, no script, nothing fetched):
// controls (45 CFR) -> rules -> resources -> pass / fail / waived / not applicable, with the
// evidence that decided each result.
import type { EvaluationStatus } from "../engine";
import {
  findings,
  plural,
  verdictLine,
  type Finding,
  type Report,
  type ReportControl,
  type ReportResult,
  type ReportRule,
  resultAnchor,
} from "./report";
import { RULE_CATALOG, STATUS_LABELS } from "./markdown";

// Five characters to escape; a templating library would add a dependency for this alone.
function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * Escaped text that may wrap after `:`, `/` or `,` (and after a `.` before a letter, as in
 * `aws.s3.Bucket` or an evidence path) and nowhere else: an ARN breaks between its parts, never
 * inside an account id or a name. `<wbr>` rather than CSS `overflow-wrap: anywhere`, which splits
 * tokens at any character (an account id over two lines reads as two values); it adds no
 * character, so what is copied is what was written.
 */
function breakable(value: unknown): string {
  // A browser also breaks after a hyphen (`us-<break>east-1`): hyphenated words do not wrap,
  // unless one is too long for a phone's line (a long resource name) and would widen the page.
  return String(value)
    .split(/(?<=[:/,])(?=\S)|(?<=\.)(?=[A-Za-z])/)
    .map((part) =>
      part
        .split(/([^\s:/,.]*-[^\s:/,.]*)/)
        .map((piece, index) =>
          index % 2 === 1 && piece.length <= 32
            ? `<span class="nowrap">${escapeHtml(piece)}</span>`
            : escapeHtml(piece),
        )
        .join(""),
    )
    .join("<wbr>");
}

const STYLE = `
:root {
  --fail: #b3261e; --pass: #1e6b34; --waived: #8a5a00; --unknown: #5b3f8f; --na: #666; --advisory: #f0b429;
  --advisory-text: #3d2b00; --line: #d8d8d8;
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
/* Long values wrap at the <wbr> after ':' '/' ','; break-word splits a token only when one part
   alone is wider than the cell. */
body, td, code, .evidence { overflow-wrap: break-word; }
.evidence { white-space: pre-wrap; margin: 0; }
.nowrap { white-space: nowrap; }
table.results td:nth-child(1) { width: 18%; }
table.results td:nth-child(2) { width: 7%; }
table.results td:nth-child(4) { width: 40%; }
.badge {
  display: inline-block; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600; color: #fff;
  white-space: nowrap;
}
.status-fail { background: var(--fail); } .status-pass { background: var(--pass); }
.status-waived { background: var(--waived); } .status-unknown { background: var(--unknown); }
.status-advisory { background: var(--advisory); color: var(--advisory-text); }
.status-not-applicable { background: var(--na); }
.result { font-size: 18px; font-weight: 700; margin: 4px 0 0; }
.result-fail { color: var(--fail); } .result-pass { color: var(--pass); }
.inferred { font-style: italic; color: #555; }
tr.row-fail td { background: #fdf0ef; } tr.row-waived td { background: #fdf7e8; }
tr.row-advisory td { background: #fff8e1; }
#summary { padding: 4px 32px 12px; background: #fff; border-bottom: 1px solid var(--line); }
#summary h2 { margin: 10px 0 6px; }
#summary ol { margin: 0; padding: 0; list-style: none; }
.finding { border-left: 4px solid var(--fail); background: #fdf0ef; padding: 6px 10px; margin: 6px 0; }
.finding-advisory { border-left-color: var(--advisory); background: #fff8e1; }
.finding ul { margin: 4px 0; padding-left: 18px; }
.finding p { margin: 2px 0; }
.severity { color: #444; font-size: 12px; }
.counts { list-style: none; padding: 0; margin: 6px 0 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
.about { padding: 8px 32px; }
.about p { margin: 4px 0; }
.rule { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin: 12px 0; }
.rule p { margin: 6px 0; }
.meta { color: #444; }
.note { color: #444; max-width: 1000px; }
.control-rule { display: inline-block; margin: 1px 10px 1px 0; white-space: nowrap; }
#controls td:first-child { white-space: nowrap; }
/* A phone: tables become one block per row, each cell under its column's name. */
@media (max-width: 700px) {
  header, #summary, .about { padding-left: 12px; padding-right: 12px; }
  main { padding: 4px 12px 24px; }
  h1 { font-size: 19px; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: auto !important; }
  table.stack thead { display: none; }
  table.stack tr { border: 1px solid var(--line); margin: 8px 0; }
  table.stack td { border: 0; border-top: 1px solid #eee; }
  table.stack td::before { content: attr(data-label); display: block; font-size: 11px; color: #666; }
  .control-rule, #controls td:first-child { white-space: normal; }
  .rule { padding: 10px; }
}
`;

const PROVENANCE_NOTE =
  "Each control below is a section of the HIPAA Security Rule (45 CFR Part 164, Subpart C). " +
  'A citation in <span class="inferred">italics, marked (inferred)</span> maps a rule to that section by this ' +
  "pack's reasoning; the others come from a published HIPAA mapping (cdk-nag's HIPAA Security pack, " +
  "AWS Config's HIPAA conformance pack). A policy pack checks what the stack declares; it cannot prove " +
  "runtime behaviour or account-level settings.";

/** A row's or badge's class: a failure that does not fail the audit is `advisory`. */
function statusClass(status: EvaluationStatus, blocking: boolean): string {
  return status === "fail" && !blocking ? "advisory" : status;
}

/** A failure that does not fail the audit reads ADVISORY, in amber; one that does, FAIL in red. */
function badge(status: EvaluationStatus, blocking: boolean): string {
  const kind = statusClass(status, blocking);
  const label = kind === "advisory" ? "ADVISORY" : STATUS_LABELS[status];
  return `<span class="badge status-${kind}">${escapeHtml(label)}</span>`;
}

function ruleLink(id: string): string {
  return `<a href="#rule-${escapeHtml(id)}">${escapeHtml(id)}</a>`;
}

function tableHead(columns: string[]): string {
  return `<thead><tr>${columns.map((column) => `<th>${column}</th>`).join("")}</tr></thead>`;
}

/** The `<td>` cells of a row, from contents already escaped; each names its column for narrow screens. */
function tableCells(contents: string[], columns: string[]): string {
  return contents.map((content, index) => `<td data-label="${columns[index]}">${content}</td>`).join("");
}

function citation(section: string, inferred: boolean): string {
  return inferred ? `<span class="inferred">${escapeHtml(section)} (inferred)</span>` : escapeHtml(section);
}

function evidenceHtml(evidence: Record<string, unknown> | undefined): string {
  if (!evidence || Object.keys(evidence).length === 0) return "";
  const lines = Object.entries(evidence).map(
    ([path, value]) => `${path} = ${value === undefined ? "not set" : JSON.stringify(value)}`,
  );
  return `<pre class="evidence">${breakable(lines.join("\n"))}</pre>`;
}

function detailHtml(result: ReportResult): string {
  const parts: string[] = [];
  if (result.message) parts.push(breakable(result.message));
  if (result.reason) parts.push(breakable(result.reason));
  if (result.waiver) {
    const { justification, approvedBy, expires } = result.waiver;
    const approval = approvedBy ? ` (approved by ${escapeHtml(approvedBy)})` : "";
    const until = expires ? ` until ${escapeHtml(expires)}` : "";
    parts.push(`<strong>Waived:</strong> ${escapeHtml(justification)}${approval}${until}`);
  }
  return parts.join("<br>");
}

const CONTROL_COLUMNS = ["45 CFR section", "control", "result", "rules"];
const RESULT_COLUMNS = ["resource", "result", "detail", "evidence"];
const WAIVER_COLUMNS = ["rule", "resource", "state", "justification", "approved by", "expires"];

function controlRow(control: ReportControl): string {
  const rules = control.rules
    .map((rule) => {
      const inferred = rule.inferred ? ' <span class="inferred">(inferred)</span>' : "";
      return `<span class="control-rule">${ruleLink(rule.id)}${inferred} ${badge(rule.status, rule.blocking)}</span>`;
    })
    .join(" ");
  const cells = tableCells(
    [
      citation(control.section, control.inferred),
      escapeHtml(control.title),
      badge(control.status, control.blocking),
      rules,
    ],
    CONTROL_COLUMNS,
  );
  const row = statusClass(control.status, control.blocking);
  return `<tr class="row-${row}" data-section="${escapeHtml(control.section)}">${cells}</tr>`;
}

function ruleBlock(rule: ReportRule): string {
  const rows = rule.results
    .map((result, index) => {
      const data =
        `id="${escapeHtml(resultAnchor(rule, index))}" data-rule="${escapeHtml(rule.id)}" ` +
        `data-resource="${escapeHtml(result.resource.name)}"`;
      const cells = tableCells(
        [
          `${breakable(result.resource.name)}<br><code>${breakable(result.resource.type)}</code>`,
          badge(result.status, result.blocking),
          detailHtml(result),
          evidenceHtml(result.evidence),
        ],
        RESULT_COLUMNS,
      );
      const row = statusClass(result.status, result.blocking);
      return `<tr class="row-${row}" ${data} data-status="${result.status}">${cells}</tr>`;
    })
    .join("\n");
  const head = tableHead(RESULT_COLUMNS);
  const table = rule.results.length
    ? `<table class="results stack">${head}<tbody>\n${rows}\n</tbody></table>`
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
<p>${breakable(rule.description)}</p>
<p class="meta">${meta}</p>
<p class="meta">Remediation: ${breakable(rule.remediation)}</p>
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

/** One failing rule in the summary: why, where (each resource linking to its row) and the fix. */
function findingItem({ rule, blocking, results }: Finding): string {
  const resources = results
    .map(
      ({ result, anchor }) =>
        `<li><a class="result-link" href="#${escapeHtml(anchor)}">${breakable(result.resource.name)}</a>: ` +
        `${breakable(result.message ?? "")}</li>`,
    )
    .join("");
  const kind = blocking ? "mandatory" : "advisory";
  return `<li class="finding finding-${kind}" data-rule="${escapeHtml(rule.id)}">
<p>${badge("fail", blocking)} ${ruleLink(rule.id)} <span class="severity">${escapeHtml(rule.severity)} · ${kind}</span>
${breakable(rule.description)}</p>
<ul>${resources}</ul>
<p class="meta">Fix: ${breakable(rule.remediation)}</p>
</li>`;
}

/** What failed and why, first: mandatory failures (they fail the audit), then advisory findings. */
function summaryHtml(report: Report): string {
  const found = findings(report);
  const mandatory = found.filter((finding) => finding.blocking);
  const advisory = found.filter((finding) => !finding.blocking);
  const list = (items: Finding[], id: string) => `<ol id="${id}">\n${items.map(findingItem).join("\n")}\n</ol>`;
  const parts = [
    mandatory.length
      ? `<h2>Mandatory failures: ${plural(mandatory.length, "rule")} (these fail the audit)</h2>\n` +
        list(mandatory, "mandatory")
      : '<p class="meta">No mandatory failure.</p>',
  ];
  if (advisory.length)
    parts.push(
      `<h2>Advisory findings: ${plural(advisory.length, "rule")} (reported, not failing the audit)</h2>\n` +
        list(advisory, "advisory"),
    );
  return `<section id="summary">\n${parts.join("\n")}\n</section>`;
}

/** Rules and results by status; a failing rule counts as FAIL when mandatory, ADVISORY otherwise. */
function countsHtml(report: Report): string {
  const rows: [string, number, number][] = [
    [badge("fail", true), 0, 0],
    [badge("fail", false), 0, 0],
    ...(["unknown", "waived", "pass", "not-applicable"] as EvaluationStatus[]).map(
      (status): [string, number, number] => [badge(status, true), 0, 0],
    ),
  ];
  const order = ["fail-mandatory", "fail-advisory", "unknown", "waived", "pass", "not-applicable"];
  for (const rule of report.rules) {
    const kind = rule.status === "fail" ? (rule.blocking ? "fail-mandatory" : "fail-advisory") : rule.status;
    rows[order.indexOf(kind)][1]++;
    for (const result of rule.results) {
      const resultKind =
        result.status === "fail" ? (result.blocking ? "fail-mandatory" : "fail-advisory") : result.status;
      rows[order.indexOf(resultKind)][2]++;
    }
  }
  const items = rows
    .filter(([, rules, results]) => rules + results > 0)
    .map(([label, rules, results]) => `<li>${label} ${plural(rules, "rule")} · ${plural(results, "result")}</li>`);
  return `<ul class="counts" id="counts">${items.join("")}</ul>`;
}

/** The made-up values the results show (account id, instance ids, host names), with what each stands for. */
function placeholdersHtml(report: Report): string {
  const entries = Object.entries(report.placeholders ?? {});
  if (entries.length === 0) return "";
  const items = entries
    .map(
      ([value, description]) =>
        `<li><code class="placeholder">${breakable(value)}</code>: ${breakable(description)}</li>`,
    )
    .join("");
  return (
    `<details id="placeholders"><summary class="meta">Placeholders: ${plural(entries.length, "value")} ` +
    "the offline plan made up (a deployed stack has its own); a value containing one is not real</summary>" +
    `<ul>${items}</ul></details>`
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
      return `<tr>${tableCells([ruleLink(waiver.rule), ...fields.map(breakable)], WAIVER_COLUMNS)}</tr>`;
    })
    .join("");
  const waivers = report.waivers.length
    ? `<table id="waivers" class="stack">${tableHead(WAIVER_COLUMNS)}<tbody>${waiverRows}</tbody></table>`
    : "<p>None.</p>";
  const provenance = [
    `Tier ${escapeHtml(report.stack.tier)}`,
    `configuration ${escapeHtml(report.stack.configFile ?? "defaults")}`,
    plural(summary.resources, "resource"),
    plural(summary.rules, "rule"),
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
<p class="result result-${report.result}" id="result">${escapeHtml(verdictLine(report))}</p>
</header>
${summaryHtml(report)}
<div class="about">
<p class="meta">${provenance}</p>
<p class="meta">Rule catalog: <code>${RULE_CATALOG}</code> (each rule's check, citations and remediation)</p>
${costHtml(report)}
${placeholdersHtml(report)}
${countsHtml(report)}
</div>
<main>
<p class="note">${PROVENANCE_NOTE}</p>
<h2>Controls</h2>
<table id="controls" class="stack">${tableHead(CONTROL_COLUMNS)}<tbody>
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
