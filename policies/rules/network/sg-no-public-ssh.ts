import type { ResourceRule } from "../types";
import { cite, sections } from "../citations";
import { ingressTypes } from "../ingress";
import { worldOpenPortsOutcome } from "./open-ports";

export const SSH_PORT = 22;

export const sgNoPublicSsh: ResourceRule = {
  kind: "resource",
  id: "sg-no-public-ssh",
  area: "network",
  description: "No security group ingress opens port 22 (SSH) to 0.0.0.0/0 or ::/0.",
  citations: cite(...sections.SG),
  severity: "critical",
  enforcement: "mandatory",
  remediation:
    "Remove the SSH ingress; operators reach hosts through SSM Session Manager, which needs no inbound port.",
  resourceTypes: ingressTypes,
  evaluate: (resource) => worldOpenPortsOutcome(resource, [SSH_PORT]),
};
