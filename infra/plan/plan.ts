// The offline plan: the real program (config validation, then createStack) run under the
// offline mocks, so what it captures is what `pulumi up` would be asked to create.
import { readStackConfig } from "../config";
import { runOffline, type OfflineRun } from "../offline/run";
import { createStack } from "../stack";

export interface PlanOptions {
  /** Engine-style config (`openemr:tier` -> `standard`); empty plans the defaults. */
  config?: Record<string, string>;
  stackName?: string;
}

/** Plans one stack; a config mistake rejects with ConfigError before any resource is declared. */
export function planStack(options: PlanOptions): Promise<OfflineRun> {
  const config = options.config ?? {};
  return runOffline(() => createStack(readStackConfig()), {
    config,
    stack: options.stackName ?? "offline",
    region: config["openemr:region"] ?? "us-east-1",
  });
}
