import type { ResourceRule } from "../types";
import { listenerTypes } from "../resource-types";
import { cite, sections } from "../citations";
import { expectProperty, notApplicable } from "../outcomes";

/** An ACM certificate ARN in any partition. */
const ACM_ARN = /^arn:aws[a-z-]*:acm:/;

export const albAcmCert: ResourceRule = {
  kind: "resource",
  id: "alb-acm-cert",
  area: "edge",
  description:
    "HTTPS listeners use a certificate held in ACM " +
    "(issued with DNS validation, or imported), not an IAM server certificate.",
  citations: cite(...sections.ENC),
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set certificateArn to an aws.acm.Certificate (validated through Route 53, or imported) ARN.",
  resourceTypes: listenerTypes,
  evaluate(resource) {
    if (resource.props.protocol !== "HTTPS")
      return notApplicable(`is a ${resource.props.protocol ?? "non-HTTPS"} listener`);
    return expectProperty(
      resource,
      "certificateArn",
      (value) => ACM_ARN.test(String(value ?? "")),
      "an ACM certificate ARN (arn:aws:acm:...)",
    );
  },
};
