import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, expectProperty, isSet } from "../outcomes";

export const ec2InVpc: ResourceRule = {
  kind: "resource",
  id: "ec2-in-vpc",
  area: "compute",
  description:
    "Hosts are launched into a subnet of the stack's VPC " +
    "(an instance's subnetId, an Auto Scaling group's vpcZoneIdentifiers).",
  citations: cite(...sections.ACC),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set subnetId (or the group's vpcZoneIdentifiers) to the private app subnets.",
  resourceTypes: [AwsType.instance, AwsType.autoscalingGroup],
  evaluate(resource) {
    if (resource.type === AwsType.autoscalingGroup) {
      return expectProperty(
        resource,
        "vpcZoneIdentifiers",
        (value) => asArray(value).length > 0,
        "one or more subnet ids",
      );
    }
    return expectProperty(resource, "subnetId", isSet, "a subnet id");
  },
};
