// The whole stack for one config: an explicit provider carrying the region and the tags every
// resource inherits, then each component in dependency order. Returns the stack outputs
// (docs/host-interface.md lists them).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config";
import { Keys, Network, SecurityGroups } from "./components";

/** Tags every resource carries through the provider's `defaultTags`. */
export function stackTags(config: StackConfig, stackName: string): Record<string, string> {
  return { ...config.costTags, Project: "openemr-aws", Stack: stackName, DataClassification: "PHI", ManagedBy: "pulumi" };
}

export function createStack(config: StackConfig): Record<string, pulumi.Input<unknown>> {
  const stackName = pulumi.getStack();
  const provider = new aws.Provider("aws", { region: config.region as aws.Region, defaultTags: { tags: stackTags(config, stackName) } });
  const opts: pulumi.ComponentResourceOptions = { providers: { aws: provider } };
  const logGroupPrefix = `/openemr-aws/${stackName}`;

  const keys = new Keys("keys", { stackName, region: config.region, retainDataOnDestroy: config.retainDataOnDestroy }, opts);
  const network = new Network(
    "network",
    { vpcCidr: config.vpcCidr, azCount: config.azCount, logsKeyArn: keys.logs.arn, logRetentionDays: config.logRetentionDays, logGroupPrefix, region: config.region },
    opts,
  );
  const securityGroups = new SecurityGroups(
    "security-groups",
    { vpcId: network.vpc.id, allowedCidrs: config.allowedCidrs, tier: config.tier, endpointSecurityGroupId: network.endpointSecurityGroup.id },
    opts,
  );

  return {
    region: config.region,
    tier: config.tier,
    logGroupPrefix,
    vpcId: network.vpc.id,
    albSecurityGroupId: securityGroups.alb.id,
  };
}
