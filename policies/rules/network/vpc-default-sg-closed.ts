import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { asArray, fail, pass, resultFor } from "../outcomes";
import { ofType, referencing } from "../joins";

export const vpcDefaultSgClosed: StackRule = {
  kind: "stack",
  id: "vpc-default-sg-closed",
  area: "network",
  description: "Every VPC's default security group is adopted and has no ingress or egress rules.",
  citations: cite("164.312(e)(1)"),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Declare an aws.ec2.DefaultSecurityGroup for the VPC with `ingress: []` and `egress: []`, " +
    "and attach no rules to it; give every resource its own group.",
  evaluate(resources) {
    return ofType(resources, AwsType.vpc).map((vpc) => {
      const adopted = referencing(resources, vpc, "vpcId", AwsType.defaultSecurityGroup);
      if (adopted.length === 0) {
        return resultFor(
          vpc,
          fail(
            vpc,
            `no ${AwsType.defaultSecurityGroup} has vpcId set to this VPC, ` +
              "so its default group keeps AWS's allow-all rules; expected one with ingress [] and egress []",
            {
              "defaultSecurityGroup.vpcId": null,
            },
          ),
        );
      }
      for (const group of adopted) {
        for (const property of ["ingress", "egress"]) {
          const rules = asArray(group.props[property]);
          if (rules.length > 0)
            return resultFor(
              vpc,
              fail(group, `${property} has ${rules.length} rule(s); expected []`, { [property]: rules }),
            );
        }
      }
      const defaultGroupIds = [vpc.props.defaultSecurityGroupId, ...adopted.map((group) => group.props.id)].filter(
        Boolean,
      );
      const attached = ofType(resources, AwsType.ingressRule, AwsType.egressRule, AwsType.securityGroupRule).find(
        (rule) => defaultGroupIds.includes(rule.props.securityGroupId),
      );
      if (attached) {
        return resultFor(
          vpc,
          fail(
            attached,
            `securityGroupId is ${JSON.stringify(attached.props.securityGroupId)}, ` +
              "the VPC's default group; expected no rule on the default group",
            { securityGroupId: attached.props.securityGroupId },
          ),
        );
      }
      return resultFor(
        vpc,
        pass({
          "defaultSecurityGroup.ingress": [],
          "defaultSecurityGroup.egress": [],
          defaultSecurityGroup: adopted.map((group) => group.name),
        }),
      );
    });
  },
};
