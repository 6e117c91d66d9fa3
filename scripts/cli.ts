// `openemr-ops`: the operator's command line. Parses arguments, runs one command, and turns
// the outcome into an exit code: 0 ok, 1 failed, 2 usage error. Errors are one line.
import { Argument, Command, CommanderError, Option } from "commander";
import { EXIT_FAILED, EXIT_USAGE, OpsError, UsageError } from "./lib/errors";
import { processIo } from "./lib/io";
import { stackContext, type RunSettings, type StackOptions } from "./lib/context";
import {
  backupId,
  databaseName,
  duration,
  instanceId,
  pastUtcTime,
  positiveInteger,
  sha256,
  swapId,
  version,
} from "./lib/parse";
import { health } from "./commands/health";
import { backup, backups, drill, restore, type RestoreOptions } from "./commands/backups";
import { restoreStatus, settleSwap } from "./commands/restore-swaps";
import { adminPassword, rotateAdminPassword } from "./commands/admin-password";
import { rotateDbPassword } from "./commands/rotate-db-password";
import { upgrade } from "./commands/upgrade";
import { logs } from "./commands/logs";
import { hostLogGroupNames } from "../infra/host-log-groups";
import { provision } from "./commands/provision";
import { prices } from "./commands/prices";

/** --stack, --outputs, --region and --json, on every command. */
function withStackOptions(command: Command): Command {
  return command
    .option("-s, --stack <name>", "Pulumi stack whose outputs to use (read with the Pulumi CLI)")
    .option("-o, --outputs <file>", "JSON of `pulumi stack output --json`, for machines without the Pulumi CLI")
    .option("--region <region>", "AWS region (default: the stack's `region` output)")
    .option("--json", "print one JSON document (shapes in docs/ops-json.md) instead of a table");
}

function withHealthOptions(command: Command): Command {
  return command
    .option(
      "--ca-file <pem>",
      "extra CA certificate to trust for the HTTPS checks (a stack without a domain serves a self-signed one)",
    )
    .addOption(new Option("--timeout <seconds>", "seconds each check may take").argParser(positiveInteger).default(20));
}

export function buildProgram(settings: RunSettings, setExitCode: (code: number) => void): Command {
  const program = new Command("openemr-ops")
    .description("Operate a deployed openemr-aws stack: provision, health, backups, restores, drills, upgrades, logs.")
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (text) => settings.io.out(text.trimEnd()),
      writeErr: (text) => settings.io.err(text.trimEnd()),
    })
    .exitOverride()
    .addHelpText(
      "after",
      `
Stack outputs come from --stack (with the Pulumi CLI) or --outputs FILE.
Exit codes: 0 ok, 1 failed (health: a CRIT finding), 2 usage error.

Examples:
  openemr-ops health --stack clinic-prod
  openemr-ops backups --outputs outputs.json --json
  openemr-ops restore --stack clinic-prod --backup latest --new-database openemr_check
  openemr-ops upgrade --stack clinic-prod --to 8.3.1`,
    );

  // Each action gets its command's options (the stack ones included) and returns an exit code.
  const action =
    <T extends StackOptions>(run: (options: T) => Promise<number>) =>
    async (options: T) =>
      setExitCode(await run(options));
  const inStack = <T extends StackOptions>(
    run: (ctx: Awaited<ReturnType<typeof stackContext>>, options: T) => Promise<number>,
  ) => action<T>(async (options) => run(await stackContext(options, settings), options));

  withHealthOptions(withStackOptions(program.command("health")))
    .description(
      "check the stack now: HTTPS and TLS, OpenEMR readiness, alarms, the host (through SSM), RDS and backups; " +
        "exit 1 on any CRIT",
    )
    .action(inStack((ctx, options: StackOptions & { caFile?: string; timeout: number }) => health(ctx, options)));

  withStackOptions(program.command("backup"))
    .description("take a backup now on the host (openemr-backup) and read its manifest back from the bucket")
    .action(inStack((ctx) => backup(ctx)));

  withStackOptions(program.command("backups"))
    .description("list backups in the bucket, newest first, with age, size and whether they match their manifest")
    .addOption(new Option("--limit <count>", "how many backups to show").argParser(positiveInteger).default(20))
    .action(inStack((ctx, options: StackOptions & { limit: number }) => backups(ctx, options)));

  withStackOptions(program.command("restore"))
    .description(
      "restore a backup into the live database (asks for the backup id typed back, or --yes) or into a new database; " +
        "--to-time: to a point in time (single: on the host from the shipped binary logs; " +
        "standard: RDS point-in-time restore to a new instance)",
    )
    .addOption(new Option("--backup <id>", 'backup id, or "latest"').argParser(backupId).default("latest"))
    .addOption(
      new Option("--new-database <name>", "restore into this new database instead of the live one").argParser(
        databaseName,
      ),
    )
    .addOption(
      new Option("--to-time <time>", "restore to this UTC time, e.g. 2026-11-30T14:05:00Z (in the past)")
        .argParser((value) => pastUtcTime(value))
        .conflicts(["backup", "newDatabase"]),
    )
    .addOption(
      new Option("--wait-minutes <minutes>", "standard tier, --to-time: longest wait for the new RDS instance")
        .argParser(positiveInteger)
        .default(120),
    )
    .option("-y, --yes", "restore into the live database without asking")
    .addArgument(
      new Argument("[action]", "status, commit or rollback: the copies a live restore keeps on the host").choices([
        "status",
        "commit",
        "rollback",
      ]),
    )
    .addArgument(new Argument("[swap]", "commit or rollback: the swap id, e.g. 20261126t023000z").argParser(swapId))
    .addHelpText(
      "after",
      `
A live restore keeps the database and site from before it (its output names the swap):
  openemr-ops restore status [--json]      the kept copies, with their size and when they are committed
  openemr-ops restore rollback SWAP        swap the copy from before the restore back in
  openemr-ops restore commit SWAP          drop it`,
    )
    .action(
      async (
        verb: "status" | "commit" | "rollback" | undefined,
        swap: string | undefined,
        options: StackOptions & RestoreOptions & { waitMinutes: number },
        command: Command,
      ) => {
        if (verb === undefined) {
          if (swap !== undefined) throw new UsageError(`restore: unexpected argument '${swap}'`);
          return setExitCode(await restore(await stackContext(options, settings), options));
        }
        const given = ["--backup", "--new-database", "--to-time", "--wait-minutes", "--yes"].filter(
          (flag) =>
            command.getOptionValueSource(flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())) ===
            "cli",
        );
        if (given.length) throw new UsageError(`restore ${verb} takes no ${given.join(", ")}`);
        if (verb === "status") {
          if (swap !== undefined) throw new UsageError(`restore status takes no swap id (got '${swap}')`);
          return setExitCode(await restoreStatus(await stackContext(options, settings)));
        }
        if (swap === undefined)
          throw new UsageError(
            `restore ${verb} needs a swap id, e.g. 20261126t023000z (see \`openemr-ops restore status\`)`,
          );
        setExitCode(await settleSwap(await stackContext(options, settings), verb, swap));
      },
    );

  withStackOptions(program.command("drill"))
    .description(
      "restore drill: restore a backup into a scratch database on the host, " +
        "compare row counts with its manifest, drop it",
    )
    .addOption(new Option("--backup <id>", 'backup id, or "latest"').argParser(backupId).default("latest"))
    .action(inStack((ctx, options: StackOptions & { backup: string }) => drill(ctx, options)));

  withStackOptions(program.command("admin-password"))
    .description("print the OpenEMR admin credentials from Secrets Manager (to a terminal only, unless --force)")
    .option("--force", "print even when stdout is not a terminal")
    .action(inStack((ctx, options: StackOptions & { force?: boolean }) => adminPassword(ctx, options)));

  withStackOptions(program.command("rotate-admin-password"))
    .description("give the OpenEMR admin a new generated password, in OpenEMR and in Secrets Manager")
    .action(inStack((ctx) => rotateAdminPassword(ctx)));

  withStackOptions(program.command("rotate-db-password"))
    .description(
      "give OpenEMR's database account a new generated password now (the host's timer does it every " +
        "dbPasswordRotationDays): account, sqlconf.php and PHP-FPM on the host, then Secrets Manager",
    )
    .action(inStack((ctx) => rotateDbPassword(ctx)));

  withHealthOptions(withStackOptions(program.command("upgrade")))
    .description(
      "upgrade OpenEMR: backup and DB snapshot, new release verified, code swapped keeping sites/, " +
        "schema upgraded, health gate, automatic rollback; on the ha tier, after a health gate, backup and " +
        "DB snapshot, the version set in the stack config and `pulumi up`, whose instance refresh is followed",
    )
    .addOption(new Option("--to <version>", "release to upgrade to, X.Y.Z").argParser(version).makeOptionMandatory())
    .addOption(
      new Option("--sha256 <hex>", "expected sha256 of the release tarball (default: the published .sha256)").argParser(
        sha256,
      ),
    )
    .option("--release-url <url>", "where to download the release tarball (default: OpenEMR's GitHub release)")
    .option("--project-dir <dir>", "ha tier: directory of Pulumi.yaml and Pulumi.<stack>.yaml", process.cwd())
    .option("-y, --yes", "ha tier: deploy without the preview and the typed confirmation")
    .addOption(
      new Option("--wait-minutes <minutes>", "ha tier: longest wait for the instance refresh")
        .argParser(positiveInteger)
        .default(180),
    )
    .action(
      inStack(
        (
          ctx,
          options: StackOptions & {
            to: string;
            sha256?: string;
            releaseUrl?: string;
            caFile?: string;
            timeout: number;
            projectDir: string;
            yes?: boolean;
            waitMinutes: number;
          },
        ) => upgrade(ctx, { ...options, cwd: options.projectDir }),
      ),
    );

  withStackOptions(program.command("logs"))
    .description("print the host's logs from CloudWatch Logs")
    .addOption(new Option("--log <name>", "which log").choices([...hostLogGroupNames]).default("apache-error"))
    .addOption(
      new Option("--since <duration>", "how far back: 30s, 15m, 2h, 1d")
        .argParser(duration)
        .default(15 * 60_000, "15m"),
    )
    .option("--filter <pattern>", "CloudWatch Logs filter pattern")
    .addOption(new Option("--limit <count>", "most events to print").argParser(positiveInteger).default(200))
    .option("-f, --follow", "keep printing new events (JSON lines with --json)")
    .addOption(
      new Option("--instance <id>", "only this host's events (the ha tier's nodes; default: every host)").argParser(
        instanceId,
      ),
    )
    .action(
      inStack(
        (
          ctx,
          options: StackOptions & {
            log: string;
            since: number;
            filter?: string;
            limit: number;
            follow?: boolean;
            instance?: string;
          },
        ) => logs(ctx, { ...options, sinceMs: options.since }),
      ),
    );

  withHealthOptions(withStackOptions(program.command("provision")))
    .description("preflight, `pulumi up`, wait for the host's SSM agent, follow its bootstrap, then health")
    .option("--project-dir <dir>", "directory of Pulumi.yaml and Pulumi.<stack>.yaml", process.cwd())
    .option("-y, --yes", "deploy without the preview and the typed confirmation")
    .action(
      action((options: StackOptions & { projectDir: string; yes?: boolean; caFile?: string; timeout: number }) =>
        provision(options, { ...options, cwd: options.projectDir }, settings),
      ),
    );

  // Needs no stack: it refreshes the repository's price table for a region.
  program
    .command("prices")
    .description("refresh config/prices/<region>.json from the AWS Price List API (used by `npm run cost`)")
    .option("--refresh", "read the prices from the AWS Price List API and rewrite the file")
    .requiredOption("--region <region>", "the region whose prices to refresh")
    .option("--file <path>", "write here instead of config/prices/<region>.json")
    .option("--json", "print one JSON document instead of a summary")
    .action(
      action((options: StackOptions & { refresh?: boolean; region: string; file?: string; json?: boolean }) =>
        prices(settings.io, options),
      ),
    );

  return program;
}

/** Runs the command line and returns its exit code. */
export async function main(argv: string[], overrides: Partial<RunSettings> = {}): Promise<number> {
  const settings: RunSettings = { io: overrides.io ?? processIo(), pollIntervalMs: overrides.pollIntervalMs ?? 3000 };
  let exitCode = 0;
  const program = buildProgram(settings, (code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; every other parse error is a usage error.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof UsageError || error instanceof OpsError) {
      settings.io.err(`error: ${error.message}`);
      return error.exitCode;
    }
    settings.io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILED;
  }
}
