// The `ha` tier's rules on real declarations: an EFS file system, a Valkey replication group, an
// Auto Scaling group over subnets, and a launch template; each compliant, then broken one way.
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { inBackupPlan } from "../../../policies/rules/backup";
import { asgMultiAzElbHealth, ec2Imdsv2, ec2NoPublicIp, ec2VolumesEncrypted } from "../../../policies/rules/compute";
import { elasticacheTlsAuthEncrypted } from "../../../policies/rules/database";
import { efsEncryptedCmk } from "../../../policies/rules/storage";
import { declared, evaluations, expectFails, expectPasses } from "./harness";

describe("efs-encrypted-cmk", () => {
  const fileSystem = (overrides: Partial<aws.efs.FileSystemArgs>) => () => {
    const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
    new aws.efs.FileSystem("sites", { encrypted: true, kmsKeyId: key.arn, ...overrides });
  };

  it("passes a file system encrypted with a customer key", async () => {
    expectPasses(efsEncryptedCmk, await declared(fileSystem({})));
  });

  it("fails an unencrypted file system", async () => {
    expectFails(efsEncryptedCmk, await declared(fileSystem({ encrypted: false })), "sites", "encrypted");
  });

  it("fails a file system encrypted with the AWS managed key", async () => {
    const resources = await declared(fileSystem({ kmsKeyId: "alias/aws/elasticfilesystem" }));
    expectFails(efsEncryptedCmk, resources, "sites", "kmsKeyId");
  });
});

describe("elasticache-tls-auth-encrypted", () => {
  const cache = (overrides: Partial<aws.elasticache.ReplicationGroupArgs>) => () => {
    const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
    new aws.elasticache.ReplicationGroup("sessions", {
      description: "sessions",
      engine: "valkey",
      nodeType: "cache.t4g.micro",
      numCacheClusters: 2,
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: "a".repeat(32),
      atRestEncryptionEnabled: true,
      kmsKeyId: key.arn,
      ...overrides,
    });
  };

  it("passes TLS required, an AUTH token and a customer key at rest", async () => {
    expectPasses(elasticacheTlsAuthEncrypted, await declared(cache({})));
  });

  it("passes RBAC user groups in place of an AUTH token", async () => {
    expectPasses(elasticacheTlsAuthEncrypted, await declared(cache({ authToken: undefined, userGroupIds: ["ug"] })));
  });

  it("fails without TLS", async () => {
    const resources = await declared(cache({ transitEncryptionEnabled: false, transitEncryptionMode: undefined }));
    expectFails(elasticacheTlsAuthEncrypted, resources, "sessions", "transitEncryptionEnabled");
  });

  it("fails TLS that is only preferred (clients without TLS still admitted)", async () => {
    const resources = await declared(cache({ transitEncryptionMode: "preferred" }));
    expectFails(elasticacheTlsAuthEncrypted, resources, "sessions", "transitEncryptionMode");
  });

  it("fails without authentication", async () => {
    expectFails(elasticacheTlsAuthEncrypted, await declared(cache({ authToken: undefined })), "sessions", "authToken");
  });

  it("fails without encryption at rest, or with AWS's key", async () => {
    expectFails(
      elasticacheTlsAuthEncrypted,
      await declared(cache({ atRestEncryptionEnabled: false })),
      "sessions",
      "atRestEncryptionEnabled",
    );
    expectFails(elasticacheTlsAuthEncrypted, await declared(cache({ kmsKeyId: undefined })), "sessions", "kmsKeyId");
  });
});

describe("asg-multi-az-elb-health", () => {
  const group = (zones: string[], overrides: Partial<aws.autoscaling.GroupArgs>) => () => {
    const vpc = new aws.ec2.Vpc("vpc", { cidrBlock: "10.0.0.0/16" });
    const subnets = zones.map(
      (availabilityZone, index) =>
        new aws.ec2.Subnet(`app-${index}`, { vpcId: vpc.id, cidrBlock: `10.0.${index}.0/24`, availabilityZone }),
    );
    const targetGroup = new aws.lb.TargetGroup("hosts", { port: 443, protocol: "HTTPS", vpcId: vpc.id });
    new aws.autoscaling.Group("hosts", {
      minSize: 2,
      maxSize: 4,
      vpcZoneIdentifiers: subnets.map((subnet) => subnet.id),
      healthCheckType: "ELB",
      targetGroupArns: [targetGroup.arn],
      ...overrides,
    });
  };

  it("passes two zones, two hosts, ELB health checks and a target group", async () => {
    const results = expectPasses(asgMultiAzElbHealth, await declared(group(["us-east-1a", "us-east-1b"], {})));
    expect(results[0].outcome.status === "pass" && results[0].outcome.evidence.zones).toEqual([
      "us-east-1a",
      "us-east-1b",
    ]);
  });

  it("fails two subnets in one zone", async () => {
    const resources = await declared(group(["us-east-1a", "us-east-1a"], {}));
    expectFails(asgMultiAzElbHealth, resources, "hosts", "vpcZoneIdentifiers");
  });

  it("fails a group of one host", async () => {
    const resources = await declared(group(["us-east-1a", "us-east-1b"], { minSize: 1 }));
    expectFails(asgMultiAzElbHealth, resources, "hosts", "minSize");
  });

  it("fails EC2 health checks only", async () => {
    const resources = await declared(group(["us-east-1a", "us-east-1b"], { healthCheckType: "EC2" }));
    expectFails(asgMultiAzElbHealth, resources, "hosts", "healthCheckType");
  });

  it("fails a group registered with no load balancer", async () => {
    const resources = await declared(group(["us-east-1a", "us-east-1b"], { targetGroupArns: [] }));
    expectFails(asgMultiAzElbHealth, resources, "hosts", "targetGroupArns");
  });
});

describe("launch templates, under the host rules", () => {
  const template = (overrides: Partial<aws.ec2.LaunchTemplateArgs>) => () => {
    const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
    new aws.ec2.LaunchTemplate("host", {
      imageId: "ami-0123456789abcdef0",
      instanceType: "t4g.small",
      metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      networkInterfaces: [{ associatePublicIpAddress: "false" }],
      blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", kmsKeyId: key.arn } }],
      ...overrides,
    });
  };

  it("passes IMDSv2, a customer-keyed root volume and no public address", async () => {
    const resources = await declared(template({}));
    for (const rule of [ec2Imdsv2, ec2VolumesEncrypted, ec2NoPublicIp]) expectPasses(rule, resources);
  });

  it("fails IMDSv1 and an unencrypted root volume", async () => {
    const resources = await declared(
      template({
        metadataOptions: { httpTokens: "optional" },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }],
      }),
    );
    expectFails(ec2Imdsv2, resources, "host", "metadataOptions.httpTokens");
    expectFails(ec2VolumesEncrypted, resources, "host", "encrypted");
  });
});

describe("in-backup-plan, for EFS", () => {
  const plan = (select: boolean) => () => {
    const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
    const fileSystem = new aws.efs.FileSystem("sites", { encrypted: true, kmsKeyId: key.arn });
    const vault = new aws.backup.Vault("vault", { name: "openemr-vault", kmsKeyArn: key.arn });
    const backupPlan = new aws.backup.Plan("plan", {
      name: "daily",
      rules: [{ ruleName: "daily", targetVaultName: vault.name, schedule: "cron(0 5 * * ? *)" }],
    });
    new aws.backup.Selection("selection", {
      name: "openemr",
      planId: backupPlan.id,
      iamRoleArn: "arn:aws:iam::111122223333:role/backup",
      resources: select ? [fileSystem.arn] : ["arn:aws:rds:us-east-1:111122223333:db:other"],
    });
  };

  it("passes a file system the plan selects", async () => {
    expectPasses(inBackupPlan, await declared(plan(true)));
  });

  it("fails a file system no plan selects", async () => {
    const resources = await declared(plan(false));
    expect(evaluations(inBackupPlan, resources).map((result) => result.status)).toEqual(["fail"]);
    expectFails(inBackupPlan, resources, "sites", "arn");
  });
});
