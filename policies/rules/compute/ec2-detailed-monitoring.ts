import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const ec2DetailedMonitoring: ResourceRule = {
  kind: "resource",
  id: "ec2-detailed-monitoring",
  area: "compute",
  description: "Instances and launch templates have detailed (one-minute) CloudWatch monitoring on.",
  citations: cite(...sections.AUD),
  severity: "low",
  enforcement: "mandatory",
  remediation: "Set monitoring: true on the instance (monitoring: { enabled: true } on a launch template).",
  resourceTypes: [AwsType.instance, AwsType.launchTemplate],
  evaluate(resource) {
    if (resource.type === AwsType.launchTemplate) return expectProperty(resource, "monitoring.enabled", isTrue, "true");
    return expectProperty(resource, "monitoring", isTrue, "true");
  },
};
