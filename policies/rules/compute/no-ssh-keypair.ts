import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { coversPort, describePorts, entryEvidence, ingressEntries, ingressTypes, worldSources } from "../ingress";
import { fail, failProperty, isSet, notApplicable, pass } from "../outcomes";
import { SSH_PORT } from "../network/sg-no-public-ssh";

export const noSshKeypair: ResourceRule = {
  kind: "resource",
  id: "no-ssh-keypair",
  area: "compute",
  description:
    "No SSH anywhere: no key pair declared or set on a host or launch template, " +
    "and no ingress to port 22 from any source (world-open port 22 is reported by sg-no-public-ssh).",
  citations: citeInferred(...sections.ACC),
  severity: "high",
  enforcement: "mandatory",
  remediation: "Remove keyName and the key pair, and every port 22 ingress; use SSM Session Manager for shell access.",
  resourceTypes: [AwsType.instance, AwsType.launchTemplate, AwsType.keyPair, ...ingressTypes],
  evaluate(resource) {
    if (resource.type === AwsType.keyPair)
      return fail(
        resource,
        `keyName is ${JSON.stringify(resource.props.keyName ?? resource.name)}: ` +
          "an SSH key pair is declared; expected none",
        { keyName: resource.props.keyName ?? null },
      );
    if (resource.type === AwsType.instance || resource.type === AwsType.launchTemplate) {
      const keyName = resource.props.keyName;
      return isSet(keyName)
        ? failProperty(resource, "keyName", keyName, "not set (no SSH key)")
        : pass({ keyName: keyName ?? null });
    }
    const entries = ingressEntries(resource);
    if (entries.length === 0) return notApplicable("declares no ingress");
    const ssh = entries.find((entry) => coversPort(entry, SSH_PORT) && worldSources(entry).length === 0);
    if (ssh)
      return fail(
        resource,
        `${ssh.path}fromPort/toPort opens ${describePorts(ssh)}, which includes SSH; expected no port 22 ingress`,
        entryEvidence(ssh, ssh.cidrs[0]),
      );
    return pass(Object.assign({}, ...entries.map((entry) => entryEvidence(entry))));
  },
};
