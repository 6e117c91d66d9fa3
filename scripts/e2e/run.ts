// `npm run e2e:aws -- --stack NAME ...`: a sandbox end-to-end run for someone with an AWS account.
// It deploys a stack of its own from an example (the Pulumi CLI, through `openemr-ops provision`:
// `pulumi up`, SSM registration, the host's bootstrap, health), then exercises it with the ops
// tool as an operator would (health, backup, restore drill, a restore into the live database and
// `openemr-restore rollback` of that swap on the host, health again), and always destroys what
// it created, after a failed step too. Every step is timed into a JSON and a text report.
//
// It has not been run against AWS by this repository's tests: they run its orchestration against
// mocked AWS clients and a fake `pulumi` (tests/scripts/e2e-aws.test.ts). See docs/e2e-aws.md.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { parse, stringify } from "yaml";
import { $, quote, which } from "zx";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  type ObjectIdentifier,
  type ListObjectVersionsCommandOutput,
} from "@aws-sdk/client-s3";
import { DeleteDBSnapshotCommand, DescribeDBSnapshotsCommand, ModifyDBInstanceCommand } from "@aws-sdk/client-rds";
import { main as ops } from "../cli";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, OpsError } from "../lib/errors";
import { processIo, type Io } from "../lib/io";
import { contextWith, type RunSettings } from "../lib/context";
import { loadOutputs } from "../lib/stack-outputs";
import { runOnHost } from "../lib/ssm";
import { lastLine } from "../lib/printing";
import { writeReport, type E2eReport, type StepRecord } from "./report";

export interface E2eOptions {
  stack: string;
  example: "standard" | "single";
  projectDir: string;
  region?: string;
  allowedCidr: string[];
  alertEmail: string;
  /** Also delete what `retainDataOnDestroy` would keep: buckets' objects, the database, final snapshots. */
  destroyData: boolean;
  /** Leave the stack deployed (for inspection); the report says how to destroy it. */
  keep: boolean;
  reportDir: string;
  caFile?: string;
  skipCost: boolean;
}

const BIN = "/opt/openemr-aws/bin";
const ROLLBACK_LINE = /openemr-restore rollback ([0-9a-z]+)/;
const PROGRESS_LINE = /^(ok|OK|WARN|CRIT|FAILED)\s+(.+) \((\d+(?:\.\d+)?)s\)$/;
const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
]);

/** A step's failure that the report should give as one line. */
class StepFailed extends Error {}

interface StepResult {
  detail: string;
  substeps?: StepRecord["substeps"];
}

function parseOptions(argv: string[], io: Io): E2eOptions | number {
  const program = new Command("e2e:aws")
    .description(
      "deploy a sandbox stack from an example, exercise it with openemr-ops, destroy it, and report each step's time",
    )
    .requiredOption("-s, --stack <name>", "name of a NEW Pulumi stack; its Pulumi.<name>.yaml must not exist")
    .addOption(new Option("--example <tier>", "example to deploy").choices(["standard", "single"]).default("standard"))
    .requiredOption("--allowed-cidr <cidr...>", "who may reach the load balancer: your public address, e.g. 1.2.3.4/32")
    .requiredOption("--alert-email <address>", "where alarms go during the run (AWS asks it to confirm)")
    .option("--region <region>", "AWS region (default: the example's)")
    .option("--project-dir <dir>", "directory of Pulumi.yaml", process.cwd())
    .option("--report-dir <dir>", "where to write e2e-report.json and e2e-report.txt (default: out/e2e/<stack>)")
    .option("--ca-file <pem>", "CA certificate to trust for the HTTPS checks (the stack serves a self-signed one)")
    .option("--destroy-data", "also delete the data `pulumi destroy` keeps: backups, logs, database, final snapshots")
    .option("--keep", "leave the stack deployed at the end (destroy it later with `pulumi destroy`)")
    .option("--skip-cost", "do not run `npm run cost`")
    .configureOutput({ writeOut: (text) => io.out(text.trimEnd()), writeErr: (text) => io.err(text.trimEnd()) })
    .exitOverride();
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    throw error;
  }
  const raw = program.opts();
  const projectDir = resolve(raw.projectDir);
  return {
    stack: raw.stack,
    example: raw.example,
    projectDir,
    region: raw.region,
    allowedCidr: raw.allowedCidr,
    alertEmail: raw.alertEmail,
    destroyData: raw.destroyData === true,
    keep: raw.keep === true,
    reportDir: resolve(raw.reportDir ?? join(projectDir, "out", "e2e", raw.stack)),
    caFile: raw.caFile,
    skipCost: raw.skipCost === true,
  };
}

/** The stack file the run deploys: the example, made fit for a short sandbox run. */
export function sandboxConfig(exampleYaml: string, options: E2eOptions): string {
  const file = parse(exampleYaml) as { config: Record<string, unknown> };
  const config = file.config;
  // No domain: the load balancer serves a self-signed certificate, so no DNS zone is needed.
  delete config["openemr:domain"];
  delete config["openemr:hostedZoneId"];
  if (options.region) config["openemr:region"] = options.region;
  config["openemr:allowedCidrs"] = options.allowedCidr;
  config["openemr:alertEmails"] = [options.alertEmail];
  // The shortest retention the schema allows, and nothing kept on destroy unless asked.
  config["openemr:backupRetentionDays"] = 7;
  config["openemr:objectLockDays"] = 7;
  config["openemr:backupExpiryDays"] = 30;
  config["openemr:retainDataOnDestroy"] = !options.destroyData;
  config["openemr:costTags"] = { Purpose: "openemr-aws-e2e", E2eStack: options.stack };
  return (
    `# Written by \`npm run e2e:aws\` from config/examples/Pulumi.${options.example}.yaml for a sandbox run;\n` +
    "# removed when the run has destroyed the stack.\n" +
    stringify(file)
  );
}

export async function runE2e(argv: string[], settings: Partial<RunSettings> = {}): Promise<number> {
  const io = settings.io ?? processIo();
  const pollIntervalMs = settings.pollIntervalMs ?? 5000;
  const parsed = parseOptions(argv, io);
  if (typeof parsed === "number") return parsed;
  const options = parsed;

  const stackFile = join(options.projectDir, `Pulumi.${options.stack}.yaml`);
  if (existsSync(stackFile)) {
    io.err(`e2e:aws: ${stackFile} exists; the run deploys and destroys a stack of its own: pick a new --stack name`);
    return EXIT_USAGE;
  }
  const exampleFile = join(options.projectDir, "config", "examples", `Pulumi.${options.example}.yaml`);
  if (!existsSync(exampleFile)) {
    io.err(`e2e:aws: ${exampleFile} does not exist; run from the openemr-aws repository or pass --project-dir`);
    return EXIT_USAGE;
  }
  const exampleYaml = readFileSync(exampleFile, "utf8");
  const region = options.region ?? String(parse(exampleYaml).config["openemr:region"] ?? "us-east-1");

  // AWS credentials from the SDK's default chain (environment, profile, SSO, instance role ...),
  // proven by one STS call before anything is written or created.
  let account: string | undefined;
  try {
    const identity = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
    account = identity.Account;
  } catch (error) {
    const { name = "Error", message = String(error) } = error as { name?: string; message?: string };
    if (CREDENTIAL_ERRORS.has(name) || /credential/i.test(message)) {
      io.err(
        `e2e:aws: no usable AWS credentials (${name}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY ` +
          "for a sandbox account and run again; nothing was created",
      );
      return EXIT_USAGE;
    }
    io.err(`e2e:aws: STS GetCallerIdentity failed (${name}): ${message}; nothing was created`);
    return EXIT_FAILED;
  }
  if (!(await which("pulumi", { nothrow: true }))) {
    io.err("e2e:aws: the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) and log in");
    return EXIT_USAGE;
  }

  const started = Date.now();
  const steps: StepRecord[] = [];
  const outputsFile = join(options.reportDir, "outputs.json");
  let outputs: Record<string, unknown> | undefined;
  let cost: E2eReport["cost"] = null;
  let stackCreated = false;
  let fileWritten = false;
  let deployFailed = false;

  const record = async (name: string, phase: StepRecord["phase"], work: () => Promise<StepResult>) => {
    const at = Date.now();
    io.err(`e2e:aws: ${name} ...`);
    try {
      const { detail, substeps } = await work();
      steps.push({ name, phase, status: "ok", startedAt: new Date(at).toISOString(), seconds: elapsed(at), detail });
      if (substeps?.length) steps[steps.length - 1].substeps = substeps;
      io.err(`e2e:aws: ${name}: ok (${elapsed(at).toFixed(1)}s)`);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      steps.push({
        name,
        phase,
        status: "failed",
        startedAt: new Date(at).toISOString(),
        seconds: elapsed(at),
        detail: "",
        error: message.split("\n")[0],
      });
      io.err(`e2e:aws: ${name}: FAILED: ${message.split("\n")[0]}`);
      return false;
    }
  };
  const skip = (name: string, phase: StepRecord["phase"], why: string) =>
    steps.push({ name, phase, status: "skipped", startedAt: new Date().toISOString(), seconds: 0, detail: why });

  // The ops tool, in-process: its progress goes to our stderr, its --json result is returned.
  const opsJson = async (args: string[]): Promise<{ code: number; json: any; progress: string[] }> => {
    const out: string[] = [];
    const progress: string[] = [];
    const tee: Io = {
      ...io,
      out: (text) => out.push(text),
      err: (text) => {
        progress.push(text);
        io.err(text);
      },
      stdinIsTTY: false,
      ask: async () => "",
    };
    const code = await ops([...args, "--json"], { io: tee, pollIntervalMs });
    let json: any = null;
    try {
      json = JSON.parse(out.join("\n"));
    } catch {
      // No JSON: the command failed before its result; its error line is in `progress`.
    }
    return { code, json, progress };
  };
  const opsStep = async (args: string[], describe: (json: any) => string) => {
    const run = await opsJson(args);
    if (run.code !== 0)
      throw new StepFailed(
        `openemr-ops ${args[0]} exited ${run.code}: ` +
          (run.progress.filter((line) => line.startsWith("error:")).pop() ?? lastLine(run.progress.join("\n"))),
      );
    return { run, detail: describe(run.json) };
  };
  const stackArgs = () => ["--outputs", outputsFile];
  const healthArgs = () => [...(options.caFile ? ["--ca-file", options.caFile] : [])];
  const pulumi = (args: string[]) => pulumiRun(options.projectDir, args, io);

  // ---- deploy and exercise ----
  let backupId = "";
  let swapId = "";
  const deploy: [string, () => Promise<StepResult>][] = [
    [
      "stack config",
      async () => {
        writeFileSync(stackFile, sandboxConfig(exampleYaml, options));
        fileWritten = true;
        return { detail: `wrote ${stackFile} from the ${options.example} example` };
      },
    ],
    [
      "cost estimate",
      async () => {
        cost = await costEstimate(options, stackFile);
        return {
          detail: cost
            ? `$${cost.monthlyUsd.toFixed(2)} a month, $${cost.hourlyUsd.toFixed(2)} an hour`
            : "not computed (no `npm run cost`, or --skip-cost)",
        };
      },
    ],
    [
      "pulumi stack init",
      async () => {
        await pulumi(["stack", "init", options.stack]);
        stackCreated = true;
        return { detail: `stack ${options.stack} in the logged-in Pulumi backend` };
      },
    ],
    [
      "provision (pulumi up, SSM, bootstrap, health)",
      async () => {
        const { run, detail } = await opsStep(
          ["provision", "--stack", options.stack, "--project-dir", options.projectDir, "--yes", ...healthArgs()],
          (json) => `bootstrap: ${json?.bootstrap ?? "?"}; health ${json?.verdict ?? "?"}`,
        );
        outputs = await loadOutputs({ stack: options.stack, cwd: options.projectDir });
        writeOutputs(outputsFile, outputs);
        return { detail, substeps: substepsOf(run.progress) };
      },
    ],
    [
      "health",
      async () => ({ detail: (await opsStep(["health", ...stackArgs(), ...healthArgs()], verdictOf)).detail }),
    ],
    [
      "backup",
      async () => {
        const { run } = await opsStep(["backup", ...stackArgs()], () => "");
        backupId = String(run.json?.manifest?.id ?? "");
        if (!backupId) throw new StepFailed("openemr-ops backup printed no manifest id");
        return { detail: `backup ${backupId}` };
      },
    ],
    [
      "restore drill",
      async () => {
        await opsStep(["drill", ...stackArgs(), "--backup", backupId], () => "");
        return { detail: `backup ${backupId} restores and matches its manifest` };
      },
    ],
    [
      "restore into the live database",
      async () => {
        const { run } = await opsStep(["restore", ...stackArgs(), "--backup", backupId, "--yes"], () => "");
        const printed = run.progress.map((line) => ROLLBACK_LINE.exec(line)).find(Boolean);
        if (!printed)
          throw new StepFailed("openemr-restore did not print `openemr-restore rollback <swap>`; nothing to roll back");
        swapId = printed[1];
        return { detail: `backup ${backupId} swapped in as ${swapId}` };
      },
    ],
    [
      "openemr-restore rollback",
      async () => {
        // As the ops tool runs host scripts: AWS-RunShellScript through SSM, output streamed.
        const ctx = contextWith(outputs!, { json: true }, { io, pollIntervalMs });
        const result = await runOnHost(ctx, {
          instanceId: String(outputs!.hostInstanceId),
          purpose: "restore rollback",
          script: `${BIN}/openemr-restore rollback ${quote(swapId)}`,
          timeoutSeconds: 3600,
          stream: true,
        });
        if (result.exitCode !== 0)
          throw new StepFailed(
            `openemr-restore rollback ${swapId} exited ${result.exitCode}: ${lastLine(result.stderr || result.stdout)}`,
          );
        return { detail: `swap ${swapId} rolled back: the copy from before the restore is live again` };
      },
    ],
    [
      "health after the rollback",
      async () => ({ detail: (await opsStep(["health", ...stackArgs(), ...healthArgs()], verdictOf)).detail }),
    ],
  ];

  for (const [name, work] of deploy) {
    if (deployFailed) {
      skip(name, "deploy", "an earlier step failed");
      continue;
    }
    if (!(await record(name, "deploy", work))) deployFailed = true;
  }

  // ---- cleanup: runs whatever happened above ----
  const leftInAccount: string[] = [];
  if (options.keep && stackCreated) {
    skip("pulumi destroy", "cleanup", "--keep");
    leftInAccount.push(
      `the whole stack ${options.stack}: destroy it with \`pulumi destroy --stack ${options.stack}\` ` +
        `(see docs/e2e-aws.md), then \`pulumi stack rm ${options.stack}\``,
    );
  } else if (stackCreated) {
    if (!outputs) outputs = await loadOutputs({ stack: options.stack, cwd: options.projectDir }).catch(() => undefined);
    const ctx = contextWith(outputs ?? {}, { region, json: true }, { io, pollIntervalMs });
    if (options.destroyData) {
      await record("release retained data", "cleanup", async () => {
        const released: string[] = [];
        const dbId = typeof outputs?.dbInstanceIdentifier === "string" ? outputs.dbInstanceIdentifier : "";
        if (dbId) {
          await ctx.aws.rds.send(
            new ModifyDBInstanceCommand({
              DBInstanceIdentifier: dbId,
              DeletionProtection: false,
              ApplyImmediately: true,
            }),
          );
          released.push(`deletion protection off on ${dbId}`);
        }
        for (const bucket of await stackBuckets(options.projectDir, options.stack, io)) {
          const count = await emptyBucket(ctx.aws.s3, bucket);
          released.push(`${count} object versions deleted from ${bucket}`);
        }
        return { detail: released.join("; ") || "nothing to release" };
      });
    }
    const destroyed = await record("pulumi destroy", "cleanup", async () => {
      await pulumi(["destroy", "--yes", "--skip-preview", "--stack", options.stack]);
      return { detail: `stack ${options.stack}'s resources deleted` };
    });
    if (options.destroyData && destroyed) {
      await record("delete final snapshots", "cleanup", async () => {
        const deleted = await deleteFinalSnapshots(ctx, outputs, started);
        return { detail: deleted.length ? `deleted ${deleted.join(", ")}` : "none" };
      });
    }
    if (destroyed) {
      await record("pulumi stack rm", "cleanup", async () => {
        await pulumi(["stack", "rm", "--yes", "--stack", options.stack]);
        return { detail: `stack ${options.stack} removed from the backend` };
      });
    } else {
      skip("pulumi stack rm", "cleanup", "the destroy failed: the stack keeps its state");
      leftInAccount.push(
        `what \`pulumi destroy --stack ${options.stack}\` could not delete: ` +
          "read its error above, fix it, run the destroy again, then `pulumi stack rm`",
      );
    }
    leftInAccount.push(...retainedByDesign(options, outputs));
  } else {
    skip("pulumi destroy", "cleanup", "no stack was created");
  }
  const cleanupOk = steps.filter((step) => step.phase === "cleanup").every((step) => step.status !== "failed");
  if (fileWritten && cleanupOk && !options.keep) rmSync(stackFile, { force: true });

  const report: E2eReport = {
    format: 1,
    stack: options.stack,
    example: options.example,
    region,
    account,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: elapsed(started),
    ok: !deployFailed && cleanupOk,
    destroyData: options.destroyData,
    cost,
    steps,
    leftInAccount,
  };
  const written = writeReport(options.reportDir, report);
  io.out(readFileSync(written.text, "utf8").trimEnd());
  io.err(`e2e:aws: report in ${written.json} and ${written.text}`);
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

function elapsed(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

function verdictOf(json: any): string {
  const findings: { status: string }[] = json?.findings ?? [];
  const count = (status: string) => findings.filter((finding) => finding.status === status).length;
  return `verdict ${json?.verdict ?? "?"}: ${count("OK")} OK, ${count("WARN")} WARN, ${count("CRIT")} CRIT`;
}

/** The ops tool's timed progress lines (`ok  pulumi up (812.3s)`) as sub-steps. */
function substepsOf(progress: string[]): StepRecord["substeps"] {
  return progress
    .map((line) => PROGRESS_LINE.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ name: match[2], status: match[1], seconds: Number(match[3]) }));
}

function writeOutputs(file: string, outputs: Record<string, unknown>): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(outputs), { mode: 0o600 });
}

/** Runs the Pulumi CLI in the project, its output on stderr; throws with its exit code. */
async function pulumiRun(cwd: string, args: string[], io: Io): Promise<void> {
  const result = await $({ cwd, nothrow: true, quiet: true })`pulumi ${args}`;
  for (const line of `${result.stdout}${result.stderr}`.split("\n").filter((text) => text.trim()))
    io.err(`    ${line}`);
  if (result.exitCode !== 0)
    throw new OpsError(
      `pulumi ${args.slice(0, 2).join(" ")} failed (exit ${result.exitCode}): ${lastLine(result.stderr)}`,
    );
}

/** `npm run cost` on the stack file, when the project has it. */
async function costEstimate(options: E2eOptions, stackFile: string): Promise<E2eReport["cost"]> {
  if (options.skipCost) return null;
  const manifest = JSON.parse(readFileSync(join(options.projectDir, "package.json"), "utf8"));
  if (!manifest.scripts?.cost) return null;
  const out = join(options.reportDir, "cost.json");
  mkdirSync(dirname(out), { recursive: true });
  const result = await $({ cwd: options.projectDir, nothrow: true, quiet: true })`npm run --silent cost -- ${[
    stackFile,
    "--json",
    out,
  ]}`;
  if (result.exitCode !== 0 || !existsSync(out))
    throw new StepFailed(`npm run cost exited ${result.exitCode}: ${lastLine(result.stderr || result.stdout)}`);
  const monthlyUsd = Number(JSON.parse(readFileSync(out, "utf8")).stacks?.[0]?.monthlyUsd);
  if (!Number.isFinite(monthlyUsd)) throw new StepFailed(`${out} has no stacks[0].monthlyUsd`);
  return {
    monthlyUsd,
    hourlyUsd: Math.round((monthlyUsd / 730) * 100) / 100,
    source: "npm run cost: offline estimate from the repository's price files, 730 hours a month",
  };
}

/** The S3 buckets in the stack's state (`pulumi stack export`). */
async function stackBuckets(cwd: string, stack: string, io: Io): Promise<string[]> {
  const result = await $({ cwd, nothrow: true, quiet: true })`pulumi stack export --stack ${stack}`;
  if (result.exitCode !== 0) {
    io.err(`    pulumi stack export failed (exit ${result.exitCode}): ${lastLine(result.stderr)}`);
    throw new StepFailed("cannot list the stack's buckets: `pulumi stack export` failed");
  }
  const resources: { type: string; outputs?: { bucket?: string } }[] =
    JSON.parse(result.stdout).deployment?.resources ?? [];
  return resources
    .filter((resource) => /^aws:s3\/bucket(V2)?:Bucket(V2)?$/.test(resource.type) && resource.outputs?.bucket)
    .map((resource) => resource.outputs!.bucket!);
}

/**
 * Deletes every object version and delete marker, bypassing governance-mode Object Lock (the
 * backup bucket's mode; the caller needs s3:BypassGovernanceRetention). Returns how many.
 */
async function emptyBucket(s3: ReturnType<typeof contextWith>["aws"]["s3"], bucket: string): Promise<number> {
  let deleted = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page: ListObjectVersionsCommandOutput = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
    );
    const objects: ObjectIdentifier[] = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((item) => ({
      Key: item.Key!,
      VersionId: item.VersionId,
    }));
    if (objects.length) {
      const answer = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          BypassGovernanceRetention: true,
          Delete: { Objects: objects, Quiet: true },
        }),
      );
      const [first] = answer.Errors ?? [];
      if (first)
        throw new StepFailed(
          `${bucket}: ${answer.Errors!.length} versions not deleted (${first.Code}: ${first.Message})`,
        );
      deleted += objects.length;
    }
    if (!page.IsTruncated) return deleted;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** The final snapshot RDS took when the destroy deleted the database (only ones made during this run). */
async function deleteFinalSnapshots(
  ctx: ReturnType<typeof contextWith>,
  outputs: Record<string, unknown> | undefined,
  since: number,
): Promise<string[]> {
  const dbId = typeof outputs?.dbInstanceIdentifier === "string" ? outputs.dbInstanceIdentifier : "";
  if (!dbId) return [];
  const answer = await ctx.aws.rds.send(
    new DescribeDBSnapshotsCommand({ DBInstanceIdentifier: dbId, SnapshotType: "manual" }),
  );
  const ours = (answer.DBSnapshots ?? []).filter(
    (snapshot) => snapshot.DBSnapshotIdentifier && (snapshot.SnapshotCreateTime?.getTime() ?? 0) >= since,
  );
  for (const snapshot of ours)
    await ctx.aws.rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: snapshot.DBSnapshotIdentifier }));
  return ours.map((snapshot) => snapshot.DBSnapshotIdentifier!);
}

/** What stays after the cleanup by the stack's design, each with how to remove it. */
function retainedByDesign(options: E2eOptions, outputs: Record<string, unknown> | undefined): string[] {
  const dbId = typeof outputs?.dbInstanceIdentifier === "string" ? outputs.dbInstanceIdentifier : "";
  const left = [
    "EBS encryption by default stays on in the region: an account-wide guardrail the stack never turns off",
    "AWS Backup recovery points (snapshots) in the stack's vault, if the daily plan ran: delete them in the " +
      "AWS Backup console (their KMS key must still exist)",
  ];
  if (options.destroyData)
    left.push("the stack's KMS keys are scheduled for deletion (AWS waits 7 to 30 days; cancel in KMS if needed)");
  else
    left.push(
      "what retainDataOnDestroy keeps (rerun with --destroy-data to delete it): the KMS keys, the backup, " +
        "access-log and trail buckets, the log groups" +
        (dbId ? `, RDS ${dbId} (deletion protection on, still running and billed)` : "") +
        "; see 'What pulumi destroy keeps' in docs/deploying.md",
    );
  return left;
}
