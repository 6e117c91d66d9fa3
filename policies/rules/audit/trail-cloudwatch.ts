import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { all, expectProperty, isSet } from "../outcomes";

export const trailCloudwatch: ResourceRule = {
  kind: "resource",
  id: "trail-cloudwatch",
  area: "audit",
  description: "CloudTrail trails deliver to CloudWatch Logs, so API activity can be searched and alarmed on.",
  citations: cite("164.308(a)(3)(ii)(A)", ...sections.AUD),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Set cloudWatchLogsGroupArn (the group's ARN with `:*`) and cloudWatchLogsRoleArn " +
    "(a role CloudTrail assumes to write to it).",
  resourceTypes: [AwsType.trail],
  evaluate: (resource) =>
    all([
      expectProperty(resource, "cloudWatchLogsGroupArn", isSet, "a CloudWatch Logs group ARN"),
      expectProperty(resource, "cloudWatchLogsRoleArn", isSet, "a role ARN CloudTrail assumes to deliver"),
    ]),
};
