// The ha tier's hosts: the in-service instances of its Auto Scaling group (stack output
// hostGroupName), in a stable order so that a command meant for one node always picks the same.
import { DescribeAutoScalingGroupsCommand } from "@aws-sdk/client-auto-scaling";
import { awsCall, OpsError } from "./errors";
import type { Context } from "./context";
import { requireOutputs } from "./stack-outputs";

export interface HostGroup {
  name: string;
  desired: number;
  min: number;
  /** Instance ids in service, sorted. */
  inService: string[];
}

export function isHa(ctx: Context): boolean {
  return ctx.outputs.tier === "ha";
}

/** The group as Auto Scaling describes it now. `command` is the sub-command, for messages. */
export async function describeHostGroup(ctx: Context, command: string): Promise<HostGroup> {
  const { hostGroupName } = requireOutputs(ctx.outputs, command, ["hostGroupName"]);
  const answer = await awsCall("Auto Scaling DescribeAutoScalingGroups", () =>
    ctx.aws.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [hostGroupName] })),
  );
  const group = answer.AutoScalingGroups?.find((found) => found.AutoScalingGroupName === hostGroupName);
  if (!group)
    throw new OpsError(
      `Auto Scaling group ${hostGroupName} (stack output "hostGroupName") does not exist`,
      "check that the stack is deployed and that --stack/--outputs and --region are the right ones",
    );
  return {
    name: hostGroupName,
    desired: group.DesiredCapacity ?? 0,
    min: group.MinSize ?? 0,
    inService: (group.Instances ?? [])
      .filter((instance) => instance.LifecycleState === "InService" && instance.InstanceId)
      .map((instance) => instance.InstanceId!)
      .sort(),
  };
}

/**
 * The one node a command runs on: the first in-service instance. The hosts' own timers elect a
 * node per job, but a manual run always runs where it is sent, so the tool picks exactly one.
 */
export async function oneGroupNode(ctx: Context, command: string): Promise<string> {
  const group = await describeHostGroup(ctx, command);
  if (!group.inService.length)
    throw new OpsError(
      `${command}: Auto Scaling group ${group.name} has no instance in service (desired ${group.desired})`,
      "see the group's activity history in EC2 Auto Scaling, then `openemr-ops health`",
    );
  return group.inService[0];
}
