// The cost estimate's inputs that are data, not code: one price file per region
// (config/prices/<region>.json: each price with its unit, the date it was read and where from)
// and the usage assumptions the plan cannot know (config/prices/assumptions.json), which
// `--assume key=value` overrides.
import { existsSync, readFileSync } from "fs";
import { dirname, join } from "path";

export interface Price {
  usd: number;
  unit: string;
  description: string;
  /** The day the price was read (YYYY-MM-DD). */
  read: string;
  /** Where it was read: a page, or the AWS Price List API with its SKU. */
  source: string;
  /** True when read from a source showing this number for this region; false when carried unchecked. */
  confirmed: boolean;
}

export interface PriceTable {
  region: string;
  currency: "USD";
  term: string;
  note: string;
  prices: Record<string, Price>;
}

export interface Assumption {
  value: number;
  unit: string;
  why: string;
}

/** The checkout: the nearest directory up with Pulumi.yaml (the plan runs a compiled copy from bin/). */
export function repositoryRoot(from: string = __dirname): string {
  for (let directory = from; directory !== dirname(directory); directory = dirname(directory)) {
    if (existsSync(join(directory, "Pulumi.yaml"))) return directory;
  }
  throw new Error(`no Pulumi.yaml in ${from} or any directory above it`);
}

export const pricesDirectory = (): string => join(repositoryRoot(), "config", "prices");
export const priceFile = (region: string): string => join(pricesDirectory(), `${region}.json`);
export const assumptionsFile = (): string => join(pricesDirectory(), "assumptions.json");

/** Thrown when a region has no price file, or an --assume is malformed: a usage mistake. */
export class CostInputError extends Error {}

export function loadPrices(region: string): PriceTable {
  const file = priceFile(region);
  if (!existsSync(file))
    throw new CostInputError(
      `no price file for ${region} (${file}); create it with \`openemr-ops prices --refresh --region ${region}\``,
    );
  return JSON.parse(readFileSync(file, "utf8")) as PriceTable;
}

export function loadAssumptions(): Record<string, Assumption> {
  return (JSON.parse(readFileSync(assumptionsFile(), "utf8")) as { assumptions: Record<string, Assumption> })
    .assumptions;
}

/** `key=value` pairs from `--assume`, checked against the documented assumptions. */
export function parseAssumeOptions(pairs: string[], known: Record<string, Assumption>): Record<string, number> {
  const overrides: Record<string, number> = {};
  for (const pair of pairs) {
    const match = /^([A-Za-z0-9]+)=(.+)$/.exec(pair);
    if (!match) throw new CostInputError(`--assume ${pair}: expected key=value, e.g. requestsPerMonth=500000`);
    const [, key, text] = match;
    if (!(key in known))
      throw new CostInputError(`--assume ${key}: not an assumption; expected one of ${Object.keys(known).join(", ")}`);
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0)
      throw new CostInputError(`--assume ${key}=${text}: expected a number, zero or more`);
    overrides[key] = value;
  }
  return overrides;
}
