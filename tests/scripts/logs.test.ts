// logs: the host's log groups in CloudWatch Logs.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { runCli } from "./support/cli";
import { awsError, INSTANCE_ID, mockStack, stackOutputs, writeOutputs } from "./support/stack";

let stack: ReturnType<typeof mockStack>;
let outputsFile: string;
const at = Date.parse("2026-11-26T10:00:00Z");

beforeEach(() => {
  stack = mockStack();
  outputsFile = writeOutputs(stackOutputs("https://emr.example.org/"));
  stack.mocks.logs
    .on(FilterLogEventsCommand)
    .resolvesOnce({
      events: [
        {
          eventId: "1",
          timestamp: at,
          logStreamName: INSTANCE_ID,
          message: "[php:error] PHP Fatal error: Allowed memory size exhausted\n",
        },
      ],
      nextToken: "page-2",
    })
    .resolves({
      events: [
        {
          eventId: "2",
          timestamp: at + 1000,
          logStreamName: INSTANCE_ID,
          message: "[core:notice] AH00094: Command line: '/usr/sbin/apache2'",
        },
      ],
    });
});
afterEach(() => stack.reset());

describe("logs", () => {
  it("reads every page of the chosen group since the given time", async () => {
    const before = Date.now();
    const run = await runCli([
      "logs",
      "--outputs",
      outputsFile,
      "--log",
      "apache-error",
      "--since",
      "2h",
      "--filter",
      "error",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `2026-11-26T10:00:00.000Z ${INSTANCE_ID} [php:error] PHP Fatal error: Allowed memory size exhausted\n` +
        `2026-11-26T10:00:01.000Z ${INSTANCE_ID} [core:notice] AH00094: Command line: '/usr/sbin/apache2'`,
    );
    const calls = stack.mocks.logs.commandCalls(FilterLogEventsCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => [input.logGroupName, input.filterPattern, input.nextToken])).toEqual([
      ["/openemr-aws/clinic-prod/apache-error", "error", undefined],
      ["/openemr-aws/clinic-prod/apache-error", "error", "page-2"],
    ]);
    expect(calls[0].startTime).toBeGreaterThanOrEqual(before - 2 * 3_600_000 - 1000);
    expect(calls[0].startTime).toBeLessThanOrEqual(Date.now() - 2 * 3_600_000);
  });

  it("prints JSON with --json", async () => {
    const run = await runCli(["logs", "--outputs", outputsFile, "--json"]);
    expect(JSON.parse(run.stdout)).toEqual({
      command: "logs",
      logGroup: "/openemr-aws/clinic-prod/apache-error",
      events: [
        {
          timestamp: "2026-11-26T10:00:00.000Z",
          stream: INSTANCE_ID,
          message: "[php:error] PHP Fatal error: Allowed memory size exhausted\n",
        },
        {
          timestamp: "2026-11-26T10:00:01.000Z",
          stream: INSTANCE_ID,
          message: "[core:notice] AH00094: Command line: '/usr/sbin/apache2'",
        },
      ],
    });
  });

  it("a missing log group says the host has not shipped it", async () => {
    stack.mocks.logs
      .on(FilterLogEventsCommand)
      .rejects(awsError("ResourceNotFoundException", "The specified log group does not exist."));
    const run = await runCli(["logs", "--outputs", outputsFile, "--log", "php-fpm"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "error: log group /openemr-aws/clinic-prod/php-fpm does not exist: " +
        "the host has not shipped php-fpm yet (is the CloudWatch agent running?)",
    );
  });

  it("an unknown log name or duration is a usage error naming the option", async () => {
    const badLog = await runCli(["logs", "--outputs", outputsFile, "--log", "mysql"]);
    expect(badLog.code).toBe(2);
    expect(badLog.stderr).toContain(
      "error: option '--log <name>' argument 'mysql' is invalid. " +
        "Allowed choices are apache-access, apache-error, php-fpm, openemr-bootstrap, openemr-backup, system, " +
        "auditd, ssm-sessions.",
    );
    const badSince = await runCli(["logs", "--outputs", outputsFile, "--since", "yesterday"]);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain(
      "error: option '--since <duration>' argument 'yesterday' is invalid. " +
        'expected a duration such as 30s, 15m, 2h or 1d, got "yesterday"',
    );
  });
});

describe("logs --follow", () => {
  it("prints new events once each as they arrive, as JSON lines with --json", async () => {
    stack.mocks.logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({ events: [{ eventId: "1", timestamp: at, logStreamName: INSTANCE_ID, message: "first" }] })
      .resolvesOnce({
        events: [
          { eventId: "1", timestamp: at, logStreamName: INSTANCE_ID, message: "first" },
          { eventId: "2", timestamp: at + 5, logStreamName: INSTANCE_ID, message: "second" },
        ],
      })
      .rejects(awsError("ThrottlingException", "Rate exceeded"));
    const run = await runCli(["logs", "--outputs", outputsFile, "--follow", "--json"]);
    expect(run.stdout.split("\n").map((line) => JSON.parse(line).message)).toEqual(["first", "second"]);
    const calls = stack.mocks.logs.commandCalls(FilterLogEventsCommand).map((call) => call.args[0].input.startTime);
    expect(calls[1]).toBe(at);
    expect(calls[2]).toBe(at + 5);
    // Following ends only on an error (or Ctrl-C); the error is the usual one line.
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "error: AWS throttled CloudWatch Logs FilterLogEvents on /openemr-aws/clinic-prod/apache-error " +
        "(ThrottlingException); wait a minute and run the command again",
    );
  });
});
