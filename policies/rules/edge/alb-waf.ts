import type { StackRule } from "../types";
import { AwsType, loadBalancerTypes } from "../resource-types";
import { citeInferred } from "../citations";
import { fail, pass, resultFor } from "../outcomes";
import { ofType, referencing } from "../joins";
import { isApplicationLoadBalancer } from "./load-balancers";

export const albWaf: StackRule = {
  kind: "stack",
  id: "alb-waf",
  area: "edge",
  description:
    "Every internet-facing application load balancer is protected by a WAF web ACL " +
    "(an aws.wafv2.WebAclAssociation names it).",
  citations: citeInferred("164.312(e)(1)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.wafv2.WebAclAssociation with resourceArn " +
    "the load balancer's ARN and webAclArn the stack's web ACL.",
  evaluate(resources) {
    return ofType(resources, ...loadBalancerTypes)
      .filter((balancer) => isApplicationLoadBalancer(balancer) && balancer.props.internal !== true)
      .map((balancer) => {
        const association = referencing(resources, balancer, "resourceArn", AwsType.webAclAssociation)[0];
        if (!association)
          return resultFor(
            balancer,
            fail(
              balancer,
              `no ${AwsType.webAclAssociation} has resourceArn set to it; expected a WAF web ACL in front of it`,
              { "webAclAssociation.resourceArn": null },
            ),
          );
        return resultFor(
          balancer,
          pass({
            "webAclAssociation.resourceArn": association.props.resourceArn,
            "webAclAssociation.webAclArn": association.props.webAclArn,
          }),
        );
      });
  },
};
