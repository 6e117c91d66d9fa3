// The ha tier's hosts: the in-service instances of its Auto Scaling group (stack output
// hostGroupName), in a stable order so that a command meant for one node always picks the same.
import { DescribeAutoScalingGroupsCommand, DescribeInstanceRefreshesCommand } from "@aws-sdk/client-auto-scaling";
import { awsCall, OpsError } from "./errors";
import { sleep, type Context } from "./context";
import { requireOutputs } from "./stack-outputs";

export interface HostGroup {
  name: string;
  desired: number;
  min: number;
  /** Instance ids in service, sorted. */
  inService: string[];
  /** The group's other instances, sorted, as `i-…: <lifecycle state>`. */
  others: string[];
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
    others: (group.Instances ?? [])
      .filter((instance) => instance.LifecycleState !== "InService" && instance.InstanceId)
      .map((instance) => `${instance.InstanceId}: ${instance.LifecycleState}`)
      .sort(),
  };
}

/**
 * Waits until the group has at least its minimum size in service (and at least one instance),
 * polling; throws naming the group and what it last saw when `timeoutMs` passes first.
 */
export async function waitForGroupMinimum(ctx: Context, command: string, timeoutMs: number): Promise<HostGroup> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const group = await describeHostGroup(ctx, command);
    if (group.inService.length >= Math.max(group.min, 1)) return group;
    if (Date.now() > deadline)
      throw new OpsError(
        `${command}: Auto Scaling group ${group.name} did not reach its minimum of ${group.min} instances in service ` +
          `within ${timeoutMs / 60_000} minutes: last seen ${group.inService.length} in service` +
          `${group.inService.length ? ` (${group.inService.join(", ")})` : ""}, desired ${group.desired}` +
          `${group.others.length ? `, others ${group.others.join(", ")}` : ", no other instance"}`,
        "see the group's activity history in EC2 Auto Scaling (launch failures, failed health checks)",
      );
    await sleep(ctx.pollIntervalMs);
  }
}

/** An instance refresh as DescribeInstanceRefreshes reports it. */
export interface InstanceRefresh {
  id: string;
  /**
   * Pending, InProgress, Baking, Successful, Failed, Cancelling, Cancelled, RollbackInProgress,
   * RollbackSuccessful or RollbackFailed.
   */
  status: string;
  statusReason: string | null;
  percentComplete: number;
  instancesToUpdate: number;
}

const REFRESH_ENDS = new Set(["Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"]);
/** How long after `pulumi up` returns its refresh may take to be listed. */
const REFRESH_APPEAR_MS = 5 * 60_000;
/** This machine's clock and AWS's may differ by this much. */
const CLOCK_SKEW_MS = 60_000;

/** The newest refresh of the group started at or after `since`, if any. */
async function newestRefresh(ctx: Context, group: string, since: Date): Promise<InstanceRefresh | undefined> {
  const answer = await awsCall("Auto Scaling DescribeInstanceRefreshes", () =>
    ctx.aws.autoScaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group })),
  );
  const newest = (answer.InstanceRefreshes ?? [])
    .filter((refresh) => refresh.StartTime && refresh.StartTime.getTime() >= since.getTime() - CLOCK_SKEW_MS)
    .sort((a, b) => b.StartTime!.getTime() - a.StartTime!.getTime())[0];
  if (!newest?.InstanceRefreshId) return undefined;
  return {
    id: newest.InstanceRefreshId,
    status: newest.Status ?? "Pending",
    statusReason: newest.StatusReason ?? null,
    percentComplete: newest.PercentageComplete ?? 0,
    instancesToUpdate: newest.InstancesToUpdate ?? 0,
  };
}

export interface RefreshOutcome {
  /** The last state seen; undefined when no refresh started after `since`. */
  refresh?: InstanceRefresh;
  /** The refresh had not ended when the wait did. */
  timedOut: boolean;
}

/**
 * Follows the group's newest instance refresh started after `since` (the one a deployment
 * started) until it ends or `timeoutMs` passes, printing each change of its progress.
 */
export async function followInstanceRefresh(
  ctx: Context,
  group: string,
  since: Date,
  timeoutMs: number,
): Promise<RefreshOutcome> {
  const deadline = Date.now() + timeoutMs;
  const appearBy = Date.now() + Math.min(REFRESH_APPEAR_MS, timeoutMs);
  let shown = "";
  for (;;) {
    const refresh = await newestRefresh(ctx, group, since);
    if (refresh) {
      const line =
        `instance refresh ${refresh.id}: ${refresh.status}, ${refresh.percentComplete}% done, ` +
        `instances to update: ${refresh.instancesToUpdate}${refresh.statusReason ? ` (${refresh.statusReason})` : ""}`;
      if (line !== shown) ctx.progress.line(line);
      shown = line;
      if (REFRESH_ENDS.has(refresh.status)) return { refresh, timedOut: false };
      if (Date.now() > deadline) return { refresh, timedOut: true };
    } else if (Date.now() > appearBy) return { timedOut: true };
    await sleep(ctx.pollIntervalMs);
  }
}

/** The group's in-service instances, sorted; throws when there is none. */
export async function inServiceNodes(ctx: Context, command: string): Promise<string[]> {
  const group = await describeHostGroup(ctx, command);
  if (!group.inService.length)
    throw new OpsError(
      `${command}: Auto Scaling group ${group.name} has no instance in service (desired ${group.desired})`,
      "see the group's activity history in EC2 Auto Scaling, then `openemr-ops health`",
    );
  return group.inService;
}

/**
 * The instance a command for one host runs on: the stack's host, or on ha the first in-service
 * node, which acts for the group on what the nodes share (the database, sites/). The hosts' own
 * timers elect a node per job, but a manual run always runs where it is sent, so the tool picks
 * exactly one.
 */
export async function commandHost(ctx: Context, command: string): Promise<string> {
  return isHa(ctx)
    ? (await inServiceNodes(ctx, command))[0]
    : requireOutputs(ctx.outputs, command, ["hostInstanceId"]).hostInstanceId;
}
