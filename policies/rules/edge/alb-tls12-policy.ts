import type { StackRule } from "../types";
import { loadBalancerTypes } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { fail, failProperty, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";
import { isApplicationLoadBalancer, listenersOf } from "./load-balancers";

/** ELB security policies that negotiate TLS 1.2 or newer only (AWS: "TLS13-1-2", "TLS-1-2", "FS-1-2", "TLS13-1-3"). */
const TLS12_POLICY = /^ELBSecurityPolicy-(TLS13-1-[23]|TLS-1-2|FS-1-2)/;

export const albTls12Policy: StackRule = {
  kind: "stack",
  id: "alb-tls12-policy",
  area: "edge",
  description:
    "Every application load balancer has an HTTPS listener, " +
    "and every HTTPS listener uses a security policy that allows TLS 1.2 or newer only.",
  citations: citeInferred(...sections.TLS),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    'Declare an HTTPS listener on 443 with sslPolicy "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04" ' +
    "(or newer); the default policy still allows TLS 1.0.",
  evaluate(resources) {
    return ofType(resources, ...loadBalancerTypes)
      .filter(isApplicationLoadBalancer)
      .map((balancer) => {
        const https = listenersOf(resources, balancer).filter((listener) => listener.props.protocol === "HTTPS");
        if (https.length === 0)
          return resultFor(
            balancer,
            fail(
              balancer,
              `no listener with loadBalancerArn set to it has protocol "HTTPS"; expected an HTTPS listener`,
              { "listener.protocol": null },
            ),
          );
        const weak = https.find((listener) => !TLS12_POLICY.test(String(listener.props.sslPolicy ?? "")));
        if (weak)
          return resultFor(
            balancer,
            failProperty(
              weak,
              "sslPolicy",
              weak.props.sslPolicy,
              "a TLS 1.2+ policy such as ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
            ),
          );
        return resultFor(
          balancer,
          pass(Object.fromEntries(https.map((listener) => [`${listener.name}.sslPolicy`, listener.props.sslPolicy]))),
        );
      });
  },
};
