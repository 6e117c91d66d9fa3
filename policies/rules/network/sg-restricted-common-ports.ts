import type { ResourceRule } from "../types";
import { cite, sections } from "../citations";
import { ingressTypes } from "../ingress";
import { worldOpenPortsOutcome } from "./open-ports";

/** FTP, RDP, MySQL and the other administrative and database ports AWS Config's restricted-common-ports names. */
export const COMMON_PORTS = [20, 21, 3389, 3306, 3309, 4333];

export const sgRestrictedCommonPorts: ResourceRule = {
  kind: "resource",
  id: "sg-restricted-common-ports",
  area: "network",
  description:
    `No security group ingress opens ports ${COMMON_PORTS.join(", ")} ` +
    "(FTP, RDP, MySQL and other administrative ports) to 0.0.0.0/0 or ::/0.",
  citations: cite(...sections.SG),
  severity: "critical",
  enforcement: "mandatory",
  remediation:
    "Allow these ports only from another security group " +
    "(e.g. the database group from the host group), never from a CIDR that covers the internet.",
  resourceTypes: ingressTypes,
  evaluate: (resource) => worldOpenPortsOutcome(resource, COMMON_PORTS),
};
