// The audit command line: `npm run audit [-- STACK_FILE] [--out DIR] [--waivers FILE] [--settings FILE]`.
// Plans the stack (the defaults when no stack file is given) with no cloud, evaluates every
// rule, writes report.md, report.json, report.sarif and report.html.
// Exit codes: 0 no mandatory failure, 1 a mandatory rule fails, 2 bad arguments or config.
import { readFileSync } from "fs";
import * as path from "path";
import { Command } from "commander";
import { parseCommandLine } from "../../infra/command-line";
import { ConfigError, loadStackFile, stackNameOfFile } from "../../infra/config";
import { planStack } from "../../infra/plan/plan";
import { allRules } from "../rules";
import { parse as parseYaml } from "yaml";
import type { PolicySettings } from "../rules/types";
import { defaultSettings, settingsFromConfig, SettingsError } from "../settings";
import { defaultWaiversFile, loadWaivers, WaiverFileError } from "../waivers";
import { auditRun, writeReports } from "./index";
import { costSummary, estimatePlannedRun } from "../../infra/cost/report";
import { CostInputError } from "../../infra/cost/tables";

const packVersion: string = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")).version;

/** The settings file: a map of setting keys, validated by settingsFromConfig. */
function readSettingsFile(file: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message.split("\n")[0];
    throw new SettingsError([`${file}: ${reason}`]);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document))
    throw new SettingsError([`${file}: expected a map of setting names to values`]);
  const unknown = Object.keys(document).filter((key) => !(key in defaultSettings));
  if (unknown.length > 0)
    throw new SettingsError(
      unknown.map(
        (key) => `${file}: ${key} is not a setting; expected one of ${Object.keys(defaultSettings).join(", ")}`,
      ),
    );
  return document as Record<string, unknown>;
}

export interface Output {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processOutput: Output = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** Runs the audit for `argv` (the arguments after the command); resolves to the exit code. */
export async function runAuditCli(argv: string[], output: Output = processOutput): Promise<number> {
  const usageProblem = (problems: string[], heading: string): number => {
    output.stderr(`audit: ${heading}\n`);
    for (const problem of problems) output.stderr(`${problem}\n`);
    return 2;
  };
  const program = new Command("audit")
    .description(
      "Audit the stack offline against the HIPAA policy pack and write the report (Markdown, JSON, SARIF, HTML)",
    )
    .argument("[stack-file]", "a Pulumi.<stack>.yaml; without it, the default configuration")
    .option("--out <dir>", "directory for the reports", "out/audit")
    .option("--waivers <file>", "waivers file", path.relative(process.cwd(), defaultWaiversFile))
    .option(
      "--settings <file>",
      "rule settings (YAML or JSON: minLogRetentionDays, worldOpenPorts, ...); unset keys keep their defaults",
    )
    .configureOutput({ writeOut: output.stdout, writeErr: output.stderr });
  const stop = parseCommandLine(program, argv);
  if (stop !== undefined) return stop;
  const [stackFile] = program.args;
  const options = program.opts<{ out: string; waivers: string; settings?: string }>();

  let config: Record<string, string> = {};
  let waivers;
  let settings: PolicySettings;
  try {
    if (stackFile) config = loadStackFile(stackFile);
    waivers = loadWaivers(options.waivers);
    const overrides = options.settings ? readSettingsFile(options.settings) : {};
    // The stack's tier (validated by the plan below) decides tier-dependent enforcement unless
    // the settings file names one.
    settings = settingsFromConfig(overrides, options.settings);
    if (overrides.tier === undefined) settings.tier = config["openemr:tier"] ?? defaultSettings.tier;
  } catch (error) {
    if (error instanceof ConfigError) return usageProblem(error.problems, error.message.split("\n")[0]);
    if (error instanceof WaiverFileError) return usageProblem(error.problems, "invalid waivers file");
    if (error instanceof SettingsError) return usageProblem(error.problems, "invalid settings file");
    throw error;
  }

  let run;
  try {
    run = await planStack({ config, stackName: stackFile ? stackNameOfFile(stackFile) : "defaults" });
  } catch (error) {
    if (error instanceof ConfigError) return usageProblem(error.problems, error.message.split("\n")[0]);
    throw error;
  }

  // The monthly estimate next to the findings; a region without a price file has none.
  let cost;
  try {
    cost = costSummary(estimatePlannedRun(run, config["openemr:region"] ?? "us-east-1"));
  } catch (error) {
    if (!(error instanceof CostInputError)) throw error;
  }
  const report = auditRun(run, { rules: allRules, waivers, settings, configFile: stackFile ?? null, cost });
  const files = writeReports(report, options.out, packVersion);

  const { summary } = report;
  output.stdout(
    `audit ${run.project}/${run.stack} (tier ${settings.tier}): ${report.result === "pass" ? "PASS" : "FAIL"}\n`,
  );
  const mandatoryFailing = report.rules.filter((rule) => rule.results.some((result) => result.blocking)).length;
  const { ruleStatus } = summary;
  const counts = [
    `${ruleStatus.pass} pass`,
    `${ruleStatus.fail} fail (${mandatoryFailing} mandatory)`,
    `${ruleStatus.waived} waived`,
    `${ruleStatus.unknown} unknown`,
    `${ruleStatus["not-applicable"]} not applicable`,
  ].join(", ");
  output.stdout(`  ${summary.resources} resources, ${summary.rules} rules: ${counts}\n`);
  for (const rule of report.rules) {
    for (const result of rule.results.filter((item) => item.status === "fail")) {
      output.stdout(`  ${result.blocking ? "FAIL" : "advisory"} ${rule.id}: ${result.message}\n`);
    }
  }
  if (cost) output.stdout(`  monthly estimate: $${cost.monthlyUsd.toFixed(2)} (on-demand, ${cost.region})\n`);
  output.stdout(`  reports: ${files.join(", ")}\n`);
  return report.result === "pass" ? 0 : 1;
}
