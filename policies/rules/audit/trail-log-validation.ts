import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { expectProperty, isTrue } from "../outcomes";

export const trailLogValidation: ResourceRule = {
  kind: "resource",
  id: "trail-log-validation",
  area: "audit",
  description: "CloudTrail trails have log file integrity validation on, so tampering with a log file can be detected.",
  citations: cite("164.312(c)(1)", "164.312(c)(2)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set enableLogFileValidation: true.",
  resourceTypes: [AwsType.trail],
  evaluate: (resource) => expectProperty(resource, "enableLogFileValidation", isTrue, "true"),
};
