import type { ResourceRule } from "../types";
import { loadBalancerTypes } from "../resource-types";
import { cite, sections } from "../citations";
import { all, expectProperty, isSet, isTrue } from "../outcomes";

export const albAccessLogs: ResourceRule = {
  kind: "resource",
  id: "alb-access-logs",
  area: "edge",
  description: "Load balancers write access logs to a bucket.",
  citations: cite(...sections.AUD),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Set accessLogs: { enabled: true, bucket: <the access-log bucket>, prefix } " +
    "(the bucket must be SSE-S3 and allow ELB log delivery).",
  resourceTypes: loadBalancerTypes,
  evaluate: (resource) =>
    all([
      expectProperty(resource, "accessLogs.enabled", isTrue, "true"),
      expectProperty(resource, "accessLogs.bucket", isSet, "the access-log bucket's name"),
    ]),
};
