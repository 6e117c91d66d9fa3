// Security groups by reference: each group names the other groups it talks to, never a wide
// CIDR, except the load balancer's ingress from the configured client ranges and the host's
// HTTPS egress (Debian mirror, OpenEMR release, AWS APIs). No rule opens port 22.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import type { AwsConstraint } from "../constraint";
import type { Tier } from "../config";

export interface SecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
  /**
   * Client IPv4 ranges allowed to reach the load balancer on 443 and 80. Defaults to the stack's
   * `allowedCidrs`, the whole internet: a clinic's staff work from addresses nobody lists up front,
   * and the WAF stands in front.
   */
  allowedCidrs?: string[];
  /**
   * `standard` and `ha` add the database group and the host's 3306 egress to it. Defaults to the stack's
   * default `tier`, which runs the database on RDS.
   */
  tier?: Tier;
  /** Group of the VPC interface endpoints (from the network component). */
  endpointSecurityGroupId: pulumi.Input<string>;
}

export class SecurityGroups extends pulumi.ComponentResource {
  public readonly alb: aws.ec2.SecurityGroup;
  public readonly host: aws.ec2.SecurityGroup;
  /** The database's group, on `standard` and `ha`. */
  public readonly db?: aws.ec2.SecurityGroup;
  /** The database-accounts function's group, on `standard` and `ha`: MySQL to the database, HTTPS out. */
  public readonly dbUsers?: aws.ec2.SecurityGroup;
  /** The function's egress rules and its way into the endpoints: it runs only once they are in place. */
  public readonly dbUsersRules: pulumi.Resource[] = [];
  /** The host's egress rules: its first boot needs them in place (the Host waits for them). */
  public readonly hostEgressRules: aws.vpc.SecurityGroupEgressRule[] = [];

  constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:network:SecurityGroups", name, {}, opts);
    const parent = { parent: this };
    const allowedCidrs = args.allowedCidrs ?? configDefault("allowedCidrs");
    const tier = args.tier ?? configDefault("tier");
    const group = (role: string, description: string) =>
      new aws.ec2.SecurityGroup(
        `${name}-${role}`,
        { vpcId: args.vpcId, description, tags: { Name: `${name}-${role}` } },
        parent,
      );
    const ingress = (ruleName: string, rule: aws.vpc.SecurityGroupIngressRuleArgs) =>
      new aws.vpc.SecurityGroupIngressRule(`${name}-${ruleName}`, rule, parent);
    const egress = (ruleName: string, rule: aws.vpc.SecurityGroupEgressRuleArgs) =>
      new aws.vpc.SecurityGroupEgressRule(`${name}-${ruleName}`, rule, parent);
    const tcp = (port: number) => ({ ipProtocol: "tcp", fromPort: port, toPort: port });

    this.alb = group("alb", "OpenEMR load balancer: HTTPS (and HTTP, which redirects) from allowed clients");
    this.host = group("host", "OpenEMR host: HTTPS from the load balancer");

    allowedCidrs.forEach((cidr, index) => {
      ingress(`alb-https-${index}`, {
        securityGroupId: this.alb.id,
        ...tcp(443),
        cidrIpv4: cidr,
        description: `HTTPS from ${cidr}`,
      });
      ingress(`alb-http-${index}`, {
        securityGroupId: this.alb.id,
        ...tcp(80),
        cidrIpv4: cidr,
        description: `HTTP (redirect only) from ${cidr}`,
      });
    });
    egress("alb-to-host", {
      securityGroupId: this.alb.id,
      ...tcp(443),
      referencedSecurityGroupId: this.host.id,
      description: "HTTPS to the OpenEMR host",
    });

    ingress("host-from-alb", {
      securityGroupId: this.host.id,
      ...tcp(443),
      referencedSecurityGroupId: this.alb.id,
      description: "HTTPS from the load balancer",
    });
    this.hostEgressRules.push(
      egress("host-https", {
        securityGroupId: this.host.id,
        ...tcp(443),
        cidrIpv4: "0.0.0.0/0",
        description: "HTTPS: Debian mirror, OpenEMR release, AWS APIs",
      }),
    );
    ingress("endpoints-from-host", {
      securityGroupId: args.endpointSecurityGroupId,
      ...tcp(443),
      referencedSecurityGroupId: this.host.id,
      description: "HTTPS from the OpenEMR host",
    });

    // RDS on `standard` and `ha`; `single` runs MariaDB on the host.
    if (tier !== "single") {
      this.db = group("db", "OpenEMR database: MySQL from the OpenEMR host only");
      ingress("db-from-host", {
        securityGroupId: this.db.id,
        ...tcp(3306),
        referencedSecurityGroupId: this.host.id,
        description: "MySQL from the OpenEMR host",
      });
      this.hostEgressRules.push(
        egress("host-to-db", {
          securityGroupId: this.host.id,
          ...tcp(3306),
          referencedSecurityGroupId: this.db.id,
          description: "MySQL to the database",
        }),
      );

      this.dbUsers = group("db-users", "OpenEMR database accounts function: MySQL to the database, Secrets Manager");
      this.dbUsersRules.push(
        ingress("db-from-db-users", {
          securityGroupId: this.db.id,
          ...tcp(3306),
          referencedSecurityGroupId: this.dbUsers.id,
          description: "MySQL from the database accounts function",
        }),
        egress("db-users-to-db", {
          securityGroupId: this.dbUsers.id,
          ...tcp(3306),
          referencedSecurityGroupId: this.db.id,
          description: "MySQL to the database",
        }),
        // Secrets Manager through its interface endpoint, or through the NAT gateway without one.
        egress("db-users-https", {
          securityGroupId: this.dbUsers.id,
          ...tcp(443),
          cidrIpv4: "0.0.0.0/0",
          description: "HTTPS: Secrets Manager",
        }),
        ingress("endpoints-from-db-users", {
          securityGroupId: args.endpointSecurityGroupId,
          ...tcp(443),
          referencedSecurityGroupId: this.dbUsers.id,
          description: "HTTPS from the database accounts function",
        }),
      );
    }

    this.registerOutputs({
      albSecurityGroupId: this.alb.id,
      hostSecurityGroupId: this.host.id,
      dbSecurityGroupId: this.db?.id,
      dbUsersSecurityGroupId: this.dbUsers?.id,
    });
  }
}

/** Inbound rules a security group may hold by default (a quota AWS raises on request). */
const INBOUND_RULES_PER_GROUP = 60;
/** The load balancer's group takes two inbound rules per client range: 443 and 80. */
const ALB_RULES_PER_CIDR = 2;

export const securityGroupConstraints: AwsConstraint[] = [
  {
    id: "security-group-inbound-rules",
    keys: ["allowedCidrs"],
    rule:
      "A security group holds at most 60 inbound rules (the default quota); the load balancer's group has two " +
      "per client range (443 and 80), so `allowedCidrs` lists at most 30 ranges.",
    doc: "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups",
    problems: ({ config }) => {
      const most = INBOUND_RULES_PER_GROUP / ALB_RULES_PER_CIDR;
      return config.allowedCidrs.length > most
        ? [
            `openemr:allowedCidrs: ${config.allowedCidrs.length} ranges is too many; expected at most ${most} ` +
              `(two inbound rules each, and a security group holds ${INBOUND_RULES_PER_GROUP} by default)`,
          ]
        : [];
    },
  },
];
