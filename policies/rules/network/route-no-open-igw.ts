import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite } from "../citations";
import { asArray, fail, pass, resultFor } from "../outcomes";
import { ofType, refersTo, resolve } from "../joins";
import { designatedPublicSubnets } from "../public-subnets";

const DEFAULT_DESTINATIONS = ["0.0.0.0/0", "::/0"];

interface DefaultRoute {
  /** The resource that declares the route: an aws.ec2.Route, or the table holding it inline. */
  declaredBy: RuleResource;
  path: string;
  table?: RuleResource;
  destination: string;
  gatewayId: string;
}

function isInternetGateway(resources: RuleResource[], gatewayId: unknown): boolean {
  return (
    typeof gatewayId === "string" &&
    (gatewayId.startsWith("igw-") || resolve(resources, gatewayId, AwsType.internetGateway) !== undefined)
  );
}

function defaultRoutesToInternet(resources: RuleResource[]): DefaultRoute[] {
  const separate = ofType(resources, AwsType.route).map((route) => ({
    declaredBy: route,
    path: "",
    table: resolve(resources, route.props.routeTableId, AwsType.routeTable, AwsType.defaultRouteTable),
    destination: route.props.destinationCidrBlock ?? route.props.destinationIpv6CidrBlock,
    gatewayId: route.props.gatewayId,
  }));
  const inline = ofType(resources, AwsType.routeTable, AwsType.defaultRouteTable).flatMap((table) =>
    asArray<any>(table.props.routes ?? table.props.route).map((route, index) => ({
      declaredBy: table,
      path: `routes[${index}].`,
      table,
      destination: route?.cidrBlock ?? route?.ipv6CidrBlock,
      gatewayId: route?.gatewayId,
    })),
  );
  return [...separate, ...inline].filter(
    (route) => DEFAULT_DESTINATIONS.includes(route.destination) && isInternetGateway(resources, route.gatewayId),
  );
}

export const routeNoOpenIgw: StackRule = {
  kind: "stack",
  id: "route-no-open-igw",
  area: "network",
  description:
    "A default route to an internet gateway exists only in route tables " +
    "used solely by designated public subnets (load balancer, NAT).",
  citations: cite("164.312(e)(1)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    "Route private subnets' 0.0.0.0/0 through a NAT gateway (app tier) or not at all (database tier); " +
    "keep the internet gateway route in the public subnets' own table.",
  evaluate(resources) {
    const publicSubnets = designatedPublicSubnets(resources);
    return defaultRoutesToInternet(resources).map((route) => {
      const evidence = {
        [`${route.path}gatewayId`]: route.gatewayId,
        [`${route.path}destinationCidrBlock`]: route.destination,
      };
      const table = route.table;
      if (
        table &&
        (table.type === AwsType.defaultRouteTable ||
          ofType(resources, AwsType.mainRouteTableAssociation).some((main) => refersTo(main.props.routeTableId, table)))
      ) {
        return resultFor(
          route.declaredBy,
          fail(
            route.declaredBy,
            `${route.path}gatewayId routes ${route.destination} to an internet gateway ` +
              "from the VPC's main route table; expected it only in the public subnets' table",
            evidence,
          ),
        );
      }
      const associated = table
        ? ofType(resources, AwsType.routeTableAssociation)
            .filter((association) => refersTo(association.props.routeTableId, table))
            .map((association) => resolve(resources, association.props.subnetId, AwsType.subnet))
        : [];
      const privateSubnet = associated.find((subnet) => subnet && !publicSubnets.includes(subnet));
      if (privateSubnet) {
        return resultFor(
          route.declaredBy,
          fail(
            route.declaredBy,
            `${route.path}gatewayId routes ${route.destination} to an internet gateway for ` +
              `subnet "${privateSubnet.name}", which holds no load balancer or NAT gateway; ` +
              "expected only designated public subnets",
            {
              ...evidence,
              subnet: privateSubnet.name,
            },
          ),
        );
      }
      return resultFor(route.declaredBy, pass({ ...evidence, subnets: associated.map((subnet) => subnet?.name) }));
    });
  },
};
