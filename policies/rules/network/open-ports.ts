// Shared by the two port rules: a resource fails when one of its ingress entries opens any of
// `ports` to the whole internet.
import type { Outcome, RuleResource } from "../types";
import { coversPort, describePorts, entryEvidence, ingressEntries, worldSources } from "../ingress";
import { fail, notApplicable, pass } from "../outcomes";

export function worldOpenPortsOutcome(resource: RuleResource, ports: number[]): Outcome {
  const entries = ingressEntries(resource);
  if (entries.length === 0) return notApplicable("declares no ingress");
  for (const entry of entries) {
    for (const source of worldSources(entry)) {
      const opened = ports.filter((port) => coversPort(entry, port));
      if (opened.length > 0) {
        return fail(
          resource,
          `${source.property} is "${source.cidr}" on ${describePorts(entry)}; ` +
            `expected port ${opened.join(", ")} closed to the internet`,
          entryEvidence(entry, source),
        );
      }
    }
  }
  return pass(
    Object.assign({}, ...entries.map((entry) => entryEvidence(entry, worldSources(entry)[0] ?? entry.cidrs[0]))),
  );
}
