import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { expectProperty } from "../outcomes";

export const ec2Imdsv2: ResourceRule = {
  kind: "resource",
  id: "ec2-imdsv2",
  area: "compute",
  description: "Instances and launch templates require IMDSv2 session tokens for the instance metadata service.",
  citations: cite("164.308(a)(3)(i)", "164.308(a)(4)(ii)(A)", "164.308(a)(4)(ii)(C)", "164.312(a)(1)"),
  severity: "high",
  enforcement: "mandatory",
  remediation: 'Set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }.',
  resourceTypes: [AwsType.instance, AwsType.launchTemplate],
  evaluate: (resource) =>
    expectProperty(resource, "metadataOptions.httpTokens", (value) => value === "required", '"required"'),
};
