// Compute rules on real declarations: a compliant host (private subnet, IMDSv2, profile with
// SSM, encrypted volumes with the data key, no key pair, secrets by reference) and, in each
// rule's test, hosts that break that rule.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  ebsEncryptionDefault,
  ec2DetailedMonitoring,
  ec2EbsOptimized,
  ec2Imdsv2,
  ec2InstanceProfile,
  ec2InVpc,
  ec2NoPublicIp,
  ec2SsmManaged,
  ec2UserdataNoSecrets,
  ec2VolumesEncrypted,
  noSshKeypair,
} from "../../../policies/rules/compute";
import { declared, expectFails, expectPasses } from "./harness";

// Assembled at run time so the source holds no key-shaped block for secret scanners to flag.
const fakePrivateKeyBlock = ["-----BEGIN RSA", "PRIVATE KEY-----\nMIIE\n-----END RSA", "PRIVATE KEY-----\n"].join(" ");

const ec2Trust = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
});
const appPassword = "Sup3r-Secret-Value-0042";

const SSM_MANAGED = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";

/** What a host stands on: the data key, a private subnet of a VPC, and an instance profile. */
interface Site {
  key: aws.kms.Key;
  vpc: aws.ec2.Vpc;
  subnet: aws.ec2.Subnet;
  profile: aws.iam.InstanceProfile;
}

/** A site whose host role `<role>-role` has `policyArn` attached, beside the app's database secret. */
function site(role: string, policyArn: string): Site {
  const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
  const vpc = new aws.ec2.Vpc("vpc", { cidrBlock: "10.0.0.0/16" });
  const subnet = new aws.ec2.Subnet("app", { vpcId: vpc.id, cidrBlock: "10.0.2.0/24" });
  const hostRole = new aws.iam.Role(`${role}-role`, { assumeRolePolicy: ec2Trust });
  new aws.iam.RolePolicyAttachment(`${role}-policy`, { role: hostRole.name, policyArn });
  const profile = new aws.iam.InstanceProfile(`${role}-profile`, { role: hostRole.name });
  const secret = new aws.secretsmanager.Secret("app-secret", { kmsKeyId: key.arn });
  new aws.secretsmanager.SecretVersion("app-secret", {
    secretId: secret.id,
    secretString: JSON.stringify({ username: "openemr_app", password: appPassword }),
  });
  return { key, vpc, subnet, profile };
}

/** A site for hosts that break a rule: its role grants CloudWatch, not SSM management. */
function bareSite(): Site {
  return site("bare", "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy");
}

/** A compliant host on `at`, but for `overrides`. */
function host(
  name: string,
  at: Site,
  overrides: Partial<aws.ec2.InstanceArgs> = {},
  subnet: aws.ec2.Subnet = at.subnet,
): aws.ec2.Instance {
  return new aws.ec2.Instance(name, {
    ami: "ami-0123456789abcdef0",
    instanceType: "t3.medium",
    subnetId: subnet.id,
    associatePublicIpAddress: false,
    iamInstanceProfile: at.profile.name,
    metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
    monitoring: true,
    ebsOptimized: true,
    rootBlockDevice: { encrypted: true, kmsKeyId: at.key.arn, volumeType: "gp3" },
    userData: pulumi.interpolate`#!/bin/sh\nSECRET_DB_APP=arn:aws:secretsmanager:us-east-1:111122223333:secret:app\n`,
    ...overrides,
  });
}

/** One host on a bare site, differing from a compliant host by `overrides`. */
function hostWith(name: string, overrides: Partial<aws.ec2.InstanceArgs>): () => void {
  return () => {
    host(name, bareSite(), overrides);
  };
}

function compliantHost(): void {
  const at = site("host", SSM_MANAGED);
  const instance = host("host", at);
  const data = new aws.ebs.Volume("data", {
    availabilityZone: "us-east-1a",
    size: 50,
    encrypted: true,
    kmsKeyId: at.key.arn,
  });
  new aws.ec2.VolumeAttachment("data", { instanceId: instance.id, volumeId: data.id, deviceName: "/dev/sdf" });
  new aws.ebs.EncryptionByDefault("ebs-default", { enabled: true });
  new aws.autoscaling.Group("hosts", { maxSize: 2, minSize: 2, vpcZoneIdentifiers: [at.subnet.id] });
}

function plainVolume(): void {
  new aws.ebs.Volume("plain-volume", { availabilityZone: "us-east-1a", size: 50, encrypted: false });
}

describe("compute rules", () => {
  it("ec2-no-public-ip: no requested, inherited or attached public address", async () => {
    expectPasses(ec2NoPublicIp, await declared(compliantHost));
    const exposed = await declared(() => {
      const at = bareSite();
      host("public-ip-host", at, { associatePublicIpAddress: true });
      const publicSubnet = new aws.ec2.Subnet("maps-public", {
        vpcId: at.vpc.id,
        cidrBlock: "10.0.3.0/24",
        mapPublicIpOnLaunch: true,
      });
      host("inherits-public-ip", at, { associatePublicIpAddress: undefined }, publicSubnet);
    });
    expectFails(ec2NoPublicIp, exposed, "public-ip-host", "associatePublicIpAddress");
    expectFails(ec2NoPublicIp, exposed, "inherits-public-ip", "associatePublicIpAddress");
  });

  it("ec2-imdsv2: httpTokens required", async () => {
    expectPasses(ec2Imdsv2, await declared(compliantHost));
    const imdsv1 = await declared(hostWith("imdsv1-host", { metadataOptions: { httpTokens: "optional" } }));
    expectFails(ec2Imdsv2, imdsv1, "imdsv1-host", "metadataOptions.httpTokens");
  });

  it("ec2-instance-profile: a profile is attached", async () => {
    expectPasses(ec2InstanceProfile, await declared(compliantHost));
    const profileless = await declared(hostWith("no-profile-host", { iamInstanceProfile: undefined }));
    expectFails(ec2InstanceProfile, profileless, "no-profile-host", "iamInstanceProfile");
  });

  it("ec2-in-vpc: hosts and groups are in subnets", async () => {
    expectPasses(ec2InVpc, await declared(compliantHost));
    const subnetless = await declared(() => {
      host("no-subnet-host", bareSite(), { subnetId: undefined });
      new aws.autoscaling.Group("no-subnets", { maxSize: 1, minSize: 1, availabilityZones: ["us-east-1a"] });
    });
    expectFails(ec2InVpc, subnetless, "no-subnet-host", "subnetId");
    expectFails(ec2InVpc, subnetless, "no-subnets", "vpcZoneIdentifiers");
  });

  it("ec2-detailed-monitoring: monitoring on", async () => {
    expectPasses(ec2DetailedMonitoring, await declared(compliantHost));
    const unmonitored = await declared(hostWith("unmonitored-host", { monitoring: false }));
    expectFails(ec2DetailedMonitoring, unmonitored, "unmonitored-host", "monitoring");
  });

  it("ec2-ebs-optimized: EBS-optimized", async () => {
    expectPasses(ec2EbsOptimized, await declared(compliantHost));
    const notOptimized = await declared(hostWith("not-optimized-host", { ebsOptimized: false }));
    expectFails(ec2EbsOptimized, notOptimized, "not-optimized-host", "ebsOptimized");
  });

  it("ec2-volumes-encrypted: root and data volumes with a customer key", async () => {
    expectPasses(ec2VolumesEncrypted, await declared(compliantHost));
    const awsKeyed = await declared(
      hostWith("aws-key-host", { rootBlockDevice: { encrypted: true, kmsKeyId: "alias/aws/ebs" } }),
    );
    expectFails(ec2VolumesEncrypted, awsKeyed, "aws-key-host", "rootBlockDevice.kmsKeyId");
    expectFails(ec2VolumesEncrypted, await declared(plainVolume), "plain-volume", "encrypted");
  });

  it("ebs-encryption-default: declared on passes; declared off or not declared fails", async () => {
    expectPasses(ebsEncryptionDefault, await declared(compliantHost));
    const declaredOff = await declared(() => {
      new aws.ebs.EncryptionByDefault("ebs-default-off", { enabled: false });
    });
    expectFails(ebsEncryptionDefault, declaredOff, "ebs-default-off", "enabled");
    expectFails(ebsEncryptionDefault, await declared(plainVolume), "plain-volume", "encryptionByDefault");
  });

  it("ec2-userdata-no-secrets: references pass; a secret or private key fails, the message hiding it", async () => {
    expectPasses(ec2UserdataNoSecrets, await declared(compliantHost));
    const leaky = await declared(() => {
      const at = bareSite();
      host("leaky-host", at, { userData: `#!/bin/sh\nDB_PASSWORD='${appPassword}'\n` });
      host("pem-host", at, { userData: fakePrivateKeyBlock });
    });
    const leak = expectFails(ec2UserdataNoSecrets, leaky, "leaky-host", "userData");
    expect(leak).toContain("app-secret.secretString.password");
    expect(leak).not.toContain(appPassword);
    expectFails(ec2UserdataNoSecrets, leaky, "pem-host", "userData");
  });

  it("ec2-ssm-managed: the host role carries AmazonSSMManagedInstanceCore", async () => {
    expectPasses(ec2SsmManaged, await declared(compliantHost));
    expectFails(ec2SsmManaged, await declared(hostWith("unmanaged-host", {})), "bare-role", "policyArn");
  });

  it("no-ssh-keypair: no key name, no key pair, no port 22 from anywhere", async () => {
    expectPasses(noSshKeypair, await declared(compliantHost));
    const ssh = await declared(() => {
      const at = bareSite();
      host("keyed-host", at, { keyName: "ops-key" });
      new aws.ec2.KeyPair("ops-key", { publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample ops" });
      const group = new aws.ec2.SecurityGroup("host-sg", { vpcId: at.vpc.id });
      new aws.vpc.SecurityGroupIngressRule("ssh-from-vpc", {
        securityGroupId: group.id,
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "10.0.0.0/16",
      });
    });
    expectFails(noSshKeypair, ssh, "keyed-host", "keyName");
    expectFails(noSshKeypair, ssh, "ops-key", "keyName");
    expectFails(noSshKeypair, ssh, "ssh-from-vpc", "fromPort");
  });
});
