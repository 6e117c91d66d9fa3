import type { StackRule } from "../types";
import { AwsType, loadBalancerTypes } from "../resource-types";
import { citeInferred } from "../citations";
import { ingressEntries, ingressTypes, worldSources } from "../ingress";
import { asArray, fail, pass, resultFor } from "../outcomes";
import { ofType, refersTo, resolve } from "../joins";
import { isApplicationLoadBalancer, listenersOf } from "./load-balancers";

const SIGN_IN_ACTIONS = ["authenticate-cognito", "authenticate-oidc"];

export const albOpenWithoutAuth: StackRule = {
  kind: "stack",
  id: "alb-open-without-auth",
  area: "edge",
  description:
    "An internet-facing load balancer open to the whole internet (0.0.0.0/0 or ::/0) signs users in itself " +
    "(Cognito or OIDC) before OpenEMR's login page; one open to listed client ranges only, or signing in, passes.",
  citations: citeInferred("164.312(a)(1)", "164.312(d)"),
  severity: "medium",
  enforcement: "advisory",
  remediation:
    "Narrow openemr:allowedCidrs to the clinic's networks, or set openemr:authentication " +
    "(type cognito, or oidc with the clinic's identity provider).",
  evaluate(resources) {
    return ofType(resources, ...loadBalancerTypes)
      .filter((balancer) => isApplicationLoadBalancer(balancer) && balancer.props.internal !== true)
      .map((balancer) => {
        const https = listenersOf(resources, balancer).filter((listener) => listener.props.protocol === "HTTPS");
        const signsIn = https.filter((listener) =>
          asArray(listener.props.defaultActions).some((action: any) => SIGN_IN_ACTIONS.includes(action?.type)),
        );
        const worldOpen = ofType(resources, ...ingressTypes).flatMap((resource) =>
          ingressEntries(resource).flatMap((entry) => {
            const group =
              resource.type === AwsType.securityGroup
                ? resource
                : resolve(resources, entry.groupReference, AwsType.securityGroup);
            const onBalancer =
              group !== undefined && asArray(balancer.props.securityGroups).some((ref) => refersTo(ref, group));
            return onBalancer ? worldSources(entry).map((source) => `${resource.name}: ${source.cidr}`) : [];
          }),
        );
        if (worldOpen.length === 0) return resultFor(balancer, pass({ worldOpenIngress: [] }));
        if (https.length > 0 && signsIn.length === https.length)
          return resultFor(
            balancer,
            pass({ worldOpenIngress: worldOpen, signIn: signsIn.map((listener) => listener.name) }),
          );
        return resultFor(
          balancer,
          fail(
            balancer,
            `its security group admits ${worldOpen.join(", ")} and no HTTPS listener's defaultActions ` +
              `signs users in (${SIGN_IN_ACTIONS.join(" or ")}); expected listed client ranges, or sign-in ` +
              "at the load balancer, before OpenEMR's login page",
            { worldOpenIngress: worldOpen, "defaultActions.type": "forward" },
          ),
        );
      });
  },
};
