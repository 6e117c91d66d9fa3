// The deployed stack as the tooling sees it: `pulumi stack output --json`, read from a file
// (--outputs) or from the Pulumi CLI, and checked for the keys a command needs.
import { readFile } from "node:fs/promises";
import { $, which } from "zx";
import { OpsError, UsageError } from "./errors";

/** Stack outputs, as listed in docs/host-interface.md. */
export interface StackOutputs {
  url: string;
  adminPasswordSecretArn: string;
  /** `single` and `standard` tiers: the one host. */
  hostInstanceId: string;
  /** `ha` tier only: the hosts' Auto Scaling group. */
  hostGroupName?: string;
  dbEndpoint: string;
  backupBucket: string;
  backupPrefix: string;
  alarmTopicArn: string;
  dashboardName: string;
  region: string;
  tier: "single" | "standard" | "ha";
  logGroupPrefix: string;
  bootstrapDocumentName: string;
  /** `standard` and `ha` tiers. */
  dbInstanceIdentifier?: string;
}

export type OutputKey = keyof StackOutputs;

const TIERS: readonly StackOutputs["tier"][] = ["single", "standard", "ha"];

export interface OutputsSource {
  stack?: string;
  outputsFile?: string;
  /** The Pulumi project directory, for the CLI. */
  cwd?: string;
}

const OR_OUTPUTS_FILE = "or pass --outputs FILE (the JSON of `pulumi stack output --json`)";
const INSTALL_URL = "https://www.pulumi.com/docs/install/";

/**
 * Reads the outputs: the --outputs file when given, else the Pulumi CLI. When the CLI fails,
 * the error says whether it could not be started or ran and failed, with its own reason.
 */
export async function loadOutputs(source: OutputsSource): Promise<Record<string, unknown>> {
  if (source.outputsFile) return readOutputsFile(source.outputsFile);
  const subject = source.stack ? `--stack ${source.stack}` : "the selected Pulumi stack";
  if (!(await which("pulumi", { nothrow: true }))) {
    if (!source.stack)
      throw new UsageError(
        "no stack outputs: pass --outputs FILE (the JSON of `pulumi stack output --json`), " +
          "or install the Pulumi CLI and pass --stack",
      );
    throw new OpsError(
      `${subject}: the Pulumi CLI could not be started: \`pulumi\` is not on PATH`,
      `install it (${INSTALL_URL}) and log in, ${OR_OUTPUTS_FILE}`,
    );
  }
  const stackArgs = source.stack ? ["--stack", source.stack] : [];
  const result = await $({
    nothrow: true,
    quiet: true,
    cwd: source.cwd,
  })`pulumi stack output --json --show-secrets=false ${stackArgs}`;
  // zx runs the command through bash, which answers 126 or 127 when it cannot execute it.
  if (result.exitCode === null || result.exitCode === 126 || result.exitCode === 127) {
    throw new OpsError(
      `${subject}: the Pulumi CLI could not be started (exit ${result.exitCode}: ${firstErrorLine(result.stderr)})`,
      `reinstall it (${INSTALL_URL}) and log in, ${OR_OUTPUTS_FILE}`,
    );
  }
  if (result.exitCode !== 0) {
    throw new OpsError(
      `${subject}: \`pulumi stack output\` ran and failed (exit ${result.exitCode}): ${firstErrorLine(result.stderr)}`,
      `check the login (\`pulumi whoami\`) and the stack's name (\`pulumi stack ls\`), ${OR_OUTPUTS_FILE}`,
    );
  }
  return parseOutputs(result.stdout, "`pulumi stack output`");
}

/**
 * The line of a failed command's stderr that says why: its first `error:` line, else its first
 * line. The Pulumi CLI may follow its error with other lines, such as an upgrade notice.
 */
function firstErrorLine(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return (lines.find((line) => /^error:/i.test(line)) ?? lines[0] ?? "no output").slice(0, 300);
}

async function readOutputsFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `--outputs: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}); ` +
        "expected the JSON of `pulumi stack output --json`",
    );
  }
  return parseOutputs(text, `--outputs ${file}`);
}

function parseOutputs(text: string, origin: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${origin}: not JSON; expected the JSON of \`pulumi stack output --json\``);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(
      `${origin}: expected a JSON object of stack outputs, got ${Array.isArray(parsed) ? "an array" : typeof parsed}`,
    );
  }
  return parsed as Record<string, unknown>;
}

/**
 * The outputs a command needs, each a non-empty string; the first missing one is named.
 * `command` is the sub-command, for the message.
 */
export function requireOutputs<K extends OutputKey>(
  outputs: Record<string, unknown>,
  command: string,
  keys: readonly K[],
): Required<Pick<StackOutputs, K>> {
  for (const key of keys) {
    const value = outputs[key];
    if (key === "hostInstanceId" && value === undefined && outputs.tier === "ha")
      throw new UsageError(
        `${command} does not run on the ha tier: its hosts are the Auto Scaling group's instances, ` +
          "not one hostInstanceId; expected a single or standard stack (see docs/operations.md, On the ha tier)",
      );
    if (typeof value !== "string" || value === "") {
      const given = value === undefined ? "it is missing" : `got ${JSON.stringify(value)}`;
      throw new UsageError(
        `stack output "${key}" is needed by ${command} but ${given}; expected a non-empty string ` +
          "(is the stack deployed, and is --stack/--outputs the right one?)",
      );
    }
  }
  if ("tier" in outputs && keys.includes("tier" as K) && !TIERS.includes(outputs.tier as StackOutputs["tier"])) {
    throw new UsageError(
      `stack output "tier" is ${JSON.stringify(outputs.tier)}; expected "single", "standard" or "ha"`,
    );
  }
  return outputs as unknown as Required<Pick<StackOutputs, K>>;
}
