import type { StackRule } from "../types";
import { AwsType, listenerTypes } from "../resource-types";
import { citeInferred } from "../citations";
import { fail, notApplicable, pass, resultFor } from "../outcomes";
import { ofType, resolve } from "../joins";

export const albTrustedCertificate: StackRule = {
  kind: "stack",
  id: "alb-trusted-certificate",
  area: "edge",
  description:
    "HTTPS listeners present a certificate browsers trust (issued by ACM or another public authority), " +
    "not a self-signed one: users cannot tell a self-signed site from an impostor.",
  citations: citeInferred("164.312(d)", "164.312(e)(1)"),
  severity: "medium",
  enforcement: "advisory",
  remediation:
    "Set openemr:domain (with openemr:hostedZoneId, or add the validation record ACM asks for), " +
    "or openemr:certificateArn; the self-signed certificate is for a first trial only.",
  evaluate(resources) {
    const selfSigned = ofType(resources, AwsType.selfSignedCert);
    return ofType(resources, ...listenerTypes)
      .filter((listener) => listener.props.protocol === "HTTPS")
      .map((listener) => {
        const certificate = resolve(resources, listener.props.certificateArn, AwsType.acmCertificate);
        if (!certificate)
          return resultFor(
            listener,
            listener.props.certificateArn
              ? pass({ certificateArn: listener.props.certificateArn, certificate: "not declared by this stack" })
              : notApplicable("has no certificateArn (alb-acm-cert reports it)"),
          );
        const body = certificate.props.certificateBody;
        const signer = body ? selfSigned.find((cert) => cert.props.certPem === body) : undefined;
        if (signer)
          return resultFor(
            listener,
            fail(
              listener,
              `certificateArn names aws:acm/certificate:Certificate "${certificate.name}", whose certificateBody ` +
                `is the self-signed ${AwsType.selfSignedCert} "${signer.name}"; ` +
                "expected a certificate a public authority issued (browsers warn on every visit)",
              { certificateArn: listener.props.certificateArn, selfSignedCert: signer.name },
            ),
          );
        return resultFor(
          listener,
          pass({
            certificate: certificate.name,
            [body ? "imported" : "validationMethod"]: body ? true : certificate.props.validationMethod,
          }),
        );
      });
  },
};
