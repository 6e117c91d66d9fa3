// What every command runs with: where to write, how to show progress, the AWS clients of
// the stack's region, the stack's outputs and how often to poll long-running work.
import { awsClients, type AwsClients } from "./aws";
import type { Io } from "./io";
import { loadOutputs } from "./stack-outputs";
import { progressFor, type Progress } from "./progress";

/** Options every command accepts (see addStackOptions in cli.ts). */
export interface StackOptions {
  stack?: string;
  outputs?: string;
  region?: string;
  json?: boolean;
}

/** How the CLI is run: the real process, or a test. */
export interface RunSettings {
  io: Io;
  /** Interval between polls of SSM, RDS and logs; tests shorten it. */
  pollIntervalMs: number;
}

export interface Context extends RunSettings {
  progress: Progress;
  json: boolean;
  stack?: string;
  outputs: Record<string, unknown>;
  aws: AwsClients;
}

export async function stackContext(options: StackOptions, settings: RunSettings): Promise<Context> {
  const outputs = await loadOutputs({ stack: options.stack, outputsFile: options.outputs });
  return contextWith(outputs, options, settings);
}

/** A context for already-known outputs (provision reads them after `pulumi up`). */
export function contextWith(outputs: Record<string, unknown>, options: StackOptions, settings: RunSettings): Context {
  const region =
    options.region ??
    (typeof outputs.region === "string" && outputs.region ? outputs.region : undefined) ??
    process.env.AWS_REGION ??
    "us-east-1";
  return {
    ...settings,
    progress: progressFor(settings.io),
    json: options.json === true,
    stack: options.stack,
    outputs,
    aws: awsClients(region),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
