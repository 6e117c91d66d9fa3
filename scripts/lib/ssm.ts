// Running a shell script on the host through SSM Run Command (AWS-RunShellScript) and
// following it: its output is streamed as it grows, and the result says how it ended.
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  type GetCommandInvocationCommandOutput,
} from "@aws-sdk/client-ssm";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { quote } from "zx";
import { awsCall, OpsError } from "./errors";
import { sleep, type Context } from "./context";

export interface HostScript {
  instanceId: string;
  /** What the script does, for progress and messages, e.g. `backup`. */
  purpose: string;
  /** Bash; runs as root. */
  script: string;
  /** Longest the script may run on the host. */
  timeoutSeconds: number;
  /** Show the script's output on stderr as it arrives. */
  stream?: boolean;
}

export interface HostResult {
  commandId: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

const RUNNING = new Set(["Pending", "InProgress", "Delayed", "Cancelling"]);

/** Runs the script and waits for it; throws OpsError when it timed out or never ran. */
export async function runOnHost(ctx: Context, job: HostScript): Promise<HostResult> {
  const sent = await awsCall(
    "SSM SendCommand",
    () =>
      ctx.aws.ssm.send(
        new SendCommandCommand({
          InstanceIds: [job.instanceId],
          DocumentName: "AWS-RunShellScript",
          Comment: `openemr-ops ${job.purpose}`.slice(0, 100),
          Parameters: { commands: [asBash(job.script)], executionTimeout: [String(job.timeoutSeconds)] },
        }),
      ),
    job.instanceId,
  );
  const commandId = sent.Command?.CommandId;
  if (!commandId) throw new OpsError(`SSM SendCommand for ${job.purpose} returned no command id`);

  // The host enforces executionTimeout; the client deadline only guards against SSM never answering.
  const deadline = Date.now() + (job.timeoutSeconds + 120) * 1000;
  let shown = 0;
  for (;;) {
    await sleep(ctx.pollIntervalMs);
    const invocation = await readInvocation(ctx, commandId, job.instanceId);
    const stdout = invocation?.StandardOutputContent ?? "";
    if (job.stream && stdout.length > shown) {
      const complete = stdout.lastIndexOf("\n") + 1;
      const upTo = invocation && !RUNNING.has(invocation.Status ?? "") ? stdout.length : complete;
      for (const line of stdout
        .slice(shown, upTo)
        .split("\n")
        .filter((text) => text !== ""))
        ctx.progress.line(line);
      shown = Math.max(shown, upTo);
    }
    const status = invocation?.Status ?? "Pending";
    if (!RUNNING.has(status)) return settle(job, commandId, invocation!);
    if (Date.now() > deadline) {
      throw new OpsError(
        `${job.purpose} on ${job.instanceId}: SSM still reports ${status} after ${job.timeoutSeconds + 120}s ` +
          `(command ${commandId})`,
        "check it in the SSM console",
      );
    }
  }
}

/**
 * AWS-RunShellScript runs its commands with `sh`; the scripts are bash. The script is bash's
 * argument (a quoted heredoc keeps it verbatim) rather than its stdin, so a command in it
 * that reads stdin cannot swallow the rest of the script.
 */
export function asBash(script: string): string {
  return `bash -c "$(cat <<'${SCRIPT_END}'\n${script.trimEnd()}\n${SCRIPT_END}\n)"`;
}

const SCRIPT_END = "OPENEMR_OPS_SCRIPT_END";

async function readInvocation(
  ctx: Context,
  commandId: string,
  instanceId: string,
): Promise<GetCommandInvocationCommandOutput | undefined> {
  try {
    return await ctx.aws.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
  } catch (error) {
    // Right after SendCommand the invocation may not exist yet.
    if ((error as { name?: string }).name === "InvocationDoesNotExist") return undefined;
    return awsCall("SSM GetCommandInvocation", () => Promise.reject(error as Error), instanceId);
  }
}

function settle(job: HostScript, commandId: string, invocation: GetCommandInvocationCommandOutput): HostResult {
  const detail = invocation.StatusDetails ?? invocation.Status;
  switch (invocation.Status) {
    case "Success":
    case "Failed":
      if (invocation.StatusDetails === "Undeliverable" || invocation.StatusDetails === "DeliveryTimedOut") {
        throw new OpsError(
          `${job.purpose}: SSM could not deliver the command to ${job.instanceId} (${detail})`,
          "check that the SSM agent is online",
        );
      }
      return {
        commandId,
        exitCode: invocation.ResponseCode ?? (invocation.Status === "Success" ? 0 : 1),
        stdout: invocation.StandardOutputContent ?? "",
        stderr: invocation.StandardErrorContent ?? "",
      };
    case "TimedOut":
      throw new OpsError(
        `${job.purpose} timed out on ${job.instanceId} after ${job.timeoutSeconds}s ` +
          `(SSM ${detail}, command ${commandId})`,
        "the host may still be working: check its log before retrying",
      );
    default:
      throw new OpsError(`${job.purpose} on ${job.instanceId} ended as ${detail} (command ${commandId})`);
  }
}

/** The host's SSM agent status: `Online`, `ConnectionLost`, `Inactive`, or `NotRegistered`. */
export async function agentStatus(ctx: Context, instanceId: string): Promise<string> {
  const answer = await awsCall(
    "SSM DescribeInstanceInformation",
    () =>
      ctx.aws.ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [instanceId] }] }),
      ),
    instanceId,
  );
  return answer.InstanceInformationList?.[0]?.PingStatus ?? "NotRegistered";
}

/** The last non-empty line of a script's output: the host scripts print their JSON result there. */
export function lastJsonLine(stdout: string, purpose: string): unknown {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new OpsError(
      `${purpose}: the host's last output line is not the expected JSON (got ${JSON.stringify(line.slice(0, 120))})`,
    );
  }
}

/**
 * Lines that start a host script needing settings.env: the host bundle's own library
 * (infra/host/lib/common.sh: settings parsed, never sourced, every key exported); a bad file
 * stops the script with one line on stderr. scripts/host/*.sh carry the same lines.
 */
export const READ_HOST_SETTINGS = [
  "PROG='openemr-ops on the host'",
  ". /opt/openemr-aws/lib/common.sh",
  "read_settings_file",
].join("\n");

/**
 * A script from scripts/host/ (plain files, so they can be read and shellchecked), with its
 * inputs prepended as shell-quoted variable assignments.
 */
export function hostScript(name: string, inputs: Record<string, string> = {}): string {
  const assignments = Object.entries(inputs).map(([key, value]) => `${key}=${quote(value)}`);
  return [...assignments, readFileSync(join(__dirname, "..", "host", `${name}.sh`), "utf8")].join("\n");
}
