import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const ec2EbsOptimized: ResourceRule = {
  kind: "resource",
  id: "ec2-ebs-optimized",
  area: "compute",
  description:
    "Instances and launch templates are EBS-optimized, so storage traffic does not compete with the network.",
  citations: cite("164.308(a)(7)(i)"),
  severity: "low",
  enforcement: "mandatory",
  remediation: "Set ebsOptimized: true and use an instance type that supports it.",
  resourceTypes: [AwsType.instance, AwsType.launchTemplate],
  evaluate: (resource) => expectProperty(resource, "ebsOptimized", isTrue, "true"),
};
