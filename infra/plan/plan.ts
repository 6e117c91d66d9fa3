// The offline plan: the real program (config validation, then createStack) run under the
// offline mocks, so what it captures is what `pulumi up` would be asked to create.
import { readStackConfig } from "../config";
import { runOffline, type OfflineRun } from "../offline/run";
import { createStack } from "../stack";
import { placeholderValues } from "./report";

export interface PlanOptions {
  /** Engine-style config (`openemr:tier` -> `standard`); empty plans the defaults. */
  config?: Record<string, string>;
  stackName?: string;
}

/** A planned stack, with the values the offline mocks made up. */
export interface PlannedRun extends OfflineRun {
  /**
   * Each made-up value (account id, instance id, host name, ...) and what it stands for; a string
   * of the run that is or contains one of them is a placeholder (see placeholderValues).
   */
  placeholders: Record<string, string>;
}

/** Plans one stack; a config mistake rejects with ConfigError before any resource is declared. */
export async function planStack(options: PlanOptions): Promise<PlannedRun> {
  const config = options.config ?? {};
  const region = config["openemr:region"] ?? "us-east-1";
  const run = await runOffline(() => createStack(readStackConfig()), {
    config,
    stack: options.stackName ?? "offline",
    region,
  });
  // Right after the stack's name, so a person reading the JSON sees it before the resources.
  const { project, stack, ...rest } = run;
  return { project, stack, placeholders: placeholderValues(run, region), ...rest };
}
