// `openemr-ops provision`: preflight (AWS identity and region, the stack's config, the
// Pulumi CLI, the quotas that commonly block a first deployment), the front door it is about to
// open, `pulumi up` (printing the DNS record ACM waits for when the clinic's DNS is not in Route 53,
// and waiting for the issue), then the host: wait for it to register with SSM, follow its
// bootstrap log, and finish with `health`. On the ha tier the hosts are the Auto Scaling group's
// instances: wait for its minimum in service, then do the same for each of them.
import { existsSync } from "node:fs";
import { DescribeCertificateCommand, ListCertificatesCommand, type CertificateStatus } from "@aws-sdk/client-acm";
import { DescribeAddressesCommand, DescribeInstanceTypesCommand, DescribeInstancesCommand } from "@aws-sdk/client-ec2";
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { $, which } from "zx";
import { awsCall, EXIT_FAILED, EXIT_OK, OpsError, UsageError } from "../lib/errors";
import { renderFindings, runChecks, verdictOf, type Check, type Finding } from "../lib/checks";
import { contextWith, sleep, type Context, type RunSettings, type StackOptions } from "../lib/context";
import { loadOutputs, requireOutputs } from "../lib/stack-outputs";
import { agentStatus, hostScript, runOnHost } from "../lib/ssm";
import { isHa, waitForGroupMinimum } from "../lib/host-group";
import { runPulumi } from "../lib/pulumi";
import { emit, lastLine } from "../lib/printing";
import { collectHealth, type HealthOptions } from "./health";
import { MANUAL_VALIDATION_WAIT_MINUTES } from "../../infra/components/edge";
import { formatFrontDoor, frontDoorNotices, frontDoorOf, type FrontDoor } from "../../infra/front-door";
import { defaultNatInstanceType } from "../../infra/components/nat-instance";
import type { Tier } from "../../infra/config";

export interface ProvisionOptions extends HealthOptions {
  /** Deploy without showing the preview and asking first. */
  yes?: boolean;
  /** Directory holding Pulumi.yaml and Pulumi.<stack>.yaml. */
  cwd: string;
}

/** EC2-VPC Elastic IPs and running On-Demand standard-family vCPUs. */
const EIP_QUOTA = "L-0263D0A3";
const VCPU_QUOTA = "L-1216C47A";
const STANDARD_FAMILIES = /^[acdhimrtz]/;
const REGISTER_TIMEOUT_MS = 15 * 60_000;
const BOOTSTRAP_TIMEOUT_MS = 60 * 60_000;
const BOOTSTRAP_END = /openemr-bootstrap: (OK \(|FAILED at )/;
/** ha: longest wait, after `pulumi up`, for the group's minimum of instances in service. */
const GROUP_TIMEOUT_MS = 30 * 60_000;

interface StackConfigSummary {
  region: string;
  tier: Tier;
  azCount: number;
  instanceType: string;
  haMinSize: number;
  natGateway: "managed" | "instance";
  domain?: string;
  frontDoor: FrontDoor;
}

async function readStackConfig(cwd: string, stack: string): Promise<StackConfigSummary> {
  const file = `${cwd}/Pulumi.${stack}.yaml`;
  if (!existsSync(file))
    throw new OpsError(
      `config: ${file} does not exist; create it from config/examples/ ` +
        `(or \`pulumi stack init ${stack}\` and \`pulumi config set\`)`,
    );
  // The Pulumi program's own validation, so preflight and `pulumi up` agree on what is valid.
  const { loadStackFile, rawConfigFrom, validateConfig } = await import("../../infra/config");
  const { raw, problems: namespaceProblems } = rawConfigFrom(loadStackFile(file));
  const { config, problems } = validateConfig(raw, stack);
  const all = [...namespaceProblems, ...problems];
  if (!config || all.length) throw new OpsError(`config: ${file} is invalid: ${all.join("; ")}`);
  return {
    region: config.region,
    tier: config.tier,
    azCount: config.azCount,
    instanceType: config.instanceType,
    haMinSize: config.haMinSize,
    natGateway: config.natGateway,
    domain: config.domain,
    frontDoor: frontDoorOf(config),
  };
}

async function quota(ctx: Context, code: string): Promise<number> {
  const answer = await awsCall("Service Quotas GetServiceQuota", () =>
    ctx.aws.quotas.send(new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: code })),
  );
  return answer.Quota?.Value ?? 0;
}

async function vcpusOf(ctx: Context, instanceTypes: string[]): Promise<Map<string, number>> {
  const unique = [...new Set(instanceTypes)];
  if (unique.length === 0) return new Map();
  const answer = await awsCall("EC2 DescribeInstanceTypes", () =>
    ctx.aws.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: unique as never })),
  );
  return new Map(
    (answer.InstanceTypes ?? []).map((type) => [String(type.InstanceType), type.VCpuInfo?.DefaultVCpus ?? 0]),
  );
}

function preflightChecks(ctx: Context, options: ProvisionOptions, stack: string, config: StackConfigSummary): Check[] {
  const timeoutMs = options.timeout * 1000;
  return [
    {
      name: "preflight.identity",
      timeoutMs,
      run: async () => {
        const identity = await awsCall("STS GetCallerIdentity", () =>
          ctx.aws.sts.send(new GetCallerIdentityCommand({})),
        );
        return [
          {
            check: "preflight.identity",
            status: "OK",
            summary: `AWS account ${identity.Account} as ${identity.Arn}, region ${config.region}`,
            evidence: { account: identity.Account, arn: identity.Arn, region: config.region },
          },
        ];
      },
    },
    {
      name: "preflight.pulumi",
      timeoutMs,
      run: async () => {
        const result = await $({ quiet: true, nothrow: true, cwd: options.cwd })`pulumi version`;
        const version = result.stdout.trim();
        if (result.exitCode !== 0)
          return [
            {
              check: "preflight.pulumi",
              status: "CRIT",
              summary: `\`pulumi version\` failed (exit ${result.exitCode})`,
              evidence: { stderr: lastLine(result.stderr) },
              action: "reinstall the Pulumi CLI and run `pulumi login`",
            },
          ];
        return [
          {
            check: "preflight.pulumi",
            status: "OK",
            summary: `Pulumi CLI ${version}, stack ${stack}`,
            evidence: { version, stack },
          },
        ];
      },
    },
    {
      name: "preflight.eip-quota",
      timeoutMs,
      run: async () => {
        const [limit, addresses] = await Promise.all([
          quota(ctx, EIP_QUOTA),
          awsCall("EC2 DescribeAddresses", () => ctx.aws.ec2.send(new DescribeAddressesCommand({}))),
        ]);
        const used = addresses.Addresses?.length ?? 0;
        // One NAT gateway, hence one Elastic IP, per availability zone.
        const needed = config.azCount;
        const evidence = { quota: limit, inUse: used, needed };
        return [
          used + needed <= limit
            ? {
                check: "preflight.eip-quota",
                status: "OK",
                summary: `${limit - used} Elastic IPs free, ${needed} needed`,
                evidence,
              }
            : {
                check: "preflight.eip-quota",
                status: "CRIT",
                summary: `${limit - used} Elastic IPs free, ${needed} needed`,
                evidence,
                action:
                  "release unused Elastic IPs or request more " +
                  `(Service Quotas: EC2 ${EIP_QUOTA}) in ${config.region}`,
              },
        ];
      },
    },
    {
      name: "preflight.vcpu-quota",
      timeoutMs,
      run: async () => {
        const [limit, running] = await Promise.all([
          quota(ctx, VCPU_QUOTA),
          awsCall("EC2 DescribeInstances", () =>
            ctx.aws.ec2.send(
              new DescribeInstancesCommand({
                Filters: [{ Name: "instance-state-name", Values: ["pending", "running"] }],
              }),
            ),
          ),
        ]);
        const runningTypes = (running.Reservations ?? [])
          .flatMap((reservation) => reservation.Instances ?? [])
          .map((instance) => String(instance.InstanceType))
          .filter((type) => STANDARD_FAMILIES.test(type));
        // The stack's own instances: the OpenEMR hosts (on ha, the group's minimum) and a NAT instance.
        const launching = [
          ...Array<string>(config.tier === "ha" ? config.haMinSize : 1).fill(config.instanceType),
          ...(config.natGateway === "instance" ? [defaultNatInstanceType] : []),
        ];
        const vcpus = await vcpusOf(ctx, [...runningTypes, ...launching]);
        const used = runningTypes.reduce((sum, type) => sum + (vcpus.get(type) ?? 0), 0);
        const unknown = [...new Set(launching.filter((type) => !vcpus.has(type)))];
        if (unknown.length > 0)
          return [
            {
              check: "preflight.vcpu-quota",
              status: "WARN",
              summary: `EC2 does not describe ${unknown.join(", ")} in ${config.region}: its vCPUs are unknown`,
              evidence: { quota: limit, inUse: used, unknownTypes: unknown },
              action: "check that the instance type exists in the region (`aws ec2 describe-instance-types`)",
            },
          ];
        const needed = launching.reduce((sum, type) => sum + (vcpus.get(type) ?? 0), 0);
        const evidence = { quota: limit, inUse: used, needed, instanceType: config.instanceType };
        return [
          used + needed <= limit
            ? {
                check: "preflight.vcpu-quota",
                status: "OK",
                summary: `${limit - used} standard vCPUs free, ${needed} needed`,
                evidence,
              }
            : {
                check: "preflight.vcpu-quota",
                status: "CRIT",
                summary: `${limit - used} standard vCPUs free, ${needed} needed for ${config.instanceType}`,
                evidence,
                action: `request more (Service Quotas: EC2 ${VCPU_QUOTA}) or choose a smaller \`instanceType\``,
              },
        ];
      },
    },
  ];
}

async function waitForAgent(ctx: Context, instanceId: string): Promise<void> {
  const deadline = Date.now() + REGISTER_TIMEOUT_MS;
  for (;;) {
    const status = await agentStatus(ctx, instanceId);
    if (status === "Online") return;
    if (Date.now() > deadline)
      throw new OpsError(
        `host ${instanceId} did not register with SSM within ${REGISTER_TIMEOUT_MS / 60_000} minutes ` +
          `(status ${status}); read its console output in EC2`,
      );
    await sleep(ctx.pollIntervalMs);
  }
}

/** Follows the bootstrap log until its last line says OK or FAILED; returns that line. */
async function followBootstrap(ctx: Context, instanceId: string): Promise<string> {
  const deadline = Date.now() + BOOTSTRAP_TIMEOUT_MS;
  let nextLine = 1;
  for (;;) {
    const result = await runOnHost(ctx, {
      instanceId,
      purpose: "reading the bootstrap log",
      script: hostScript("bootstrap-log", { FROM_LINE: String(nextLine) }),
      timeoutSeconds: 60,
    });
    const lines = result.stdout.split("\n").filter((line, index, all) => line !== "" || index < all.length - 1);
    for (const line of lines) {
      ctx.progress.line(line);
      if (BOOTSTRAP_END.test(line)) return line;
    }
    nextLine += lines.length;
    if (Date.now() > deadline)
      throw new OpsError(
        `the bootstrap did not finish within ${BOOTSTRAP_TIMEOUT_MS / 60_000} minutes; ` +
          "read /var/log/openemr-aws/bootstrap.log on the host",
      );
    await sleep(ctx.pollIntervalMs);
  }
}

/** One host and the last line of its bootstrap log. */
interface NodeBootstrap {
  instanceId: string;
  bootstrap: string;
}

const bootstrapOk = (node: NodeBootstrap) => node.bootstrap.includes("openemr-bootstrap: OK");

/**
 * The hosts the deployment made: the stack's host, or on the ha tier the group's in-service
 * instances once it has its minimum. Follows each one's bootstrap in turn (an ha group's run at
 * once: the first installs, the others join), stopping at the first that does not end OK.
 */
async function followBootstraps(ctx: Context): Promise<NodeBootstrap[]> {
  const instanceIds = isHa(ctx)
    ? (
        await ctx.progress.step(
          `waiting for Auto Scaling group ${String(ctx.outputs.hostGroupName)} to have its minimum in service`,
          () => waitForGroupMinimum(ctx, "provision", GROUP_TIMEOUT_MS),
        )
      ).inService
    : [requireOutputs(ctx.outputs, "provision", ["hostInstanceId"]).hostInstanceId];
  const nodes: NodeBootstrap[] = [];
  for (const instanceId of instanceIds) {
    await ctx.progress.step(`waiting for ${instanceId} to register with SSM`, () => waitForAgent(ctx, instanceId));
    const bootstrap = await ctx.progress.step(`following the bootstrap of ${instanceId}`, () =>
      followBootstrap(ctx, instanceId),
    );
    nodes.push({ instanceId, bootstrap });
    if (!bootstrapOk(nodes[nodes.length - 1])) break;
  }
  return nodes;
}

/** The validation record ACM asks for, as a DNS provider's form wants it. */
interface ValidationRecord {
  name: string;
  type: string;
  value: string;
}

/** What became of the certificate `pulumi up` requested and waits for. */
interface CertificateWatch {
  status: CertificateStatus | "NOT_FOUND" | "TIMED_OUT";
  arn?: string;
  records: ValidationRecord[];
}

const CERTIFICATE_WAIT_MS = MANUAL_VALIDATION_WAIT_MINUTES * 60_000;
const CERTIFICATE_ENDS: string[] = ["ISSUED", "FAILED", "VALIDATION_TIMED_OUT", "REVOKED", "EXPIRED"];

/** The newest ACM certificate for `domain` in the region, if there is one. */
async function newestCertificateArn(ctx: Context, domain: string): Promise<string | undefined> {
  let newest: { arn: string; created: number } | undefined;
  let nextToken: string | undefined;
  do {
    const page = await awsCall("ACM ListCertificates", () =>
      ctx.aws.acm.send(new ListCertificatesCommand({ NextToken: nextToken })),
    );
    for (const summary of page.CertificateSummaryList ?? []) {
      const created = summary.CreatedAt?.getTime() ?? 0;
      if (summary.DomainName === domain && summary.CertificateArn && (!newest || created > newest.created))
        newest = { arn: summary.CertificateArn, created };
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return newest?.arn;
}

/**
 * While `pulumi up` waits for ACM to issue the certificate of `domain`, finds it, prints the DNS
 * record to add at the clinic's DNS provider once, and polls until ACM issues it (or refuses, or
 * CERTIFICATE_WAIT_MS pass, the bound `pulumi up` itself waits), or until `stopped()` says the
 * deployment ended first.
 */
async function watchCertificate(
  ctx: Context,
  domain: string,
  stopped: () => boolean,
  announce: (records: ValidationRecord[]) => void,
): Promise<CertificateWatch> {
  const deadline = Date.now() + CERTIFICATE_WAIT_MS;
  let watch: CertificateWatch = { status: "NOT_FOUND", records: [] };
  for (;;) {
    const arn = await newestCertificateArn(ctx, domain);
    if (arn) {
      const { Certificate: certificate } = await awsCall("ACM DescribeCertificate", () =>
        ctx.aws.acm.send(new DescribeCertificateCommand({ CertificateArn: arn })),
      );
      const records = (certificate?.DomainValidationOptions ?? []).flatMap((option) =>
        option.ResourceRecord
          ? [
              {
                name: option.ResourceRecord.Name!,
                type: option.ResourceRecord.Type!,
                value: option.ResourceRecord.Value!,
              },
            ]
          : [],
      );
      if (records.length && !watch.records.length) announce(records);
      watch = { status: certificate?.Status ?? "PENDING_VALIDATION", arn, records };
      if (CERTIFICATE_ENDS.includes(watch.status)) return watch;
    }
    if (stopped()) return watch;
    if (Date.now() > deadline) return { ...watch, status: "TIMED_OUT" };
    await sleep(ctx.pollIntervalMs);
  }
}

function recordLines(records: ValidationRecord[]): string[] {
  return records.map((record) => `${record.name}  ${record.type}  ${record.value}`);
}

/** `pulumi up`, and for a certificate the clinic validates at its own DNS, the watch beside it. */
async function deploy(
  ctx: Context,
  options: ProvisionOptions,
  stack: string,
  config: StackConfigSummary,
): Promise<CertificateWatch | undefined> {
  const up = () =>
    ctx.progress.step("pulumi up", () =>
      runPulumi(ctx, options.cwd, ["up", "--yes", "--skip-preview", "--stack", stack]),
    );
  if (config.frontDoor.certificateKind !== "acm-dns-manual" || !config.domain) {
    await up();
    return undefined;
  }
  let finished = false;
  const announce = (records: ValidationRecord[]) => {
    const heading =
      `ACM waits for this DNS record at your DNS provider for ${config.domain} ` +
      `(up to ${MANUAL_VALIDATION_WAIT_MINUTES} minutes); add it now:`;
    if (ctx.json) [heading, ...recordLines(records)].forEach((line) => ctx.progress.line(line));
    else ctx.io.out([heading, ...recordLines(records).map((line) => `  ${line}`)].join("\n"));
  };
  const [deployed, watch] = await Promise.allSettled([
    up().finally(() => {
      finished = true;
    }),
    watchCertificate(ctx, config.domain, () => finished, announce),
  ]);
  if (watch.status === "rejected") throw watch.reason;
  if (deployed.status === "rejected") {
    if (watch.value.status === "ISSUED") throw deployed.reason;
    throw new CertificateNotIssued(watch.value, config.domain, deployed.reason);
  }
  return watch.value;
}

/** `pulumi up` stopped while ACM had not issued the certificate: what to add, and what to run. */
class CertificateNotIssued extends Error {
  constructor(
    readonly watch: CertificateWatch,
    readonly domain: string,
    readonly cause: unknown,
  ) {
    super(
      watch.records.length
        ? `ACM did not issue the certificate for ${domain} (status ${watch.status}): add the record ` +
            `${recordLines(watch.records).join("; ")} at your DNS provider, wait for it to resolve, ` +
            "then run provision again"
        : `ACM did not issue the certificate for ${domain} (status ${watch.status}); ` +
            "read the pulumi up output above, then run provision again",
    );
  }
}

export async function provision(
  stackOptions: StackOptions,
  options: ProvisionOptions,
  settings: RunSettings,
): Promise<number> {
  if (!stackOptions.stack)
    throw new UsageError("--stack: provision needs the stack to deploy, e.g. --stack clinic-prod");
  const stack = stackOptions.stack;
  if (!(await which("pulumi", { nothrow: true })))
    throw new OpsError(
      "the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) and log in, " +
        "then run provision again",
    );
  const config = await readStackConfig(options.cwd, stack);
  const ctx = contextWith({ region: stackOptions.region ?? config.region }, stackOptions, settings);

  const preflight = await runChecks("preflight", preflightChecks(ctx, options, stack, config), ctx.progress);
  if (verdictOf(preflight) === "CRIT") {
    emit(
      ctx,
      { command: "provision", ok: false, stage: "preflight", preflight },
      () => `${renderFindings(preflight, `stack ${stack}`)}\nNothing was deployed.`,
    );
    return EXIT_FAILED;
  }
  if (!ctx.json) ctx.io.out(renderFindings(preflight, `preflight of stack ${stack}`));
  // Said before anything is deployed, so a trial's self-signed certificate or an open door is a choice.
  const frontDoor = { ...config.frontDoor, notices: frontDoorNotices(config.frontDoor) };
  if (!ctx.json) ctx.io.out(formatFrontDoor(config.frontDoor));

  if (!options.yes) {
    await ctx.progress.step("pulumi preview", () =>
      runPulumi(ctx, options.cwd, ["preview", "--stack", stack, "--diff"]),
    );
    if (!ctx.io.stdinIsTTY) throw new UsageError("provision: confirm the deployment on a terminal, or pass --yes");
    const answer = (
      await ctx.io.ask(`Deploy these changes to stack ${stack}? Type the stack name to continue: `)
    ).trim();
    if (answer !== stack) throw new OpsError(`confirmation "${answer}" does not match ${stack}; nothing was deployed`);
  }
  let certificate: CertificateWatch | undefined;
  try {
    certificate = await deploy(ctx, options, stack, config);
  } catch (error) {
    if (!(error instanceof CertificateNotIssued)) throw error;
    emit(
      ctx,
      { command: "provision", ok: false, stage: "certificate", preflight, frontDoor, certificate: error.watch },
      () => `Verdict: FAILED: ${error.message}`,
    );
    return EXIT_FAILED;
  }

  const outputs = await loadOutputs({ stack, cwd: options.cwd });
  const deployed = contextWith(outputs, stackOptions, settings);
  const document =
    typeof outputs.bootstrapDocumentName === "string"
      ? outputs.bootstrapDocumentName
      : "named in the stack output bootstrapDocumentName";
  const nodes = await followBootstraps(deployed);
  // The JSON keeps one host's last line as `bootstrap`, and lists an ha group's as `nodes`.
  const bootstrap = isHa(deployed) ? { nodes } : { bootstrap: nodes[0].bootstrap };
  const failed = nodes.find((node) => !bootstrapOk(node));
  if (failed) {
    const readLog = isHa(deployed)
      ? `Read its whole log with \`openemr-ops logs --stack ${stack} --instance ${failed.instanceId} ` +
        "--log openemr-bootstrap --since 2h`; " +
        `fix, then re-run it on that instance with the SSM document ${document}, ` +
        "or terminate the instance and let the group launch a new one."
      : "Read the whole log with `openemr-ops logs --log openemr-bootstrap --since 2h`; " +
        `fix, then re-run it with the SSM document ${document}.`;
    emit(
      deployed,
      { command: "provision", ok: false, stage: "bootstrap", preflight, frontDoor, certificate, ...bootstrap },
      () => `Verdict: FAILED: ${isHa(deployed) ? `${failed.instanceId}: ` : ""}${failed.bootstrap}\n${readLog}`,
    );
    return EXIT_FAILED;
  }
  const findings: Finding[] = await collectHealth(deployed, options);
  const verdict = verdictOf(findings);
  emit(
    deployed,
    {
      command: "provision",
      ok: verdict !== "CRIT",
      stage: "health",
      preflight,
      frontDoor,
      certificate,
      ...bootstrap,
      verdict,
      findings,
    },
    () => renderFindings(findings, String(outputs.url)),
  );
  return verdict === "CRIT" ? EXIT_FAILED : EXIT_OK;
}
