// Lookups over an offline run, shared by the infra tests.
import { parse } from "yaml";
import type { OfflineRun, PlannedResource } from "../../infra/offline/run";

export function ofType(run: OfflineRun, type: string): PlannedResource[] {
  return run.resources.filter((resource) => resource.type === type);
}

export function named(run: OfflineRun, type: string, name: string): PlannedResource {
  const found = run.resources.find((resource) => resource.type === type && resource.name === name);
  if (!found)
    throw new Error(
      `no ${type} named ${name}; have: ${ofType(run, type)
        .map((resource) => resource.name)
        .join(", ")}`,
    );
  return found;
}

/** The resource whose computed id (or ARN) is `reference`. */
export function byReference(run: OfflineRun, reference: unknown): PlannedResource | undefined {
  return run.resources.find(
    (resource) => resource.custom && (resource.state.id === reference || resource.state.arn === reference),
  );
}

export function policyStatements(policy: string): any[] {
  return [].concat(JSON.parse(policy).Statement);
}

export function hostInstance(run: OfflineRun): PlannedResource {
  return named(run, "aws:ec2/instance:Instance", "host-instance");
}

/** settings.env as the host's user-data writes it. */
export function userDataSettings(run: OfflineRun): Record<string, string> {
  const userData = parse(hostInstance(run).inputs.userData.replace(/^#cloud-config\n/, ""));
  const file = userData.write_files.find((entry: any) => entry.path === "/etc/openemr-aws/settings.env");
  return Object.fromEntries(
    (file.content as string)
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/** Every value the capture marks secret (inputs at secret paths, generated passwords). */
export function secretValues(run: OfflineRun): string[] {
  const values: string[] = [];
  const at = (object: any, path: string) => (path.match(/[^.[\]]+/g) ?? []).reduce((node, key) => node?.[key], object);
  for (const resource of run.resources) {
    for (const path of resource.secretPaths)
      values.push(JSON.stringify(at(resource.inputs, path)).replace(/^"|"$/g, ""));
    if (resource.type === "random:index/randomPassword:RandomPassword") values.push(resource.state.result);
  }
  return values.filter((value) => value && value.length >= 8);
}
