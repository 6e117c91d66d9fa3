import type { Outcome, RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { asArray, fail, failProperty, pass, resultFor } from "../outcomes";
import { ofType, resolve } from "../joins";

/** The fewest zones, and hosts, a group needs so that losing one leaves it serving. */
const MIN_ZONES = 2;

/** The zones of the group's subnets: a subnet the stack declares by its zone, any other by its id. */
function zonesOf(resources: RuleResource[], group: RuleResource): string[] {
  const zones = asArray<string>(group.props.vpcZoneIdentifiers).map((subnetId) => {
    const subnet = resolve(resources, subnetId, AwsType.subnet);
    return typeof subnet?.props.availabilityZone === "string" ? subnet.props.availabilityZone : `subnet ${subnetId}`;
  });
  return [...new Set([...zones, ...asArray<string>(group.props.availabilityZones)])];
}

export const asgMultiAzElbHealth: StackRule = {
  kind: "stack",
  id: "asg-multi-az-elb-health",
  area: "compute",
  description:
    "Auto Scaling groups of hosts span at least two availability zones with at least two hosts, and replace a " +
    "host the load balancer finds unhealthy (ELB health checks, with a target group), not only a stopped one.",
  citations: cite(...sections.AVL),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Set vpcZoneIdentifiers to subnets in two or more zones, minSize to 2 or more, healthCheckType to " +
    '"ELB" and targetGroupArns to the load balancer\'s target group.',
  evaluate(resources) {
    return ofType(resources, AwsType.autoscalingGroup).map((group) => {
      const zones = zonesOf(resources, group);
      const props = group.props;
      const outcome = (): Outcome => {
        if (zones.length < MIN_ZONES)
          return fail(
            group,
            `vpcZoneIdentifiers cover ${zones.length} zone(s) (${zones.join(", ") || "none"}); expected at least ` +
              `${MIN_ZONES}`,
            { zones },
          );
        if (!(Number(props.minSize) >= MIN_ZONES))
          return failProperty(group, "minSize", props.minSize, `at least ${MIN_ZONES}`);
        if (props.healthCheckType !== "ELB")
          return failProperty(group, "healthCheckType", props.healthCheckType, '"ELB"');
        if (asArray(props.targetGroupArns).length === 0 && asArray(props.trafficSources).length === 0)
          return failProperty(group, "targetGroupArns", props.targetGroupArns, "the load balancer's target group");
        return pass({ zones, minSize: props.minSize, healthCheckType: props.healthCheckType });
      };
      return resultFor(group, outcome());
    });
  },
};
