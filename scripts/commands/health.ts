// `openemr-ops health`: every check at once, each under its own timeout, then one table and
// one verdict. Only CRIT fails the command.
import { readFile } from "node:fs/promises";
import { EXIT_FAILED, EXIT_OK, UsageError } from "../lib/errors";
import { renderFindings, runChecks, verdictOf, type Check, type Finding } from "../lib/checks";
import type { Context } from "../lib/context";
import { emit } from "../lib/printing";
import { requireOutputs } from "../lib/stack-outputs";
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

const REQUIRED = ["url", "hostInstanceId", "alarmTopicArn", "backupBucket", "backupPrefix", "tier"] as const;

/** Runs every check and returns the findings; `upgrade` and `provision` use it as their gate. */
export async function collectHealth(ctx: Context, options: HealthOptions): Promise<Finding[]> {
  const outputs = requireOutputs(ctx.outputs, "health", REQUIRED);
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
    { name: "host", timeoutMs: timeoutMs + 60_000, run: () => hostCheck(ctx, outputs.hostInstanceId, options.timeout) },
    { name: "bucket", timeoutMs, run: () => bucketFindings(ctx, outputs.backupBucket, outputs.backupPrefix) },
  ];
  if (outputs.tier === "standard") {
    const { dbInstanceIdentifier } = requireOutputs(ctx.outputs, "health on the standard tier", [
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
