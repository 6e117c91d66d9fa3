// `npm run cost [-- STACK_FILE] [--json OUT] [--assume key=value ...]`: the monthly estimate of
// the offline plan, per resource grouped by component, the dominant lines and the total. With
// no stack file it estimates the defaults of each tier. Exit codes: 0 estimated, 1 invalid
// config, 2 bad arguments (an unknown --assume key, a region with no price file).
import { writeFileSync } from "fs";
import { Command } from "commander";
import { parseCommandLine } from "../command-line";
import { ConfigError, loadStackFile, stackNameOfFile } from "../config";
import { planStack } from "../plan/plan";
import type { StackEstimate } from "./estimate";
import { estimatePlannedRun, estimatesJson, formatEstimate, formatSummary } from "./report";
import { CostInputError, loadAssumptions, parseAssumeOptions } from "./tables";

export const DEFAULT_TARGETS = (["single", "standard", "ha"] as const).map((tier) => ({
  stackName: `defaults-${tier}`,
  config: { "openemr:tier": tier },
}));

/** Plans and estimates each target (the defaults of each tier without a stack file). */
export async function estimateTargets(
  targets: { stackName: string; config: Record<string, string> }[],
  overrides: Record<string, number> = {},
): Promise<StackEstimate[]> {
  const estimates: StackEstimate[] = [];
  for (const target of targets) {
    const run = await planStack(target);
    estimates.push(estimatePlannedRun(run, target.config["openemr:region"] ?? "us-east-1", overrides));
  }
  return estimates;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("cost")
    .description("Estimate the monthly cost of the stack offline, from the plan, the prices and the assumptions")
    .argument("[stack-file]", "a Pulumi.<stack>.yaml; without it, the defaults of each tier")
    .option("--json <file>", "also write the estimate as JSON")
    .option(
      "--assume <key=value>",
      "override a usage assumption of config/prices/assumptions.json (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const stop = parseCommandLine(program, argv);
  if (stop !== undefined) return stop;
  const [stackFile] = program.args;
  const options = program.opts<{ json?: string; assume: string[] }>();
  try {
    const overrides = parseAssumeOptions(options.assume, loadAssumptions());
    const targets = stackFile
      ? [{ stackName: stackNameOfFile(stackFile), config: loadStackFile(stackFile) }]
      : DEFAULT_TARGETS;
    const estimates = await estimateTargets(targets, overrides);
    for (const estimate of estimates) process.stdout.write(`${formatEstimate(estimate)}\n\n`);
    process.stdout.write(`Summary:\n${formatSummary(estimates)}\n`);
    if (options.json) writeFileSync(options.json, `${JSON.stringify(estimatesJson(estimates), null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof CostInputError) {
      process.stderr.write(`cost: ${error.message}\n`);
      return 2;
    }
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`cost: ${error.message.split("\n")[0]}\n`);
    for (const problem of error.problems) process.stderr.write(`${problem}\n`);
    return 1;
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => process.exit(code));
