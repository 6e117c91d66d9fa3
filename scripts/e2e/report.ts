// The end-to-end run's report: every step with its outcome and time, as JSON (for machines and
// for comparing runs) and as a short text table (for the person who ran it).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderTable } from "../lib/printing";

export type StepStatus = "ok" | "failed" | "skipped";

export interface StepRecord {
  name: string;
  /** `deploy` steps build and exercise the stack; `cleanup` steps remove it, and run after a failure too. */
  phase: "preflight" | "deploy" | "cleanup";
  status: StepStatus;
  startedAt: string;
  seconds: number;
  /** One line: what the step found (a backup id, a swap id, a verdict) or why it was skipped. */
  detail: string;
  /** The failure's one-line message. */
  error?: string;
  /** Timed sub-steps the ops tool reported (e.g. `pulumi up` inside provision). */
  substeps?: { name: string; status: string; seconds: number }[];
}

export interface E2eReport {
  format: 1;
  stack: string;
  example: string;
  region: string;
  account?: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  ok: boolean;
  destroyData: boolean;
  /** The offline estimate of `npm run cost`, when the project has it. */
  cost: { monthlyUsd: number; hourlyUsd: number; source: string } | null;
  steps: StepRecord[];
  /** What stays in the account after the run, each with how to remove it. */
  leftInAccount: string[];
}

export function renderReport(report: E2eReport): string {
  const table = renderTable(
    ["STEP", "STATUS", "SECONDS", "DETAIL"],
    report.steps.map((step) => [
      step.name,
      step.status.toUpperCase(),
      step.status === "skipped" ? "-" : step.seconds.toFixed(1),
      (step.error ?? step.detail).slice(0, 100),
    ]),
  );
  const cost = report.cost
    ? `Estimated cost: $${report.cost.monthlyUsd.toFixed(2)} a month, about $${report.cost.hourlyUsd.toFixed(2)} ` +
      `an hour (${report.cost.source})`
    : "Estimated cost: not computed (no `npm run cost` in this project, or --skip-cost)";
  return [
    `openemr-aws end-to-end run of stack ${report.stack} (${report.example} example, ${report.region})`,
    "",
    table,
    "",
    cost,
    ...(report.leftInAccount.length
      ? ["", "Left in the account:", ...report.leftInAccount.map((x) => `  - ${x}`)]
      : []),
    "",
    `Verdict: ${report.ok ? "OK" : "FAILED"} in ${report.seconds.toFixed(0)}s`,
  ].join("\n");
}

/** Writes e2e-report.json and e2e-report.txt into `dir`; returns their paths. */
export function writeReport(dir: string, report: E2eReport): { json: string; text: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "e2e-report.json");
  const text = join(dir, "e2e-report.txt");
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(text, `${renderReport(report)}\n`);
  return { json, text };
}
