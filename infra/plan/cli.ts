// `npm run plan [-- STACK_FILE] [--json OUT]`: the offline plan. With no stack file it plans
// the defaults of each tier. Exit codes: 0 planned, 1 invalid config, 2 bad arguments.
import { writeFileSync } from "fs";
import { Command } from "commander";
import { parseCommandLine } from "../command-line";
import { ConfigError, loadStackFile, stackNameOfFile } from "../config";
import type { OfflineRun } from "../offline/run";
import { planStack } from "./plan";
import { formatFrontDoor, frontDoorFromOutputs } from "../front-door";
import { formatRun, redactRun } from "./report";
// The plan ends with the cost estimate's total (`npm run cost` has the details).
import { planTotalLine } from "../cost/report";

interface PlanTarget {
  stackName: string;
  config: Record<string, string>;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command("plan")
    .description("Plan the stack offline: every resource it would create, with its security properties")
    .argument("[stack-file]", "a Pulumi.<stack>.yaml; without it, the defaults of each tier")
    .option("--json <file>", "also write the captured resources (secrets redacted) as JSON")
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  const stop = parseCommandLine(program, argv);
  if (stop !== undefined) return stop;
  const [stackFile] = program.args;
  const { json } = program.opts<{ json?: string }>();

  let targets: PlanTarget[];
  try {
    targets = stackFile
      ? [{ stackName: stackNameOfFile(stackFile), config: loadStackFile(stackFile) }]
      : (["single", "standard"] as const).map((tier) => ({
          stackName: `defaults-${tier}`,
          config: { "openemr:tier": tier },
        }));
  } catch (error) {
    return reportConfigError(error);
  }

  const runs: OfflineRun[] = [];
  for (const target of targets) {
    try {
      const run = await planStack(target);
      runs.push(run);
      const region = target.config["openemr:region"] ?? "us-east-1";
      const frontDoor = frontDoorFromOutputs(run.outputs);
      process.stdout.write(
        `${formatRun(run, region)}\n\n${frontDoor ? `${formatFrontDoor(frontDoor)}\n\n` : ""}` +
          `${planTotalLine(run, region)}\n\n`,
      );
    } catch (error) {
      return reportConfigError(error, target.stackName);
    }
  }
  if (json) writeFileSync(json, `${JSON.stringify(runs.map(redactRun), null, 2)}\n`);
  return 0;
}

function reportConfigError(error: unknown, stackName?: string): number {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`plan${stackName ? ` ${stackName}` : ""}: ${error.message.split("\n")[0]}\n`);
  for (const problem of error.problems) process.stderr.write(`${problem}\n`);
  // A mistake in the input, as for the audit: exit 2 (1 is for a run that found failures).
  return 2;
}

void main(process.argv.slice(2)).then((code) => process.exit(code));
