// A NAT instance: the app subnets' way out when `natGateway` is `instance` (the `single` tier's
// default). One small Graviton instance in a public subnet, forwarding HTTPS from the VPC and
// nothing else, built to the host's controls: Debian's image, IMDSv2 only, an encrypted root
// volume with the stack's key, no key pair, managed and patched through SSM, detailed monitoring.
// Its security group admits only the VPC; EC2 recovers it onto healthy hardware (the Monitoring
// component's alarms) and keeps its address, so the route to it never changes.
import { readFileSync } from "fs";
import { join } from "path";
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { stringify } from "yaml";
import { projectRoot } from "../delivery/bundle";
import { userDataLimitBytes } from "../delivery/user-data";
import { debianAmi, ssmAgentCoreStatement } from "./host";
import { assumableByService } from "./trust-policy";

/**
 * The tag that names an instance the stack's NAT: the policy pack's narrow exception to
 * `ec2-no-public-ip` and `in-backup-plan` starts from it (policies/rules/compute/nat-instance.ts).
 */
export const NAT_ROLE_TAG = { key: "Role", value: "nat-instance" } as const;
/** Graviton's smallest: 0.5 GiB and up to 5 Gbit/s is ample for a clinic's updates and API calls. */
export const defaultNatInstanceType = "t4g.nano";

export interface NatInstanceArgs {
  vpcId: pulumi.Input<string>;
  /** The VPC's IPv4 range: the only source the instance forwards for, and admits. */
  vpcCidr: string;
  /** The public subnet it lives in (its route to the internet gateway). */
  subnetId: pulumi.Input<string>;
  /** Encrypts its root volume (the stack's data key, as the host's). */
  volumeKeyArn: pulumi.Input<string>;
  /** Region of the SSM agent download. Defaults to the provider's region. */
  region?: pulumi.Input<string>;
  /** EC2 instance type; arm64 or x86_64 (Debian's image follows it). Defaults to `t4g.nano`. */
  instanceType?: string;
  /** Prefix of its Name tags (the stack name). */
  namePrefix: string;
}

const natDirectory = () => join(projectRoot(), "infra", "nat");

/** /etc/nftables.conf of a NAT instance forwarding for `vpcCidr`. */
export function renderNatFirewall(vpcCidr: string): string {
  return readFileSync(join(natDirectory(), "nftables.conf"), "utf8").replaceAll("@VPC_CIDR@", vpcCidr);
}

/** The NAT instance's cloud-init user-data: its files, then its setup script. No secret is in it. */
export function renderNatUserData(vpcCidr: string, region: string): string {
  const file = (path: string, permissions: string, content: string) => ({
    path,
    owner: "root:root",
    permissions,
    content,
  });
  const document = {
    write_files: [
      file("/etc/nftables.conf", "0755", renderNatFirewall(vpcCidr)),
      file(
        "/etc/sysctl.d/90-openemr-nat.conf",
        "0644",
        // Forwarding on; no ICMP redirects, as packets leave by the interface they came in on.
        "net.ipv4.ip_forward = 1\nnet.ipv4.conf.all.send_redirects = 0\nnet.ipv4.conf.default.send_redirects = 0\n",
      ),
      file(
        "/etc/apt/apt.conf.d/52openemr-nat-upgrades",
        "0644",
        'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n' +
          'Unattended-Upgrade::Automatic-Reboot "true";\nUnattended-Upgrade::Automatic-Reboot-Time "04:00";\n',
      ),
      file(
        "/etc/openemr-aws/amazon-ssm-agent.asc",
        "0644",
        readFileSync(join(projectRoot(), "infra", "host", "keys", "amazon-ssm-agent.asc"), "utf8"),
      ),
      file("/usr/local/sbin/openemr-nat-setup", "0755", readFileSync(join(natDirectory(), "nat-setup.sh"), "utf8")),
    ],
    runcmd: [["/usr/local/sbin/openemr-nat-setup", region]],
  };
  const userData = `#cloud-config\n${stringify(document, { lineWidth: 0 })}`;
  const size = Buffer.byteLength(userData);
  if (size > userDataLimitBytes)
    throw new Error(`NAT instance user-data is ${size} bytes; EC2 accepts at most ${userDataLimitBytes}`);
  return userData;
}

export class NatInstance extends pulumi.ComponentResource {
  public readonly instance: aws.ec2.Instance;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** What the app subnets' default route targets: the instance's primary network interface. */
  public readonly networkInterfaceId: pulumi.Output<string>;

  constructor(name: string, args: NatInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:network:NatInstance", name, {}, opts);
    const parent = { parent: this };
    const region = args.region ?? aws.getRegionOutput({}, parent).region;
    const instanceType = args.instanceType ?? defaultNatInstanceType;

    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "NAT instance: HTTPS from the VPC only, HTTPS out",
        tags: { Name: `${name}-sg` },
      },
      parent,
    );
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-from-vpc`,
      {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: args.vpcCidr,
        description: "HTTPS to forward, from the VPC only",
      },
      parent,
    );
    const egress = new aws.vpc.SecurityGroupEgressRule(
      `${name}-https-out`,
      {
        securityGroupId: this.securityGroup.id,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "HTTPS out: forwarded connections, Debian's mirror, the SSM agent",
      },
      parent,
    );

    const role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "NAT instance: managed and patched through SSM",
        assumeRolePolicy: assumableByService("ec2.amazonaws.com"),
      },
      parent,
    );
    // Session Manager and Run Command only, as the host's role grants them.
    const ssmPolicy = new aws.iam.Policy(
      `${name}-ssm`,
      {
        description: "NAT instance: the SSM agent's Session Manager and Run Command channels, nothing else",
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [ssmAgentCoreStatement] }),
      },
      parent,
    );
    const attachment = new aws.iam.RolePolicyAttachment(
      `${name}-ssm`,
      { role: role.name, policyArn: ssmPolicy.arn },
      parent,
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, parent);

    const ami = debianAmi(instanceType, parent);

    this.instance = new aws.ec2.Instance(
      `${name}-instance`,
      {
        ami: ami.id,
        instanceType,
        subnetId: args.subnetId,
        vpcSecurityGroupIds: [this.securityGroup.id],
        // Its public address is what the VPC's HTTPS leaves from; EC2's recovery keeps it.
        associatePublicIpAddress: true,
        sourceDestCheck: false,
        iamInstanceProfile: profile.name,
        metadataOptions: {
          httpEndpoint: "enabled",
          httpTokens: "required",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "disabled",
        },
        monitoring: true,
        ebsOptimized: true,
        maintenanceOptions: { autoRecovery: "default" },
        rootBlockDevice: {
          volumeType: "gp3",
          volumeSize: 8,
          encrypted: true,
          kmsKeyId: args.volumeKeyArn,
          deleteOnTermination: true,
        },
        userData: pulumi.output(region).apply((name) => renderNatUserData(args.vpcCidr, name)),
        // It holds no state: a changed firewall or setup script arrives as a fresh instance, and the
        // app subnets' route follows its new network interface.
        userDataReplaceOnChange: true,
        tags: { Name: `${args.namePrefix}-nat`, [NAT_ROLE_TAG.key]: NAT_ROLE_TAG.value },
      },
      // A newer Debian image must not replace a running NAT: it patches itself.
      { parent: this, dependsOn: [attachment, egress], ignoreChanges: ["ami"] },
    );
    this.networkInterfaceId = this.instance.primaryNetworkInterfaceId;

    this.registerOutputs({ instanceId: this.instance.id, networkInterfaceId: this.networkInterfaceId });
  }
}
