// Runs a Pulumi program in-process under mocks and captures every resource it declares,
// the way the engine would see it: type, name, parent, inputs (secrets unwrapped, their
// paths recorded) and the outputs the mocks computed. The offline plan, the policy runner
// and the tests all read this one capture.
import * as pulumi from "@pulumi/pulumi";
import { offlineMocks } from "./mocks";

// Internal SDK modules: the public API has no hook for "all registrations are done" nor
// for a resource's parent, and both are needed to capture a whole program.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");

export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  /** URN of the parent resource (a component, or the stack). */
  parent?: string;
  /** Reference to the resource's provider, `<provider urn>::<provider id>`, when one was set. */
  provider?: string;
  /** True for cloud resources, false for components and the stack. */
  custom: boolean;
  /** Inputs as the program declared them, secrets unwrapped. */
  inputs: Record<string, any>;
  /** Dotted paths of the inputs that were marked secret. */
  secretPaths: string[];
  /** Inputs plus the outputs the mocks computed. */
  state: Record<string, any>;
  protect: boolean;
  retainOnDelete: boolean;
  /** URNs the resource was declared to depend on (`dependsOn`), besides what its inputs imply. */
  dependsOn: string[];
  /** How long the engine waits for a create, when the resource sets `customTimeouts` (e.g. `45m`). */
  customTimeouts?: { create?: string };
}

export interface OfflineRun {
  project: string;
  stack: string;
  resources: PlannedResource[];
  /** The stack's outputs (what the program returned), secrets unwrapped. */
  outputs: Record<string, any>;
  /** Provider functions the program called (lookups such as the AMI), with their arguments. */
  invokes: PlannedInvoke[];
}

export interface PlannedInvoke {
  token: string;
  inputs: Record<string, any>;
}

export interface OfflineRunOptions {
  project?: string;
  stack?: string;
  region?: string;
  /** Stack config as the engine passes it: fully qualified keys, string values (JSON for objects). */
  config?: Record<string, string>;
}

/** Replaces the SDK's secret wrappers with their values, recording where they were. */
export function unwrapSecrets(value: any, path = "", secretPaths: string[] = []): any {
  if (value && typeof value === "object" && value[rpc.specialSigKey] === rpc.specialSecretSig) {
    secretPaths.push(path);
    return unwrapSecrets(value.value, path, secretPaths);
  }
  if (Array.isArray(value)) return value.map((item, index) => unwrapSecrets(item, `${path}[${index}]`, secretPaths));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        unwrapSecrets(item, path ? `${path}.${key}` : key, secretPaths),
      ]),
    );
  }
  return value;
}

/**
 * Runs `program` under mocks and returns what it declared. Runs are sequential: the SDK
 * keeps one global runtime, so a second run waits for the first.
 */
export async function runOffline(program: () => unknown, options: OfflineRunOptions = {}): Promise<OfflineRun> {
  const previous = queue;
  let release!: () => void;
  queue = new Promise<void>((resolve) => (release = resolve));
  await previous;
  try {
    return await runExclusive(program, options);
  } finally {
    release();
  }
}

let queue: Promise<void> = Promise.resolve();

async function runExclusive(program: () => unknown, options: OfflineRunOptions): Promise<OfflineRun> {
  const project = options.project ?? "openemr-aws";
  const stack = options.stack ?? "offline";
  const region = options.region ?? "us-east-1";
  pulumi.runtime.setAllConfig(options.config ?? {}, []);
  const mocks = offlineMocks(region);
  const invokes: PlannedInvoke[] = [];
  const recordingMocks: pulumi.runtime.Mocks = {
    newResource: (args) => mocks.newResource(args),
    call: (args) => {
      invokes.push({ token: args.token, inputs: unwrapSecrets(args.inputs) });
      return mocks.call(args);
    },
  };
  await pulumi.runtime.setMocks(recordingMocks, project, stack, false);

  const captured = new Map<string, PlannedResource>();
  const monitor = settings.getMonitor();
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request: any, callback: (error: any, response: any) => void) =>
    registerResource(request, (error: any, response: any) => {
      if (!error) {
        const secretPaths: string[] = [];
        const inputs = unwrapSecrets(rpc.deserializeProperties(request.getObject()), "", secretPaths);
        const urn = response.getUrn();
        captured.set(urn, {
          urn,
          type: request.getType(),
          name: request.getName(),
          parent: request.getParent() || undefined,
          provider: request.getProvider() || undefined,
          custom: request.getCustom(),
          inputs,
          secretPaths,
          state: unwrapSecrets(rpc.deserializeProperties(response.getObject())),
          protect: request.getProtect() === true,
          retainOnDelete: request.getRetainondelete() === true,
          dependsOn: request.getDependenciesList(),
          ...(request.getCustomtimeouts()?.getCreate()
            ? { customTimeouts: { create: request.getCustomtimeouts().getCreate() } }
            : {}),
        });
      }
      callback(error, response);
    });

  let programError: Error | undefined;
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    try {
      return (await program()) as any;
    } catch (error) {
      programError = error as Error;
      return undefined;
    }
  });
  await settings.waitForRPCs();
  if (programError) throw programError;
  return { project, stack, resources: [...captured.values()], outputs: unwrapSecrets(outputs ?? {}), invokes };
}
