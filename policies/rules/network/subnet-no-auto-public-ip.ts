import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { failProperty, isTrue, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";
import { designatedPublicSubnets } from "../public-subnets";

export const subnetNoAutoPublicIp: StackRule = {
  kind: "stack",
  id: "subnet-no-auto-public-ip",
  area: "network",
  description:
    "Only designated public subnets (those holding an internet-facing " +
    "load balancer or a NAT gateway) give instances public IPs on launch.",
  citations: cite(...sections.ACC),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Set mapPublicIpOnLaunch: false on the subnet; " +
    "place hosts and databases in private subnets and reach them through the load balancer and SSM.",
  evaluate(resources) {
    const publicSubnets = designatedPublicSubnets(resources);
    return ofType(resources, AwsType.subnet).map((subnet) => {
      const designatedPublic = publicSubnets.includes(subnet);
      const mapsPublicIp = subnet.props.mapPublicIpOnLaunch;
      if (isTrue(mapsPublicIp) && !designatedPublic) {
        return resultFor(
          subnet,
          failProperty(
            subnet,
            "mapPublicIpOnLaunch",
            mapsPublicIp,
            "false on a subnet that holds no internet-facing load balancer or NAT gateway",
            { designatedPublic },
          ),
        );
      }
      return resultFor(subnet, pass({ mapPublicIpOnLaunch: mapsPublicIp ?? false, designatedPublic }));
    });
  },
};
