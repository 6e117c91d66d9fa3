// Network rules on real declarations: a compliant VPC (flow log, closed default group, public
// subnet holding the load balancer and NAT, private subnets routed through NAT, groups by
// reference), and beside each rule's test the declarations that break it.
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import {
  routeNoOpenIgw,
  sgNoPublicSsh,
  sgPublicOnlyOnAlb,
  sgRestrictedCommonPorts,
  subnetNoAutoPublicIp,
  vpcDefaultSgClosed,
  vpcEndpointPolicies,
  vpcFlowLogs,
} from "../../../policies/rules/network";
import { declared, evaluations, expectFails, expectPasses } from "./harness";

function compliantNetwork(): void {
  const vpc = new aws.ec2.Vpc("vpc", { cidrBlock: "10.0.0.0/16" });
  new aws.ec2.DefaultSecurityGroup("default-sg", { vpcId: vpc.id, ingress: [], egress: [] });
  const logs = new aws.cloudwatch.LogGroup("flow-logs", { retentionInDays: 365 });
  new aws.ec2.FlowLog("flow-log", { vpcId: vpc.id, trafficType: "ALL", logDestination: logs.arn });
  const publicA = new aws.ec2.Subnet("public-a", {
    vpcId: vpc.id,
    cidrBlock: "10.0.0.0/24",
    mapPublicIpOnLaunch: true,
  });
  const publicB = new aws.ec2.Subnet("public-b", { vpcId: vpc.id, cidrBlock: "10.0.1.0/24" });
  const app = new aws.ec2.Subnet("app", { vpcId: vpc.id, cidrBlock: "10.0.2.0/24", mapPublicIpOnLaunch: false });
  const igw = new aws.ec2.InternetGateway("igw", { vpcId: vpc.id });
  const nat = new aws.ec2.NatGateway("nat", {
    subnetId: publicA.id,
    allocationId: new aws.ec2.Eip("nat-ip", { domain: "vpc" }).id,
  });
  const publicRoutes = new aws.ec2.RouteTable("public-routes", { vpcId: vpc.id });
  new aws.ec2.Route("public-default", {
    routeTableId: publicRoutes.id,
    destinationCidrBlock: "0.0.0.0/0",
    gatewayId: igw.id,
  });
  new aws.ec2.RouteTableAssociation("public-a-routes", { routeTableId: publicRoutes.id, subnetId: publicA.id });
  new aws.ec2.RouteTableAssociation("public-b-routes", { routeTableId: publicRoutes.id, subnetId: publicB.id });
  const appRoutes = new aws.ec2.RouteTable("app-routes", { vpcId: vpc.id });
  new aws.ec2.Route("app-default", {
    routeTableId: appRoutes.id,
    destinationCidrBlock: "0.0.0.0/0",
    natGatewayId: nat.id,
  });
  new aws.ec2.RouteTableAssociation("app-routes", { routeTableId: appRoutes.id, subnetId: app.id });
  const albGroup = new aws.ec2.SecurityGroup("alb-sg", { vpcId: vpc.id });
  const hostGroup = new aws.ec2.SecurityGroup("host-sg", { vpcId: vpc.id });
  new aws.vpc.SecurityGroupIngressRule("alb-https", {
    securityGroupId: albGroup.id,
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    cidrIpv4: "0.0.0.0/0",
  });
  new aws.vpc.SecurityGroupIngressRule("alb-http", {
    securityGroupId: albGroup.id,
    ipProtocol: "tcp",
    fromPort: 80,
    toPort: 80,
    cidrIpv4: "0.0.0.0/0",
  });
  new aws.vpc.SecurityGroupIngressRule("host-from-alb", {
    securityGroupId: hostGroup.id,
    ipProtocol: "tcp",
    fromPort: 443,
    toPort: 443,
    referencedSecurityGroupId: albGroup.id,
  });
  new aws.ec2.SecurityGroup("inline-sg", {
    vpcId: vpc.id,
    ingress: [{ protocol: "tcp", fromPort: 443, toPort: 443, securityGroups: [albGroup.id] }],
  });
  new aws.lb.LoadBalancer("alb", { subnets: [publicA.id, publicB.id], securityGroups: [albGroup.id] });
}

describe("network rules", () => {
  it("vpc-flow-logs: a VPC with a flow log passes; one without fails", async () => {
    expectPasses(vpcFlowLogs, await declared(compliantNetwork));
    const unlogged = await declared(() => {
      new aws.ec2.Vpc("unlogged-vpc", { cidrBlock: "10.1.0.0/16" });
    });
    expectFails(vpcFlowLogs, unlogged, "unlogged-vpc", "vpcId");
  });

  it("vpc-default-sg-closed: an adopted, empty default group passes; a missing or open one fails", async () => {
    expectPasses(vpcDefaultSgClosed, await declared(compliantNetwork));
    const defaults = await declared(() => {
      new aws.ec2.Vpc("unlogged-vpc", { cidrBlock: "10.1.0.0/16" });
      const openDefaultVpc = new aws.ec2.Vpc("open-default-vpc", { cidrBlock: "10.2.0.0/16" });
      new aws.ec2.DefaultSecurityGroup("open-default-sg", {
        vpcId: openDefaultVpc.id,
        ingress: [{ protocol: "-1", fromPort: 0, toPort: 0, self: true }],
      });
    });
    expectFails(vpcDefaultSgClosed, defaults, "unlogged-vpc", "defaultSecurityGroup");
    expectFails(vpcDefaultSgClosed, defaults, "open-default-sg", "ingress");
  });

  it("subnet-no-auto-public-ip: only the subnet holding the NAT gateway or load balancer maps public IPs", async () => {
    expectPasses(subnetNoAutoPublicIp, await declared(compliantNetwork));
    const mapping = await declared(() => {
      const vpc = new aws.ec2.Vpc("vpc", { cidrBlock: "10.1.0.0/16" });
      new aws.ec2.Subnet("private-public-ip", { vpcId: vpc.id, cidrBlock: "10.1.2.0/24", mapPublicIpOnLaunch: true });
    });
    expectFails(subnetNoAutoPublicIp, mapping, "private-public-ip", "mapPublicIpOnLaunch");
  });

  it("route-no-open-igw: the internet route only in the public subnets' table", async () => {
    expectPasses(routeNoOpenIgw, await declared(compliantNetwork));
    const privateToInternet = await declared(() => {
      const vpc = new aws.ec2.Vpc("vpc", { cidrBlock: "10.1.0.0/16" });
      const privateSubnet = new aws.ec2.Subnet("private", { vpcId: vpc.id, cidrBlock: "10.1.2.0/24" });
      const igw = new aws.ec2.InternetGateway("igw", { vpcId: vpc.id });
      const routes = new aws.ec2.RouteTable("private-routes", { vpcId: vpc.id });
      new aws.ec2.Route("private-to-internet", {
        routeTableId: routes.id,
        destinationCidrBlock: "0.0.0.0/0",
        gatewayId: igw.id,
      });
      new aws.ec2.RouteTableAssociation("private-routes", { routeTableId: routes.id, subnetId: privateSubnet.id });
    });
    expectFails(routeNoOpenIgw, privateToInternet, "private-to-internet", "gatewayId");
  });

  it("sg-no-public-ssh: world-open 22 fails, inline or as a rule resource", async () => {
    expectPasses(sgNoPublicSsh, await declared(compliantNetwork));
    const ssh = await declared(() => {
      new aws.ec2.SecurityGroup("ssh-sg", {
        ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
      });
    });
    const message = expectFails(sgNoPublicSsh, ssh, "ssh-sg", "ingress[0].cidrBlocks");
    expect(message).toContain("0.0.0.0/0");
  });

  it("sg-restricted-common-ports: world-open 3306 fails, IPv6 included", async () => {
    expectPasses(sgRestrictedCommonPorts, await declared(compliantNetwork));
    const mysql = await declared(() => {
      const dbGroup = new aws.ec2.SecurityGroup("db-sg", {});
      new aws.vpc.SecurityGroupIngressRule("mysql-from-world", {
        securityGroupId: dbGroup.id,
        ipProtocol: "tcp",
        fromPort: 3306,
        toPort: 3306,
        cidrIpv6: "::/0",
      });
    });
    expectFails(sgRestrictedCommonPorts, mysql, "mysql-from-world", "cidrIpv6");
  });

  it("sg-public-only-on-alb: world-open ingress only on the load balancer's group and ports", async () => {
    const compliant = await declared(compliantNetwork);
    expectPasses(sgPublicOnlyOnAlb, compliant);
    const appPort = await declared(() => {
      const dbGroup = new aws.ec2.SecurityGroup("db-sg", {});
      new aws.vpc.SecurityGroupIngressRule("app-port-from-world", {
        securityGroupId: dbGroup.id,
        ipProtocol: "tcp",
        fromPort: 8443,
        toPort: 8443,
        cidrIpv4: "0.0.0.0/0",
      });
    });
    expectFails(sgPublicOnlyOnAlb, appPort, "app-port-from-world", "cidrIpv4");
    expectFails(sgPublicOnlyOnAlb, compliant, "alb-https", "cidrIpv4", { worldOpenPorts: [80] });
  });
});

describe("vpc-endpoint-policies", () => {
  const held = JSON.stringify({
    Statement: [
      {
        Sid: "ThisAccountOnly",
        Effect: "Allow",
        Principal: "*",
        Action: "*",
        Resource: "*",
        Condition: { StringEquals: { "aws:PrincipalAccount": "111122223333" } },
      },
    ],
  });
  const open = JSON.stringify({
    Statement: [{ Sid: "Everything", Effect: "Allow", Principal: "*", Action: "s3:*", Resource: "*" }],
  });
  const endpoint = (name: string, service: string, policy?: string) => () => {
    new aws.ec2.VpcEndpoint(name, { vpcId: "vpc-1", serviceName: `com.amazonaws.us-east-1.${service}`, policy });
  };

  it("passes a policy held to the account; fails none, or an Allow without an account condition", async () => {
    expectPasses(vpcEndpointPolicies, await declared(endpoint("s3-held", "s3", held)));
    expectFails(vpcEndpointPolicies, await declared(endpoint("s3-default", "s3")), "s3-default", "policy");
    expect(
      expectFails(vpcEndpointPolicies, await declared(endpoint("s3-open", "s3", open)), "s3-open", "policy"),
    ).toContain("Everything");
  });

  it("lets an Allow without an account condition only read named resources", async () => {
    const packages = (action: string, resource: string) =>
      JSON.stringify({
        Statement: [{ Sid: "AwsAgentPackages", Effect: "Allow", Principal: "*", Action: action, Resource: resource }],
      });
    expectPasses(
      vpcEndpointPolicies,
      await declared(endpoint("s3-agents", "s3", packages("s3:GetObject", "arn:aws:s3:::amazon-ssm-us-east-1/*"))),
    );
    expectFails(
      vpcEndpointPolicies,
      await declared(endpoint("s3-put", "s3", packages("s3:PutObject", "arn:aws:s3:::amazon-ssm-us-east-1/*"))),
      "s3-put",
      "policy",
    );
    expectFails(
      vpcEndpointPolicies,
      await declared(endpoint("s3-any", "s3", packages("s3:GetObject", "*"))),
      "s3-any",
      "policy",
    );
  });

  it("does not ask a policy of the endpoints that take none", async () => {
    const results = evaluations(vpcEndpointPolicies, await declared(endpoint("messages", "ssmmessages")));
    expect(results.map((result) => result.status)).toEqual(["not-applicable"]);
  });
});
