// The offline audit: evaluate rules over a planned stack and write the report in the four
// formats. The CLI (cli.ts) plans the stack; tests pass their own runs and rules.
import { mkdirSync, writeFileSync } from "fs";
import * as path from "path";
import type { OfflineRun } from "../../infra/offline/run";
import { evaluate, toRuleResources } from "../engine";
import type { PolicySettings, Rule } from "../rules/types";
import type { Waiver } from "../waivers";
import type { CostSummary } from "../../infra/cost/report";
import { renderHtml } from "./html";
import { renderMarkdown } from "./markdown";
import { buildReport, type Report } from "./report";
import { renderSarif } from "./sarif";

export interface AuditOptions {
  rules: Rule[];
  waivers: Waiver[];
  settings: PolicySettings;
  /** The stack file audited, as given; null for the default configuration. */
  configFile: string | null;
  now?: Date;
  /** The monthly estimate shown next to the findings. */
  cost?: CostSummary;
}

export function auditRun(run: OfflineRun, options: AuditOptions): Report {
  const now = options.now ?? new Date();
  const evaluations = evaluate(options.rules, toRuleResources(run), {
    settings: options.settings,
    waivers: options.waivers,
    now,
  });
  return buildReport({
    run,
    rules: options.rules,
    evaluations,
    settings: options.settings,
    waivers: options.waivers,
    tier: options.settings.tier,
    configFile: options.configFile,
    now,
    cost: options.cost,
  });
}

export const REPORT_FILES = {
  markdown: "report.md",
  json: "report.json",
  sarif: "report.sarif",
  html: "report.html",
} as const;

/** Writes the four reports into `outDir`; returns their paths. */
export function writeReports(report: Report, outDir: string, toolVersion: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const artifact = report.stack.configFile ?? "Pulumi.yaml";
  const contents: [string, string][] = [
    [REPORT_FILES.markdown, renderMarkdown(report)],
    [REPORT_FILES.json, `${JSON.stringify(report, null, 2)}\n`],
    [REPORT_FILES.sarif, `${JSON.stringify(renderSarif(report, toolVersion, artifact), null, 2)}\n`],
    [REPORT_FILES.html, renderHtml(report)],
  ];
  return contents.map(([file, text]) => {
    const target = path.join(outDir, file);
    writeFileSync(target, text);
    return target;
  });
}
