// openemr:natGateway: the single tier's NAT instance as planned (built to the host's controls, the
// app subnets' route through it, its recovery alarms, its user-data), the managed gateway on
// standard, and the policy pack's narrow exception for it: what keeps it, what loses it.
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { estimateRun } from "../../infra/cost/estimate";
import { loadAssumptions, loadPrices } from "../../infra/cost/tables";
import { defaultSettings, evaluate, hasBlockingFailures, toRuleResources } from "../../policies/engine";
import { allRules } from "../../policies/rules";
import { ec2NoPublicIp } from "../../policies/rules/compute";
import { inBackupPlan } from "../../policies/rules/backup";
import type { Rule, RuleResource } from "../../policies/rules/types";
import { loadWaivers } from "../../policies/waivers";
import { named, ofType, secretValues } from "./helpers";

const emails = { "openemr:alertEmails": JSON.stringify(["ops@example.org"]) };
let single: OfflineRun;
let standard: OfflineRun;
beforeAll(async () => {
  single = await planStack({ config: { ...emails, "openemr:tier": "single" }, stackName: "nat" });
  standard = await planStack({ config: { ...emails, "openemr:tier": "standard" }, stackName: "gateway" });
}, 120_000);

const natInstance = (run: OfflineRun) => named(run, "aws:ec2/instance:Instance", "network-nat-instance");
const appRoute = (run: OfflineRun) => named(run, "aws:ec2/route:Route", "network-app-nat");

describe("natGateway: instance (the single tier's default)", () => {
  it("one Graviton instance in the first public subnet, forwarding, with a public address", () => {
    const nat = natInstance(single);
    const publicSubnet = named(single, "aws:ec2/subnet:Subnet", "network-public-0");
    expect(nat.inputs).toMatchObject({
      instanceType: "t4g.nano",
      subnetId: publicSubnet.state.id,
      sourceDestCheck: false,
      associatePublicIpAddress: true,
      tags: { Role: "nat-instance" },
    });
    expect(ofType(single, "aws:ec2/natGateway:NatGateway")).toEqual([]);
    expect(ofType(single, "aws:ec2/eip:Eip")).toEqual([]);
  });

  it("built to the host's controls: IMDSv2, encrypted root on the data key, no key pair, monitored, SSM only", () => {
    const nat = natInstance(single);
    const dataKey = named(single, "aws:kms/key:Key", "keys-data");
    expect(nat.inputs.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
    expect(nat.inputs.rootBlockDevice).toMatchObject({ encrypted: true, kmsKeyId: dataKey.state.arn });
    expect(nat.inputs.keyName).toBeUndefined();
    expect([nat.inputs.monitoring, nat.inputs.ebsOptimized]).toEqual([true, true]);
    const policy = JSON.parse(named(single, "aws:iam/policy:Policy", "network-nat-ssm").inputs.policy);
    expect(
      policy.Statement.flatMap((statement: any) => statement.Action).every((action: string) =>
        /^(ssm:UpdateInstanceInformation|ssmmessages:|ec2messages:)/.test(action),
      ),
    ).toBe(true);
  });

  it("its group admits HTTPS from the VPC's range only and sends HTTPS out", () => {
    const group = named(single, "aws:ec2/securityGroup:SecurityGroup", "network-nat-sg");
    expect(natInstance(single).inputs.vpcSecurityGroupIds).toEqual([group.state.id]);
    const vpc = named(single, "aws:ec2/vpc:Vpc", "network-vpc");
    const rules = (type: string) =>
      ofType(single, type)
        .filter((rule) => rule.inputs.securityGroupId === group.state.id)
        .map((rule) => rule.inputs);
    expect(rules("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toEqual([
      expect.objectContaining({ ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: vpc.inputs.cidrBlock }),
    ]);
    expect(rules("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([
      expect.objectContaining({ ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" }),
    ]);
  });

  it("the app subnets' default route goes to its network interface", () => {
    expect(appRoute(single).inputs).toMatchObject({
      destinationCidrBlock: "0.0.0.0/0",
      networkInterfaceId: natInstance(single).state.primaryNetworkInterfaceId,
    });
    expect(appRoute(single).inputs.natGatewayId).toBeUndefined();
  });

  it("EC2 recovers it on a hardware failure and reboots it on an OS failure, and says so", () => {
    const id = natInstance(single).state.id;
    const alarm = (name: string) =>
      named(single, "aws:cloudwatch/metricAlarm:MetricAlarm", `monitoring-${name}`).inputs;
    const topic = named(single, "aws:sns/topic:Topic", "monitoring-alarms").state.arn;
    expect(alarm("nat-system-status")).toMatchObject({
      metricName: "StatusCheckFailed_System",
      dimensions: { InstanceId: id },
      alarmActions: ["arn:aws:automate:us-east-1:ec2:recover", topic],
    });
    expect(alarm("nat-instance-status")).toMatchObject({
      metricName: "StatusCheckFailed_Instance",
      dimensions: { InstanceId: id },
      alarmActions: ["arn:aws:automate:us-east-1:ec2:reboot", topic],
    });
  });

  it("its user-data forwards and masquerades the VPC's HTTPS only, turns SSH off, and holds no secret", () => {
    const userData: string = natInstance(single).inputs.userData;
    const files = parse(userData.replace(/^#cloud-config\n/, "")).write_files;
    const file = (path: string) => files.find((entry: any) => entry.path === path).content as string;
    const cidr = named(single, "aws:ec2/vpc:Vpc", "network-vpc").inputs.cidrBlock;
    expect(file("/etc/nftables.conf")).toContain(`ip saddr ${cidr} ip daddr != ${cidr} masquerade`);
    expect(file("/etc/nftables.conf")).toContain(
      `ip saddr ${cidr} ip daddr != ${cidr} tcp dport 443 ct state new accept`,
    );
    expect(file("/etc/sysctl.d/90-openemr-nat.conf")).toContain("net.ipv4.ip_forward = 1");
    expect(file("/etc/apt/apt.conf.d/52openemr-nat-upgrades")).toContain('APT::Periodic::Unattended-Upgrade "1";');
    expect(file("/usr/local/sbin/openemr-nat-setup")).toContain("systemctl disable --now ssh.service ssh.socket");
    for (const secret of secretValues(single)) expect(userData).not.toContain(secret);
  });

  it("costs the instance, its address, volume and monitoring instead of the gateway's hours", () => {
    const estimate = estimateRun(single, {
      region: "us-east-1",
      tier: "single",
      prices: loadPrices("us-east-1"),
      assumptions: loadAssumptions(),
    });
    const parts = estimate.items
      .filter((item) => item.name === "network-nat-instance")
      .map((item) => [item.part, item.monthlyUsd]);
    // 730 h x $0.0042, 8 GB x $0.08, 7 metrics x $0.30, 730 h x $0.005; no CloudWatch agent metrics.
    expect(parts).toEqual([
      ["compute", 3.066],
      ["root volume", 0.64],
      ["detailed monitoring", 2.1],
      ["public IPv4", 3.65],
    ]);
  });

  it("no mandatory rule of the pack fails", () => {
    const evaluations = evaluate(allRules, toRuleResources(single), {
      settings: { ...defaultSettings, tier: "single" },
      waivers: loadWaivers(),
    });
    expect(evaluations.filter((evaluation) => evaluation.blocking).map((evaluation) => evaluation.rule.id)).toEqual([]);
    expect(hasBlockingFailures(evaluations)).toBe(false);
  });
});

describe("natGateway: managed (the standard tier's default)", () => {
  it("an AWS NAT gateway with its Elastic IP, and no NAT instance", () => {
    const gateway = named(standard, "aws:ec2/natGateway:NatGateway", "network-nat");
    expect(appRoute(standard).inputs.natGatewayId).toBe(gateway.state.id);
    expect(ofType(standard, "aws:ec2/instance:Instance").map((instance) => instance.name)).toEqual(["host-instance"]);
  });
});

describe("the pack's exception for the NAT instance is narrow", () => {
  const resources = () => structuredClone(toRuleResources(single));
  const find = (list: RuleResource[], name: string) => list.find((resource) => resource.name === name)!;
  // Stack rules see a resource's state over its inputs: a change is made to both.
  const change = (resource: RuleResource, key: string, value: unknown) => {
    resource.props[key] = value;
    if (resource.outputs) resource.outputs[key] = value;
  };
  const status = (rule: Rule, list: RuleResource[], name: string) =>
    evaluate([rule], list, { settings: { ...defaultSettings, tier: "single" } }).find(
      (evaluation) => evaluation.resourceName === name,
    )!.status;

  it("passes ec2-no-public-ip and is not applicable to in-backup-plan as declared", () => {
    const list = resources();
    expect(status(ec2NoPublicIp, list, "network-nat-instance")).toBe("pass");
    expect(status(inBackupPlan, list, "network-nat-instance")).toBe("not-applicable");
  });

  it("is lost when its group admits a range outside the VPC", () => {
    const list = resources();
    const group = find(list, "network-nat-sg");
    const rule = list.find(
      (resource) =>
        resource.type === "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule" &&
        resource.props.securityGroupId === group.outputs?.id,
    )!;
    change(rule, "cidrIpv4", "0.0.0.0/0");
    expect(status(ec2NoPublicIp, list, "network-nat-instance")).toBe("fail");
    expect(status(inBackupPlan, list, "network-nat-instance")).toBe("fail");
  });

  it("is lost when it does not forward (source/destination check on)", () => {
    const list = resources();
    change(find(list, "network-nat-instance"), "sourceDestCheck", true);
    expect(status(ec2NoPublicIp, list, "network-nat-instance")).toBe("fail");
  });

  it("is lost without the NAT role tag", () => {
    const list = resources();
    change(find(list, "network-nat-instance"), "tags", { Name: "nat" });
    expect(status(ec2NoPublicIp, list, "network-nat-instance")).toBe("fail");
  });

  it("does not cover the OpenEMR host given the tag, a public address and forwarding: its data volume stays", () => {
    const list = resources();
    const host = find(list, "host-instance");
    change(host, "tags", { ...host.props.tags, Role: "nat-instance" });
    change(host, "associatePublicIpAddress", true);
    expect(status(ec2NoPublicIp, list, "host-instance")).toBe("fail");
    change(host, "sourceDestCheck", false);
    change(host, "vpcSecurityGroupIds", find(list, "network-nat-instance").props.vpcSecurityGroupIds);
    expect(status(ec2NoPublicIp, list, "host-instance")).toBe("fail");
  });
});
