// The estimate as people read it (grouped by component, the dominant lines, what is not
// priced) and as machines read it (`--json`).
import type { OfflineRun } from "../offline/run";
import { estimateRun, type StackEstimate } from "./estimate";
import { CostInputError, loadAssumptions, loadPrices } from "./tables";

export const usd = (value: number): string => `$${value.toFixed(2)}`;

/** Estimates a planned run with the region's prices and the documented assumptions. */
export function estimatePlannedRun(
  run: OfflineRun,
  region: string,
  overrides: Record<string, number> = {},
): StackEstimate {
  const tier = typeof run.outputs.tier === "string" ? run.outputs.tier : "standard";
  const copyRegion = typeof run.outputs.copyRegion === "string" ? run.outputs.copyRegion : undefined;
  return estimateRun(run, {
    region,
    tier,
    prices: loadPrices(region),
    copyPrices: copyRegion ? loadPrices(copyRegion) : undefined,
    assumptions: loadAssumptions(),
    overrides,
  });
}

/** The closing line of the plan and of the cost report. */
export function totalLine(estimate: StackEstimate): string {
  const unpriced = estimate.notPriced.length;
  const gap = unpriced ? `; ${unpriced} resource${unpriced === 1 ? "" : "s"} not priced` : "";
  return (
    `Monthly estimate for ${estimate.stack}: ${usd(estimate.monthlyUsd)} ` +
    `(on-demand, ${estimate.region}${gap}; details: npm run cost)`
  );
}

/** The plan's closing line: the total, or why there is none (a region without a price file). */
export function planTotalLine(run: OfflineRun, region: string): string {
  try {
    return totalLine(estimatePlannedRun(run, region));
  } catch (error) {
    if (error instanceof CostInputError) return `Monthly estimate for ${run.stack}: not available (${error.message})`;
    throw error;
  }
}

/** What the audit report shows next to the findings. */
export interface CostSummary {
  region: string;
  monthlyUsd: number;
  notPriced: string[];
  top: { name: string; part: string; monthlyUsd: number }[];
}

export function costSummary(estimate: StackEstimate): CostSummary {
  return {
    region: estimate.region,
    monthlyUsd: estimate.monthlyUsd,
    notPriced: estimate.notPriced.map((item) => `${item.name} (${item.type})`),
    top: topItems(estimate).map(({ name, part, monthlyUsd }) => ({ name, part, monthlyUsd })),
  };
}

/** The lines that dominate: the largest first. */
export function topItems(estimate: StackEstimate, count = 5) {
  return [...estimate.items].sort((a, b) => b.monthlyUsd - a.monthlyUsd).slice(0, count);
}

export function formatEstimate(estimate: StackEstimate): string {
  const lines = [`Cost of ${estimate.stack} (tier ${estimate.tier}, ${estimate.region}), a month, on-demand:`];
  const groups = new Map<string, StackEstimate["items"]>();
  for (const item of estimate.items) groups.set(item.component, [...(groups.get(item.component) ?? []), item]);
  const ordered = [...groups].sort(
    ([, a], [, b]) =>
      b.reduce((sum, item) => sum + item.monthlyUsd, 0) - a.reduce((sum, item) => sum + item.monthlyUsd, 0),
  );
  for (const [component, items] of ordered) {
    const subtotal = items.reduce((sum, item) => sum + item.monthlyUsd, 0);
    lines.push("", `${component}: ${usd(subtotal)}`);
    for (const item of items)
      lines.push(`  ${usd(item.monthlyUsd).padStart(9)}  ${item.name} ${item.part}: ${item.basis}`);
  }
  lines.push("", "Dominant items:");
  for (const item of topItems(estimate)) {
    const share = estimate.monthlyUsd ? Math.round((item.monthlyUsd / estimate.monthlyUsd) * 100) : 0;
    lines.push(`  ${usd(item.monthlyUsd).padStart(9)}  ${share}%  ${item.name} ${item.part}`);
  }
  lines.push("", `Not priced (left out of the total): ${estimate.notPriced.length ? "" : "none"}`);
  for (const item of estimate.notPriced) lines.push(`  ${item.name} (${item.type}): ${item.reason}`);
  lines.push(`Free: ${estimate.free.length} resources (IAM, networking plumbing, settings billed elsewhere)`);
  if (estimate.overridden.length)
    lines.push(
      `Assumptions overridden: ${estimate.overridden.map((key) => `${key}=${estimate.assumptions[key]}`).join(", ")}`,
    );
  lines.push("", totalLine(estimate));
  return lines.join("\n");
}

/** The summary the README shows: each stack's total and its five largest lines. */
export function formatSummary(estimates: StackEstimate[]): string {
  const lines: string[] = [];
  for (const estimate of estimates) {
    lines.push(`${estimate.stack} (tier ${estimate.tier}, ${estimate.region}): ${usd(estimate.monthlyUsd)} a month`);
    for (const item of topItems(estimate))
      lines.push(`  ${usd(item.monthlyUsd).padStart(9)}  ${item.name} ${item.part}`);
  }
  return lines.join("\n");
}

/** The `--json` document. */
export function estimatesJson(estimates: StackEstimate[]) {
  return {
    stacks: estimates.map((estimate) => ({
      stack: estimate.stack,
      tier: estimate.tier,
      region: estimate.region,
      monthlyUsd: estimate.monthlyUsd,
      items: estimate.items.map(({ urn, type, monthlyUsd, basis, part, component, prices }) => ({
        urn,
        type,
        monthlyUsd,
        basis,
        part,
        component,
        prices,
      })),
      notPriced: estimate.notPriced,
      free: estimate.free,
      assumptions: estimate.assumptions,
    })),
  };
}
