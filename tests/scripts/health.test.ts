// `openemr-ops health` end to end: AWS mocked, the public URL a real HTTPS server on
// 127.0.0.1. The fault matrix: each fault is found with the right severity and exit code.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SendCommandCommand, DescribeInstanceInformationCommand, InvalidInstanceId } from "@aws-sdk/client-ssm";
import { DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { runCli } from "./support/cli";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import { awsError, backupIdAgo, INSTANCE_ID, mockStack, stackOutputs, TOPIC_ARN, writeOutputs } from "./support/stack";

let certs: Certificates;
let site: FakeOpenEmr;
let expiringSite: FakeOpenEmr;
let stack: ReturnType<typeof mockStack>;

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
  expiringSite = await startOpenEmr(certs.expiring);
});
afterAll(async () => {
  await site.close();
  await expiringSite.close();
});
beforeEach(() => {
  stack = mockStack();
  site.readyz = {
    status: "ready",
    checks: { database: true, filesystem: true, session: true, oauth_keys: true, cache: true },
  };
});
afterEach(() => stack.reset());

interface HealthJson {
  command: string;
  url: string;
  verdict: string;
  findings: { check: string; status: string; summary: string; evidence: Record<string, unknown>; action?: string }[];
}

async function health(url = site.url, extra: string[] = []) {
  const run = await runCli([
    "health",
    "--outputs",
    writeOutputs(stackOutputs(url)),
    "--ca-file",
    certs.caFile,
    "--json",
    ...extra,
  ]);
  const json = JSON.parse(run.stdout) as HealthJson;
  const status = (check: string) => json.findings.find((finding) => finding.check === check)?.status;
  return { ...run, json, status };
}

describe("health on a healthy stack", () => {
  it("reports every area OK and exits 0", async () => {
    const { code, json } = await health();
    expect(json.findings.filter((finding) => finding.status !== "OK")).toEqual([]);
    expect(json.verdict).toBe("OK");
    expect(code).toBe(0);
    expect(json.findings.map((finding) => finding.check).sort()).toEqual(
      [
        "alarms",
        "bucket.backup",
        "bucket.encryption",
        "host.apache2",
        "host.backup",
        "host.database",
        "host.disk",
        "host.memory",
        "host.php-fpm",
        "host.ssm-agent",
        "https.headers",
        "https.status",
        "https.tls",
        "https.version-leak",
        "rds.maintenance",
        "rds.status",
        "rds.storage",
        "readyz",
        "readyz.cache",
        "readyz.database",
        "readyz.filesystem",
        "readyz.oauth_keys",
        "readyz.session",
      ].sort(),
    );
  });

  it("prints a table and a verdict line for people, with plain progress lines when not on a terminal", async () => {
    const run = await runCli(["health", "--outputs", writeOutputs(stackOutputs(site.url)), "--ca-file", certs.caFile]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^STATUS {2}CHECK +FINDING$/m);
    expect(run.stdout).toMatch(/^OK {6}host\.apache2 +apache2 active$/m);
    expect(run.stdout.trim().split("\n").pop()).toBe(`Verdict: OK for ${site.url}: 0 critical, 0 warning, 23 ok`);
    expect(run.stderr).toContain("... checking 6 areas of the stack");
    expect(run.stderr).toMatch(/^ok {2}checking 6 areas of the stack \(\d+\.\ds\)$/m);
    expect(run.stderr).toContain("    host: OK");
    expect(run.stderr).not.toContain("\r");
  });

  it("runs the host checks as one AWS-RunShellScript", async () => {
    await health();
    const sent = stack.mocks.ssm.commandCalls(SendCommandCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0].args[0].input).toMatchObject({ DocumentName: "AWS-RunShellScript", InstanceIds: [INSTANCE_ID] });
    expect(stack.host.scripts[0]).toContain("openemr-backup list --json");
  });
});

describe("health on the single tier", () => {
  it("checks MariaDB on the host and does not ask RDS", async () => {
    stack.host.report.tier = "single";
    stack.host.report.services.mariadb = "failed";
    stack.host.report.db = { exit_code: 1, tls: false, output: "mysqladmin: connect to server at 'localhost' failed" };
    const outputs = stackOutputs(site.url, { tier: "single" });
    delete outputs.dbInstanceIdentifier;
    const run = await runCli(["health", "--outputs", writeOutputs(outputs), "--ca-file", certs.caFile, "--json"]);
    const json = JSON.parse(run.stdout) as HealthJson;
    expect(
      json.findings
        .filter((finding) => finding.status !== "OK")
        .map((finding) => [finding.check, finding.status, finding.summary]),
    ).toEqual([
      ["host.mariadb", "CRIT", "mariadb is failed"],
      ["host.database", "CRIT", "local MariaDB does not answer"],
    ]);
    expect(json.findings.some((finding) => finding.check.startsWith("rds."))).toBe(false);
    expect(stack.mocks.rds.calls()).toHaveLength(0);
    expect(run.code).toBe(1);
  });
});

describe("health fault matrix", () => {
  const cases: { fault: string; arrange: () => void; check: string; status: "WARN" | "CRIT"; url?: () => string }[] = [
    {
      fault: "Apache down",
      arrange: () => (stack.host.report.services.apache2 = "inactive"),
      check: "host.apache2",
      status: "CRIT",
    },
    {
      fault: "PHP-FPM down",
      arrange: () => (stack.host.report.services["php-fpm"] = "failed"),
      check: "host.php-fpm",
      status: "CRIT",
    },
    {
      fault: "DB unreachable",
      arrange: () => (stack.host.report.db = { exit_code: 1, tls: true, output: "connect:errno=110" }),
      check: "host.database",
      status: "CRIT",
    },
    {
      fault: "disk at 95%",
      arrange: () => (stack.host.report.disks = [{ path: "/", used_percent: 95 }]),
      check: "host.disk",
      status: "CRIT",
    },
    {
      fault: "disk at 85%",
      arrange: () => (stack.host.report.disks = [{ path: "/", used_percent: 85 }]),
      check: "host.disk",
      status: "WARN",
    },
    {
      fault: "memory nearly gone",
      arrange: () => (stack.host.report.memory = { total_mb: 4000, available_mb: 120 }),
      check: "host.memory",
      status: "CRIT",
    },
    {
      fault: "certificate expiring",
      arrange: () => undefined,
      check: "https.tls",
      status: "CRIT",
      url: () => expiringSite.url,
    },
    {
      fault: "alarm firing",
      arrange: () =>
        stack.alarms.push({
          AlarmName: "clinic-prod-alb-5xx",
          StateValue: "ALARM",
          StateReason: "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0)",
          AlarmActions: [TOPIC_ARN],
        }),
      check: "alarm.clinic-prod-alb-5xx",
      status: "CRIT",
    },
    {
      fault: "alarm without data",
      arrange: () =>
        stack.alarms.push({
          AlarmName: "clinic-prod-disk",
          StateValue: "INSUFFICIENT_DATA",
          AlarmActions: [TOPIC_ARN],
        }),
      check: "alarm.clinic-prod-disk",
      status: "WARN",
    },
    {
      fault: "stale backup (host's view)",
      arrange: () => (stack.host.report.backups.output = JSON.stringify([{ id: backupIdAgo(72), complete: true }])),
      check: "host.backup",
      status: "CRIT",
    },
    {
      fault: "stale backup (bucket)",
      arrange: () => (stack.bucket.backups = [backupIdAgo(72)]),
      check: "bucket.backup",
      status: "CRIT",
    },
    {
      fault: "backup late",
      arrange: () => (stack.bucket.backups = [backupIdAgo(30)]),
      check: "bucket.backup",
      status: "WARN",
    },
    {
      fault: "backup not KMS-encrypted",
      arrange: () => (stack.bucket.encryption = "AES256"),
      check: "bucket.encryption",
      status: "CRIT",
    },
    {
      fault: "readyz failed check",
      arrange: () => (site.readyz = { status: "ready", checks: { database: true, session: false } }),
      check: "readyz.session",
      status: "CRIT",
    },
  ];

  for (const { fault, arrange, check, status, url } of cases) {
    it(`${fault}: ${check} is ${status}, exit ${status === "CRIT" ? 1 : 0}`, async () => {
      arrange();
      const run = await health(url?.());
      expect(run.status(check)).toBe(status);
      expect(run.json.findings.filter((finding) => finding.status !== "OK").map((finding) => finding.check)).toEqual([
        check,
      ]);
      expect(run.json.verdict).toBe(status);
      expect(run.code).toBe(status === "CRIT" ? 1 : 0);
      expect(run.json.findings.find((finding) => finding.check === check)?.action).toBeTruthy();
      // The progress line closes with the verdict, not with `ok` over a failing area.
      expect(run.stderr).toMatch(new RegExp(`^${status} checking 6 areas of the stack \\(\\d+\\.\\ds\\)$`, "m"));
    });
  }
});

describe("health when AWS or the host says no", () => {
  it("without AWS credentials, every CRIT names the call that failed and says what to do", async () => {
    const noCredentials = awsError("CredentialsProviderError", "Could not load credentials from any providers");
    stack.mocks.cloudwatch.reset().onAnyCommand().rejects(noCredentials);
    stack.mocks.ssm.reset().onAnyCommand().rejects(noCredentials);
    stack.mocks.s3.reset().onAnyCommand().rejects(noCredentials);
    stack.mocks.rds.reset().onAnyCommand().rejects(noCredentials);
    const json = await health();
    expect(json.code).toBe(1);
    expect(json.json.findings.find((finding) => finding.check === "alarms")).toEqual({
      check: "alarms",
      status: "CRIT",
      summary: "no usable AWS credentials for CloudWatch DescribeAlarms (CredentialsProviderError)",
      evidence: {},
      action: "set AWS_PROFILE or refresh your session",
    });
    for (const finding of json.json.findings.filter(({ status }) => status !== "OK")) {
      expect(finding.summary, finding.check).not.toBe("");
      expect(finding.action, finding.check).toBeTruthy();
    }

    const human = await runCli([
      "health",
      "--outputs",
      writeOutputs(stackOutputs(site.url)),
      "--ca-file",
      certs.caFile,
    ]);
    const details = human.stdout.split("\n\n")[1].split("\n");
    expect(details.slice(0, 2)).toEqual([
      "CRIT alarms: no usable AWS credentials for CloudWatch DescribeAlarms (CredentialsProviderError)",
      "  -> set AWS_PROFILE or refresh your session",
    ]);
    expect(details.filter((line) => /^(WARN|CRIT) /.test(line))).toHaveLength(4);
    expect(details.filter((line) => line.startsWith("  -> "))).toHaveLength(4);
    expect(human.stderr).toMatch(/^CRIT checking 6 areas of the stack \(\d+\.\ds\)$/m);
  });

  it("an instance not managed by SSM is a CRIT with the reason", async () => {
    stack.mocks.ssm.on(SendCommandCommand).rejects(
      new InvalidInstanceId({
        message: "Instances [[i-0abc1234def567890]] not in a valid state for account 111122223333",
        $metadata: {},
      }),
    );
    const run = await health();
    expect(run.code).toBe(1);
    expect(run.json.findings.find((finding) => finding.check === "host")).toMatchObject({
      status: "CRIT",
      summary: `instance ${INSTANCE_ID} is not managed by SSM (InvalidInstanceId)`,
      action: "check that it is running, its SSM agent is online and its role allows SSM",
    });
  });

  it("an agent that lost its connection is reported without sending the script", async () => {
    stack.mocks.ssm
      .on(DescribeInstanceInformationCommand)
      .resolves({ InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: "ConnectionLost" }] });
    const run = await health();
    expect(run.json.findings.find((finding) => finding.check === "host.ssm-agent")).toMatchObject({
      status: "CRIT",
      summary: "SSM agent is ConnectionLost",
    });
    expect(stack.mocks.ssm.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  it("throttling is a CRIT that says to wait and retry", async () => {
    stack.mocks.cloudwatch.on(DescribeAlarmsCommand).rejects(awsError("ThrottlingException", "Rate exceeded"));
    const run = await health();
    expect(run.json.findings.find((finding) => finding.check === "alarms")).toMatchObject({
      status: "CRIT",
      summary: "AWS throttled CloudWatch DescribeAlarms (ThrottlingException)",
      action: "wait a minute and run the command again",
    });
  });

  it("access denied is a CRIT naming the call", async () => {
    stack.mocks.cloudwatch
      .on(DescribeAlarmsCommand)
      .rejects(
        awsError(
          "AccessDenied",
          "User: arn:aws:iam::111122223333:user/ops is not authorized to perform: cloudwatch:DescribeAlarms",
        ),
      );
    const run = await health();
    expect(run.json.findings.find((finding) => finding.check === "alarms")).toMatchObject({
      summary:
        "access denied to CloudWatch DescribeAlarms (AccessDenied): the AWS identity in use lacks that permission",
      action: "see Operator permissions in docs/operations.md",
    });
  });

  it("a host script that times out is a CRIT with the SSM status", async () => {
    stack.host.handle = () => ({ status: "TimedOut", statusDetails: "ExecutionTimedOut", exitCode: -1 });
    const run = await health();
    expect(run.json.findings.find((finding) => finding.check === "host")).toMatchObject({
      summary: `health check timed out on ${INSTANCE_ID} after 65s (SSM ExecutionTimedOut, command cmd-1)`,
      action: "the host may still be working: check its log before retrying",
    });
  });

  it("a check that does not answer in time is CRIT and the others still report", async () => {
    stack.mocks.cloudwatch.on(DescribeAlarmsCommand).callsFake(() => new Promise(() => undefined));
    const run = await health(site.url, ["--timeout", "1"]);
    expect(run.json.findings.find((finding) => finding.check === "alarms")).toMatchObject({
      status: "CRIT",
      summary: "no answer within 1s",
    });
    expect(run.status("host.apache2")).toBe("OK");
  });
});
