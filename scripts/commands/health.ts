// `openemr-ops health`: every check at once, each under its own timeout, then one table and
// one verdict. Only CRIT fails the command.
import { readFile } from "node:fs/promises";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../lib/errors";
import { renderFindings, runChecks, verdictOf, type Check, type Finding } from "../lib/checks";
import type { Context } from "../lib/context";
import { emit } from "../lib/printing";
import { requireOutputs } from "../lib/stack-outputs";
import { describeHostGroup, isHa } from "../lib/host-group";
import { agentStatus, runOnHost } from "../lib/ssm";
import { pageFindings, probe, readyzFindings } from "../health/https";
import { hostFindings, parseHostReport, HOST_HEALTH_SCRIPT } from "../health/host";
import { alarmFindings, bucketFindings, rdsFindings } from "../health/aws";

export interface HealthOptions {
  /** PEM file of an extra CA to trust (a stack without a domain serves a self-signed certificate). */
  caFile?: string;
  /** Seconds each check may take. */
  timeout: number;
}

const REQUIRED = ["url", "alarmTopicArn", "backupBucket", "backupPrefix", "tier"] as const;

/** Runs every check and returns the findings; `upgrade` and `provision` use it as their gate. */
export async function collectHealth(ctx: Context, options: HealthOptions): Promise<Finding[]> {
  const outputs = requireOutputs(ctx.outputs, "health", REQUIRED);
  const hostRun = isHa(ctx)
    ? () => groupCheck(ctx, options.timeout)
    : () => hostCheck(ctx, requireOutputs(ctx.outputs, "health", ["hostInstanceId"]).hostInstanceId, options.timeout);
  const extraCa = options.caFile ? await readCa(options.caFile) : undefined;
  const timeoutMs = options.timeout * 1000;
  const url = new URL(outputs.url);
  const checks: Check[] = [
    { name: "https", timeoutMs, run: async () => pageFindings(await probe(url.href, { extraCa, timeoutMs })) },
    {
      name: "readyz",
      timeoutMs,
      run: async () => readyzFindings(await probe(new URL("/meta/health/readyz", url).href, { extraCa, timeoutMs })),
    },
    { name: "alarms", timeoutMs, run: () => alarmFindings(ctx, outputs.alarmTopicArn) },
    { name: "host", timeoutMs: timeoutMs + 60_000, run: hostRun },
    { name: "bucket", timeoutMs, run: () => bucketFindings(ctx, outputs.backupBucket, outputs.backupPrefix) },
  ];
  if (outputs.tier !== "single") {
    const { dbInstanceIdentifier } = requireOutputs(ctx.outputs, `health on the ${outputs.tier} tier`, [
      "dbInstanceIdentifier",
    ]);
    checks.push({ name: "rds", timeoutMs, run: () => rdsFindings(ctx, dbInstanceIdentifier) });
  }
  return runChecks(`checking ${checks.length} areas of the stack`, checks, ctx.progress);
}

async function hostCheck(ctx: Context, instanceId: string, timeoutSeconds: number): Promise<Finding[]> {
  const agent = await agentStatus(ctx, instanceId);
  if (agent !== "Online") {
    return [
      {
        check: "host.ssm-agent",
        status: "CRIT",
        summary: `SSM agent is ${agent}`,
        evidence: { instanceId, pingStatus: agent },
        action: "the host cannot be checked or operated: see the instance's status checks and console output in EC2",
      },
    ];
  }
  const result = await runOnHost(ctx, {
    instanceId,
    purpose: "health check",
    script: HOST_HEALTH_SCRIPT,
    timeoutSeconds: timeoutSeconds + 45,
  });
  return [
    { check: "host.ssm-agent", status: "OK", summary: "SSM agent online", evidence: { instanceId } },
    ...hostFindings(parseHostReport(result.stdout)),
  ];
}

/** The ha tier: the group's in-service count, then the host check on every in-service node. */
async function groupCheck(ctx: Context, timeoutSeconds: number): Promise<Finding[]> {
  const group = await describeHostGroup(ctx, "health");
  const count = group.inService.length;
  const evidence = { group: group.name, inService: group.inService, desired: group.desired, min: group.min };
  const groupFinding: Finding =
    count < group.min
      ? {
          check: "host.group",
          status: "CRIT",
          summary: `${count} of ${group.desired} instances in service, below the minimum ${group.min}`,
          evidence,
          action:
            "see the group's activity history in EC2 Auto Scaling: instances fail to launch or fail health checks",
        }
      : count < group.desired
        ? {
            check: "host.group",
            status: "WARN",
            summary: `${count} of ${group.desired} instances in service`,
            evidence,
            action: "an instance is launching or being replaced; if it stays so, see the group's activity history",
          }
        : { check: "host.group", status: "OK", summary: `${count} of ${group.desired} instances in service`, evidence };
  const nodes = await Promise.all(
    group.inService.map(async (instanceId) =>
      (await hostCheck(ctx, instanceId, timeoutSeconds)).map((finding) => ({
        ...finding,
        summary: `${instanceId}: ${finding.summary}`,
        evidence: { ...finding.evidence, instanceId },
      })),
    ),
  );
  return [groupFinding, ...nodes.flat()];
}

async function readCa(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => {
    throw new UsageError(`--ca-file: cannot read ${file}; expected a PEM certificate file`);
  });
  if (!text.includes("-----BEGIN CERTIFICATE-----"))
    throw new UsageError(
      `--ca-file: ${file} holds no PEM certificate; expected a file with -----BEGIN CERTIFICATE-----`,
    );
  return text;
}

export async function health(ctx: Context, options: HealthOptions): Promise<number> {
  const findings = await collectHealth(ctx, options);
  const verdict = verdictOf(findings);
  const url = String(ctx.outputs.url);
  emit(ctx, { command: "health", url, verdict, findings }, () => renderFindings(findings, url));
  return verdict === "CRIT" ? EXIT_FAILED : EXIT_OK;
}
