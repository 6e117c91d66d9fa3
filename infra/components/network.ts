// The VPC: public subnets (load balancer, NAT), private app subnets (hosts) and isolated
// database subnets with no route out, an S3 gateway endpoint, optional interface endpoints for
// the AWS APIs the host calls (openemr:interfaceEndpoints), and flow logs.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import type { AwsConstraint } from "../constraint";
import { blockSize, numberToIpv4, parseCidr } from "../ipv4";
import { NatInstance } from "./nat-instance";

export interface NetworkArgs {
  /**
   * IPv4 range of the VPC, a /16 to /22. Defaults to the stack's `vpcCidr`: a private /16, the
   * largest AWS allows, so no subnet runs short of addresses.
   */
  vpcCidr?: string;
  /**
   * Availability zones to spread each subnet tier over (2 or 3). Defaults to the stack's
   * `azCount`: two, the fewest a load balancer and an RDS subnet group accept.
   */
  azCount?: number;
  /** KMS key (ARN) that encrypts the flow-log group. */
  logsKeyArn: pulumi.Input<string>;
  /**
   * Retention of the flow-log group, in days. Defaults to the stack's `auditLogRetentionDays`,
   * six years: the flow log is an audit record.
   */
  logRetentionDays?: number;
  /** Prefix of the stack's CloudWatch Logs groups, e.g. `/openemr-aws/clinic-prod`. */
  logGroupPrefix: string;
  /**
   * Keep the flow-log group (an audit record) on `pulumi destroy`. Defaults to the stack's
   * `retainDataOnDestroy`, which keeps it: the record outlives the network it describes.
   */
  retainDataOnDestroy?: boolean;
  /** Region of the VPC endpoints' services. Defaults to the provider's region, the VPC's own. */
  region?: pulumi.Input<string>;
  /**
   * Where the interface endpoints of `interfaceEndpointServices` go. Defaults to the stack's
   * `interfaceEndpoints`. `none`: the host reaches those APIs through the NAT gateway over TLS (the
   * S3 gateway endpoint, which is free, stays); `host-zone`: in the first app subnet only, the one
   * the single host lives in; `all-zones`: in every app subnet. Each endpoint costs an hourly fee per
   * zone it is in.
   */
  interfaceEndpoints?: InterfaceEndpointPlacement;
  /**
   * Traffic the VPC flow log records. Defaults to the stack's `flowLogTrafficType`: `ALL`, every
   * accepted and rejected connection; `REJECT` records only what the security groups refused.
   */
  flowLogTrafficType?: FlowLogTrafficType;
  /**
   * The app subnets' way out. Defaults to the stack's `natGateway` (by tier): `managed`, an AWS
   * NAT gateway; `instance`, a NatInstance (t4g.nano) in the first public subnet, which needs
   * `natInstanceKeyArn`.
   */
  natGateway?: NatGatewayKind;
  /** Encrypts the NAT instance's root volume (with `natGateway: instance`). */
  natInstanceKeyArn?: pulumi.Input<string>;
  /**
   * Route 53 Resolver DNS Firewall on the VPC: names outside `DNS_ALLOW_LIST` do not resolve.
   * Defaults to the stack's `dnsFirewall`, off (a monthly charge; see the schema).
   */
  dnsFirewall?: boolean;
}

export type InterfaceEndpointPlacement = "none" | "host-zone" | "all-zones";
export type FlowLogTrafficType = "ALL" | "REJECT";
export type NatGatewayKind = "managed" | "instance";

/** The AWS APIs the host calls, reached through interface endpoints with private DNS. */
export const interfaceEndpointServices = [
  "ssm",
  "ssmmessages",
  "ec2messages",
  "logs",
  "monitoring",
  "secretsmanager",
  "kms",
] as const;

/**
 * The interface endpoints that take an endpoint policy. ssmmessages and ec2messages (Session
 * Manager's and Run Command's channels) are left with AWS's default: the PrivateLink guide lists
 * them among the services without endpoint-policy support.
 */
export const endpointPolicyServices: readonly string[] = ["ssm", "logs", "monitoring", "secretsmanager", "kms"];
/**
 * Interface endpoints whose calls name the account's own resources (log groups, secrets, keys), so
 * the policy also asks `aws:ResourceAccount`; ssm and monitoring also serve AWS-owned documents and
 * account-less metric calls, so they are held to this account's principals only.
 */
const resourceAccountServices: readonly string[] = ["logs", "secretsmanager", "kms"];
/**
 * AWS-owned buckets the host downloads from through the S3 gateway endpoint (infra/host/lib/steps.sh):
 * the SSM agent and the CloudWatch agent packages, objects read only. Every other bucket must be this
 * account's.
 */
export const awsOwnedBuckets = (region: string): string[] => [
  `amazon-ssm-${region}`,
  `amazoncloudwatch-agent-${region}`,
];
/**
 * The names the VPC may resolve with `dnsFirewall` on: Debian's mirrors (apt), the OpenEMR release
 * on GitHub (the release and its redirect to GitHub's asset host), AWS's service endpoints (SSM, S3,
 * CloudWatch, Secrets Manager, KMS, the RDS endpoint and CA bundle) and the VPC's own names.
 * `*.name` does not match `name` itself, hence both.
 */
export const DNS_ALLOW_LIST = [
  "deb.debian.org",
  "*.deb.debian.org",
  "security.debian.org",
  "github.com",
  "*.githubusercontent.com",
  "amazonaws.com",
  "*.amazonaws.com",
  "*.internal",
];

// The VPC is cut into 16 equal blocks: blocks 0-3 are public subnets, 4-7 app subnets, 8-11
// database subnets (one per AZ), 12-15 spare.
const blocksPerTier = 4;
const subnetBits = 4;

export type SubnetTier = "public" | "app" | "db";
const tierOffset: Record<SubnetTier, number> = { public: 0, app: blocksPerTier, db: 2 * blocksPerTier };

/** CIDR of the subnet of `tier` in AZ number `azIndex`. */
export function subnetCidr(vpcCidr: string, tier: SubnetTier, azIndex: number): string {
  const { base, prefix } = parseCidr(vpcCidr);
  const prefixLength = prefix + subnetBits;
  return `${numberToIpv4(base + (tierOffset[tier] + azIndex) * blockSize(prefixLength))}/${prefixLength}`;
}

/** The block that holds every subnet of `tier`, as `address/netmask` (MySQL's host-pattern form). */
export function tierNetmask(vpcCidr: string, tier: SubnetTier): string {
  const { base, prefix } = parseCidr(vpcCidr);
  const prefixLength = prefix + 2;
  const mask = numberToIpv4(2 ** 32 - blockSize(prefixLength));
  return `${numberToIpv4(base + (tierOffset[tier] / blocksPerTier) * blockSize(prefixLength))}/${mask}`;
}

export class Network extends pulumi.ComponentResource {
  public readonly vpc: aws.ec2.Vpc;
  public readonly publicSubnetIds: pulumi.Output<string>[];
  public readonly appSubnetIds: pulumi.Output<string>[];
  public readonly dbSubnetIds: pulumi.Output<string>[];
  /** Availability zone of each app subnet, in the same order. */
  public readonly appSubnetZones: pulumi.Output<string>[];
  /**
   * Group of the interface endpoints (declared even when `interfaceEndpoints` is `none`); the
   * security-groups component opens 443 on it to the host.
   */
  public readonly endpointSecurityGroup: aws.ec2.SecurityGroup;
  public readonly flowLogGroup: aws.cloudwatch.LogGroup;
  /** The NAT instance, with `natGateway: instance`. */
  public natInstance?: NatInstance;
  /**
   * What a host in the app subnets reaches the internet and AWS through (the NAT route, the S3
   * gateway endpoint, the interface endpoints): its first boot downloads packages and its bundle,
   * so it is created after them.
   */
  public readonly hostEgressPath: pulumi.Resource[] = [];

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:network:Network", name, {}, opts);
    const parent = { parent: this };
    const vpcCidr = args.vpcCidr ?? configDefault("vpcCidr");
    const azCount = args.azCount ?? configDefault("azCount");
    const region = args.region ?? aws.getRegionOutput({}, parent).region;
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, parent);
    const zoneNames = Array.from({ length: azCount }, (_, index) => zones.names.apply((names) => names[index]));

    this.vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      { cidrBlock: vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } },
      parent,
    );
    const vpcId = this.vpc.id;

    // AWS leaves the default group open within itself; emptying it means nothing can rely on it.
    new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId, ingress: [], egress: [] }, parent);

    const makeSubnets = (tier: SubnetTier) =>
      zoneNames.map(
        (availabilityZone, index) =>
          new aws.ec2.Subnet(
            `${name}-${tier}-${index}`,
            {
              vpcId,
              availabilityZone,
              cidrBlock: subnetCidr(vpcCidr, tier, index),
              mapPublicIpOnLaunch: false,
              tags: { Name: `${name}-${tier}-${index}`, Tier: tier },
            },
            parent,
          ),
      );
    const publicSubnets = makeSubnets("public");
    const appSubnets = makeSubnets("app");
    const dbSubnets = makeSubnets("db");
    this.publicSubnetIds = publicSubnets.map((subnet) => subnet.id);
    this.appSubnetIds = appSubnets.map((subnet) => subnet.id);
    this.dbSubnetIds = dbSubnets.map((subnet) => subnet.id);
    this.appSubnetZones = appSubnets.map((subnet) => subnet.availabilityZone);

    const internetGateway = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId, tags: { Name: name } }, parent);
    const routeTable = (tier: SubnetTier, subnets: aws.ec2.Subnet[]) => {
      const table = new aws.ec2.RouteTable(
        `${name}-${tier}`,
        { vpcId, tags: { Name: `${name}-${tier}`, Tier: tier } },
        parent,
      );
      subnets.forEach(
        (subnet, index) =>
          new aws.ec2.RouteTableAssociation(
            `${name}-${tier}-${index}`,
            { routeTableId: table.id, subnetId: subnet.id },
            parent,
          ),
      );
      return table;
    };
    const publicRoutes = routeTable("public", publicSubnets);
    new aws.ec2.Route(
      `${name}-public-internet`,
      { routeTableId: publicRoutes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id },
      parent,
    );

    // One NAT: the app tier has one host, and a second NAT doubles a fixed monthly cost.
    const natKind = args.natGateway ?? configDefault("natGateway");
    const natTarget = (() => {
      if (natKind === "instance") {
        if (!args.natInstanceKeyArn)
          throw new Error(`Network ${name}: natGateway "instance" needs natInstanceKeyArn (its root volume's key)`);
        this.natInstance = new NatInstance(
          `${name}-nat`,
          {
            vpcId,
            vpcCidr,
            subnetId: publicSubnets[0].id,
            volumeKeyArn: args.natInstanceKeyArn,
            region,
            namePrefix: name,
          },
          { parent: this, dependsOn: [internetGateway] },
        );
        return { networkInterfaceId: this.natInstance.networkInterfaceId };
      }
      const natAddress = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc", tags: { Name: `${name}-nat` } }, parent);
      const nat = new aws.ec2.NatGateway(
        `${name}-nat`,
        { subnetId: publicSubnets[0].id, allocationId: natAddress.id, tags: { Name: name } },
        { parent: this, dependsOn: [internetGateway] },
      );
      return { natGatewayId: nat.id };
    })();
    const appRoutes = routeTable("app", appSubnets);
    const appNatRoute = new aws.ec2.Route(
      `${name}-app-nat`,
      { routeTableId: appRoutes.id, destinationCidrBlock: "0.0.0.0/0", ...natTarget },
      parent,
    );
    // The database tier's table has only the implicit local route: no way out.
    routeTable("db", dbSubnets);

    // Endpoint policies hold the host's AWS calls to this account's principals and resources at
    // the network edge: stolen credentials of another account, or a bucket of someone else's, do
    // not work through them (AWS: "Control access to VPC endpoints using endpoint policies").
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const partition = aws.getPartitionOutput({}, parent).partition;
    const s3Endpoint = new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: [appRoutes.id],
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ThisAccountsBucketsOnly",
              Effect: "Allow",
              Principal: "*",
              Action: "s3:*",
              Resource: "*",
              Condition: {
                StringEquals: { "aws:ResourceAccount": accountId, "aws:PrincipalAccount": accountId },
              },
            },
            {
              Sid: "AwsAgentPackages",
              Effect: "Allow",
              Principal: "*",
              Action: "s3:GetObject",
              Resource: pulumi
                .all([region, partition])
                .apply(([bucketRegion, arnPartition]) =>
                  awsOwnedBuckets(bucketRegion).map((bucket) => `arn:${arnPartition}:s3:::${bucket}/*`),
                ),
              // No account condition: the bootstrap fetches these public packages with plain, unsigned
              // HTTPS (curl), and an anonymous request has no aws:PrincipalAccount to match.
            },
          ],
        }),
        tags: { Name: `${name}-s3` },
      },
      parent,
    );
    this.hostEgressPath.push(appNatRoute, s3Endpoint);
    // The group exists with or without endpoints (a group has no charge): the security-groups
    // component opens 443 on it to the host either way, ready for endpoints added later.
    this.endpointSecurityGroup = new aws.ec2.SecurityGroup(
      `${name}-endpoints`,
      {
        vpcId,
        description: "AWS API interface endpoints: HTTPS from the OpenEMR host",
        tags: { Name: `${name}-endpoints` },
      },
      parent,
    );
    const placement = args.interfaceEndpoints ?? configDefault("interfaceEndpoints");
    // The host is placed in the first app subnet (the stack's wiring): endpoints in the other zones
    // would serve nothing until a host runs there.
    const endpointSubnetIds = placement === "host-zone" ? this.appSubnetIds.slice(0, 1) : this.appSubnetIds;
    for (const service of placement === "none" ? [] : interfaceEndpointServices) {
      const endpoint = new aws.ec2.VpcEndpoint(
        `${name}-${service}`,
        {
          vpcId,
          serviceName: pulumi.interpolate`com.amazonaws.${region}.${service}`,
          vpcEndpointType: "Interface",
          privateDnsEnabled: true,
          subnetIds: endpointSubnetIds,
          securityGroupIds: [this.endpointSecurityGroup.id],
          policy: endpointPolicyServices.includes(service)
            ? pulumi.jsonStringify({
                Version: "2012-10-17",
                Statement: [
                  {
                    Sid: "ThisAccountOnly",
                    Effect: "Allow",
                    Principal: "*",
                    Action: "*",
                    Resource: "*",
                    Condition: {
                      StringEquals: {
                        "aws:PrincipalAccount": accountId,
                        ...(resourceAccountServices.includes(service) ? { "aws:ResourceAccount": accountId } : {}),
                      },
                    },
                  },
                ],
              })
            : undefined,
          tags: { Name: `${name}-${service}` },
        },
        parent,
      );
      this.hostEgressPath.push(endpoint);
    }

    if (args.dnsFirewall ?? configDefault("dnsFirewall")) this.dnsFirewall(name, vpcId);

    this.flowLogGroup = new aws.cloudwatch.LogGroup(
      `${name}-flow-logs`,
      {
        name: `${args.logGroupPrefix}/vpc-flow-logs`,
        kmsKeyId: args.logsKeyArn,
        retentionInDays: args.logRetentionDays ?? configDefault("auditLogRetentionDays"),
      },
      { parent: this, retainOnDelete: args.retainDataOnDestroy ?? configDefault("retainDataOnDestroy") },
    );
    // Trust and permissions follow AWS's "IAM role for publishing flow logs to CloudWatch Logs":
    // https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html
    // The trust carries the page's recommended confused-deputy condition: this account's flow logs
    // only (the flow log's id is not known before the role exists, hence the wildcard, as the page says).
    const flowLogRole = new aws.iam.Role(
      `${name}-flow-logs`,
      {
        description: "VPC flow logs deliver to their CloudWatch Logs group",
        assumeRolePolicy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "vpc-flow-logs.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: {
                StringEquals: { "aws:SourceAccount": accountId },
                ArnLike: {
                  "aws:SourceArn": pulumi.interpolate`arn:${partition}:ec2:${region}:${accountId}:vpc-flow-log/*`,
                },
              },
            },
          ],
        }),
      },
      parent,
    );
    // The page's policy, less logs:CreateLogGroup (the stack creates the group, encrypted and with its
    // retention; the service must not re-create it without them), with the writes scoped to the one
    // group. logs:DescribeLogGroups stays on "*": it lists groups and takes no single-group resource.
    const flowLogPolicy = new aws.iam.Policy(
      `${name}-flow-logs`,
      {
        description: "Write VPC flow logs to their one log group",
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "WriteFlowLogs",
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              Resource: [this.flowLogGroup.arn, pulumi.interpolate`${this.flowLogGroup.arn}:*`],
            },
            { Sid: "FindTheLogGroup", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
          ],
        }),
      },
      parent,
    );
    new aws.iam.RolePolicyAttachment(
      `${name}-flow-logs`,
      { role: flowLogRole.name, policyArn: flowLogPolicy.arn },
      parent,
    );
    new aws.ec2.FlowLog(
      `${name}-flow-logs`,
      {
        vpcId,
        trafficType: args.flowLogTrafficType ?? configDefault("flowLogTrafficType"),
        logDestinationType: "cloud-watch-logs",
        logDestination: this.flowLogGroup.arn,
        iamRoleArn: flowLogRole.arn,
        maxAggregationInterval: 60,
      },
      parent,
    );

    this.registerOutputs({
      vpcId,
      appSubnetIds: this.appSubnetIds,
      dbSubnetIds: this.dbSubnetIds,
      publicSubnetIds: this.publicSubnetIds,
    });
  }

  /**
   * DNS Firewall: the names of DNS_ALLOW_LIST resolve, every other query gets NXDOMAIN. An allowed
   * name's CNAME chain is trusted (Debian's and GitHub's names lead into their CDNs), and the
   * firewall fails closed: if it cannot answer, nothing resolves.
   */
  private dnsFirewall(name: string, vpcId: pulumi.Output<string>): void {
    const parent = { parent: this };
    const allowed = new aws.route53.ResolverFirewallDomainList(
      `${name}-dns-allowed`,
      { name: `${name}-dns-allowed`, domains: DNS_ALLOW_LIST },
      parent,
    );
    const everything = new aws.route53.ResolverFirewallDomainList(
      `${name}-dns-everything`,
      { name: `${name}-dns-everything`, domains: ["*"] },
      parent,
    );
    const group = new aws.route53.ResolverFirewallRuleGroup(`${name}-dns`, { name: `${name}-dns` }, parent);
    new aws.route53.ResolverFirewallRule(
      `${name}-dns-allow`,
      {
        name: "allow-listed",
        firewallRuleGroupId: group.id,
        firewallDomainListId: allowed.id,
        priority: 100,
        action: "ALLOW",
        firewallDomainRedirectionAction: "TRUST_REDIRECTION_DOMAIN",
      },
      parent,
    );
    new aws.route53.ResolverFirewallRule(
      `${name}-dns-block`,
      {
        name: "block-the-rest",
        firewallRuleGroupId: group.id,
        firewallDomainListId: everything.id,
        priority: 200,
        action: "BLOCK",
        blockResponse: "NXDOMAIN",
      },
      parent,
    );
    new aws.route53.ResolverFirewallRuleGroupAssociation(
      `${name}-dns`,
      { name: `${name}-dns`, firewallRuleGroupId: group.id, vpcId, priority: 101 },
      parent,
    );
    new aws.route53.ResolverFirewallConfig(`${name}-dns`, { resourceId: vpcId, firewallFailOpen: "DISABLED" }, parent);
  }
}

/** The widest VPC AWS allows is a /16; the narrowest the 16 blocks above leave room in is a /22 (/26 subnets). */
const VPC_PREFIX = { widest: 16, narrowest: 22 };

export const networkConstraints: AwsConstraint[] = [
  {
    id: "vpc-cidr-size",
    keys: ["vpcCidr"],
    rule:
      "A VPC's IPv4 block is a /16 to a /28, and a subnet's at least a /28; the stack cuts the VPC into 16 " +
      "subnet blocks, so it takes a /16 to a /22 (its subnets then hold 59 hosts or more each).",
    doc: "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html",
    problems: ({ config }) => {
      const prefix = Number(config.vpcCidr.split("/")[1]);
      return prefix < VPC_PREFIX.widest || prefix > VPC_PREFIX.narrowest
        ? [
            `openemr:vpcCidr: "${config.vpcCidr}" is a /${prefix}; expected a /${VPC_PREFIX.widest} to ` +
              `/${VPC_PREFIX.narrowest} (AWS allows /16 at most, and three subnets a zone need room)`,
          ]
        : [];
    },
  },
  {
    id: "load-balancer-zones",
    keys: ["azCount"],
    rule:
      "An Application Load Balancer needs subnets in at least two Availability Zones (so does an RDS subnet " +
      "group); the stack puts one subnet of each tier in each of `azCount` zones.",
    doc: "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html",
    problems: ({ config }) =>
      config.azCount < 2
        ? [`openemr:azCount: ${config.azCount} is too few zones; expected at least 2 (a load balancer needs two)`]
        : [],
  },
];
