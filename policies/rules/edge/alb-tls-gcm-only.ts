import type { ResourceRule } from "../types";
import { listenerTypes } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { expectProperty, notApplicable } from "../outcomes";

/**
 * ELB security policies whose every cipher is AES-GCM (TLS 1.3 and ECDHE TLS 1.2 suites only), by
 * AWS's "Ciphers by policy" tables of the Application Load Balancer guide. The non-FIPS TLS 1.3
 * policies also offer ChaCha20-Poly1305, and the others CBC suites, so they are not in the list.
 */
export const GCM_ONLY_TLS_POLICIES = [
  "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
  "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
];

export const albTlsGcmOnly: ResourceRule = {
  kind: "resource",
  id: "alb-tls-gcm-only",
  area: "edge",
  description:
    "HTTPS listeners use a security policy that negotiates TLS 1.3 or 1.2 with AES-GCM ciphers only " +
    "(FIPS-approved, NIST SP 800-52 suites, which HHS's guidance names for PHI in transit).",
  citations: citeInferred(...sections.TLS),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    'Set sslPolicy to "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04" (TLS 1.3 and 1.2, AES-GCM only), ' +
    'or "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04" when every client speaks TLS 1.3.',
  resourceTypes: listenerTypes,
  evaluate(resource) {
    if (resource.props.protocol !== "HTTPS")
      return notApplicable(`is a ${resource.props.protocol ?? "non-HTTPS"} listener`);
    return expectProperty(
      resource,
      "sslPolicy",
      (value) => GCM_ONLY_TLS_POLICIES.includes(String(value)),
      `one of ${GCM_ONLY_TLS_POLICIES.join(", ")} (AES-GCM ciphers only)`,
    );
  },
};
