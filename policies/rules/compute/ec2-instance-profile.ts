import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, isSet } from "../outcomes";

export const ec2InstanceProfile: ResourceRule = {
  kind: "resource",
  id: "ec2-instance-profile",
  area: "compute",
  description:
    "Instances and launch templates run with an IAM instance profile (a role), never with stored credentials.",
  citations: cite(...sections.IAM),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Create an aws.iam.InstanceProfile for the host's least-privilege role and set iamInstanceProfile to it.",
  resourceTypes: [AwsType.instance, AwsType.launchTemplate],
  evaluate(resource) {
    if (resource.type === AwsType.launchTemplate) {
      return expectProperty(
        resource,
        "iamInstanceProfile",
        (value) => isSet(value?.name) || isSet(value?.arn),
        "a profile name or ARN",
      );
    }
    return expectProperty(resource, "iamInstanceProfile", isSet, "an instance profile name");
  },
};
