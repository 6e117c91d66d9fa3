// The ops commands on the ha tier: the hosts are the in-service instances of the stack's Auto
// Scaling group (stack output hostGroupName), described through a mocked Auto Scaling client.
// What the nodes share (the database, sites/) one node acts on for all: backup, drill and the
// password rotations run on the first in-service node.
// provision and upgrade, which run `pulumi up`, are in ha-deploy.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type Instance as GroupInstance,
} from "@aws-sdk/client-auto-scaling";
import { FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeInstanceInformationCommand, SendCommandCommand } from "@aws-sdk/client-ssm";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { runCli } from "./support/cli";
import { makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";
import { backupIdAgo, hostReportLine, manifestFor, mockStack, stackOutputs, writeOutputs } from "./support/stack";

const GROUP = "clinic-prod-hosts";
const NODE_A = "i-0aaa1111bbbb22220";
const NODE_B = "i-0bbb1111bbbb22220";

let certs: Certificates;
let site: FakeOpenEmr;
let stack: ReturnType<typeof mockStack>;
const autoScaling = mockClient(AutoScalingClient);
let group: { desired: number; min: number; instances: GroupInstance[] };

const node = (id: string, state = "InService"): GroupInstance =>
  ({ InstanceId: id, LifecycleState: state }) as GroupInstance;

function haOutputs(url = site.url): string {
  const outputs = stackOutputs(url, { tier: "ha", hostGroupName: GROUP });
  delete outputs.hostInstanceId;
  return writeOutputs(outputs);
}

/** The shapes docs/ops-json.md documents, as tests/scripts/json-shapes.test.ts reads them. */
function expectDocumentedShape(id: string, value: unknown): void {
  const doc = readFileSync(join(__dirname, "..", "..", "docs", "ops-json.md"), "utf8");
  const ajv = new Ajv({ strict: true, allErrors: true });
  addFormats(ajv);
  for (const match of doc.matchAll(/```json\n([\s\S]*?)\n```/g)) ajv.addSchema(JSON.parse(match[1]) as object);
  const validate = ajv.getSchema(id)!;
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

beforeAll(async () => {
  certs = makeCertificates();
  site = await startOpenEmr(certs.valid);
});
afterAll(() => site.close());
beforeEach(() => {
  stack = mockStack();
  stack.host.report.tier = "ha";
  // Listed out of order, with one instance still launching: the tool sorts and keeps InService.
  group = { desired: 2, min: 2, instances: [node(NODE_B), node("i-0ccc1111bbbb22220", "Pending"), node(NODE_A)] };
  autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => ({
    AutoScalingGroups: input.AutoScalingGroupNames.includes(GROUP)
      ? [
          {
            AutoScalingGroupName: GROUP,
            DesiredCapacity: group.desired,
            MinSize: group.min,
            MaxSize: 4,
            Instances: group.instances,
          },
        ]
      : [],
  }));
  stack.mocks.ssm.on(DescribeInstanceInformationCommand).callsFake((input: { Filters: { Values: string[] }[] }) => ({
    InstanceInformationList: [{ InstanceId: input.Filters[0].Values[0], PingStatus: "Online" }],
  }));
  site.readyz = {
    status: "ready",
    checks: { database: true, filesystem: true, session: true, oauth_keys: true, cache: true },
  };
});
afterEach(() => {
  stack.reset();
  autoScaling.reset();
});

interface HealthJson {
  verdict: string;
  findings: { check: string; status: string; summary: string; evidence: Record<string, unknown> }[];
}

async function health() {
  const run = await runCli(["health", "--outputs", haOutputs(), "--ca-file", certs.caFile, "--json"]);
  return { ...run, json: JSON.parse(run.stdout) as HealthJson };
}

const sentTo = () =>
  stack.mocks.ssm.commandCalls(SendCommandCommand).map((call) => call.args[0].input.InstanceIds?.join(","));

describe("health on the ha tier", () => {
  it("checks every in-service node, names each node's findings, and checks the group", async () => {
    const { code, json } = await health();
    expect(json.findings.filter((finding) => finding.status !== "OK")).toEqual([]);
    expect(code).toBe(0);
    expectDocumentedShape("health", json);
    expect(autoScaling.commandCalls(DescribeAutoScalingGroupsCommand)[0].args[0].input).toEqual({
      AutoScalingGroupNames: [GROUP],
    });
    expect(sentTo().sort()).toEqual([NODE_A, NODE_B]);
    const group = json.findings.find((finding) => finding.check === "host.group")!;
    expect(group.summary).toBe("2 of 2 instances in service");
    expect(group.evidence).toEqual({ group: GROUP, inService: [NODE_A, NODE_B], desired: 2, min: 2 });
    for (const id of [NODE_A, NODE_B]) {
      const apache = json.findings.find(
        (finding) => finding.check === "host.apache2" && finding.evidence.instanceId === id,
      );
      expect(apache?.summary).toMatch(new RegExp(`^${id}: `));
    }
    expect(json.findings.filter((finding) => finding.check === "host.ssm-agent")).toHaveLength(2);
    expect(json.findings.some((finding) => finding.check.startsWith("rds."))).toBe(true);
  });

  it("warns below the desired count and is critical below the minimum", async () => {
    group = { desired: 3, min: 2, instances: [node(NODE_A), node(NODE_B)] };
    let run = await health();
    expect(run.json.findings.find((finding) => finding.check === "host.group")?.status).toBe("WARN");
    expect(run.code).toBe(0);

    group = { desired: 2, min: 2, instances: [node(NODE_A), node(NODE_B, "Terminating")] };
    run = await health();
    const finding = run.json.findings.find((found) => found.check === "host.group")!;
    expect(finding.status).toBe("CRIT");
    expect(finding.summary).toBe("1 of 2 instances in service, below the minimum 2");
    expect(run.json.verdict).toBe("CRIT");
    expect(run.code).toBe(1);
  });

  it("one node's fault is named by its instance id", async () => {
    stack.host.handle = (script) => {
      const report = { ...stack.host.report, services: { ...stack.host.report.services } };
      if (sentTo().at(-1) === NODE_B) report.services.apache2 = "failed";
      return script.includes("OPENEMR-HEALTH") ? { stdout: `${hostReportLine(report)}\n` } : { stdout: "" };
    };
    const { json, code } = await health();
    const failed = json.findings.filter((finding) => finding.status === "CRIT");
    expect(failed.map((finding) => [finding.check, finding.evidence.instanceId])).toEqual([["host.apache2", NODE_B]]);
    expect(failed[0].summary).toMatch(new RegExp(`^${NODE_B}: `));
    expect(code).toBe(1);
  });
});

describe("backup on the ha tier", () => {
  it("runs on exactly one node, the first in-service instance, and says which", async () => {
    const id = backupIdAgo(0);
    stack.bucket.backups.unshift(id);
    stack.host.handle = () => ({ stdout: `${JSON.stringify(manifestFor(id))}\n` });
    const run = await runCli(["backup", "--outputs", haOutputs("https://emr.example.org/")]);
    expect(run.code).toBe(0);
    expect(sentTo()).toEqual([NODE_A]);
    expect(run.stdout.split("\n")[0]).toBe(`Ran on ${NODE_A}, the first of the group's in-service instances.`);

    stack.host.scripts.length = 0;
    stack.mocks.ssm.resetHistory();
    const json = await runCli(["backup", "--outputs", haOutputs("https://emr.example.org/"), "--json"]);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(parsed.instanceId).toBe(NODE_A);
    expectDocumentedShape("backup", parsed);
  });

  it("fails with a clear error when no instance is in service", async () => {
    group = { desired: 2, min: 2, instances: [node(NODE_A, "Pending")] };
    const run = await runCli(["backup", "--outputs", haOutputs("https://emr.example.org/")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`backup: Auto Scaling group ${GROUP} has no instance in service (desired 2)`);
    expect(sentTo()).toEqual([]);
  });
});

describe("drill and the password rotations on the ha tier", () => {
  it("drill runs on exactly one node, the first in-service instance", async () => {
    stack.host.handle = () => ({
      stdout: `${JSON.stringify({ ok: true, backup: stack.backupId, tables_compared: 250, mismatches: [] })}\n`,
    });
    const run = await runCli(["drill", "--outputs", haOutputs("https://emr.example.org/"), "--json"]);
    expect(run.code).toBe(0);
    expect(sentTo()).toEqual([NODE_A]);
    expect(stack.host.scripts[0]).toContain(`openemr-restore drill --backup ${stack.backupId} --json`);
    expect(JSON.parse(run.stdout)).toMatchObject({ command: "drill", ok: true, backupId: stack.backupId });
  });

  it("rotate-admin-password sets the new password through one node, then makes it current", async () => {
    stack.mocks.secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ username: "admin", password: "Oe1-old-password" }), VersionId: "v1" });
    const run = await runCli(["rotate-admin-password", "--outputs", haOutputs("https://emr.example.org/"), "--json"]);
    expect(run.code).toBe(0);
    expect(sentTo()).toEqual([NODE_A]);
    const staged = stack.mocks.secrets.commandCalls(PutSecretValueCommand)[0].args[0].input;
    expect(stack.host.scripts[0]).toContain(`--version-id ${staged.ClientRequestToken}`);
    expect(stack.mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)[0].args[0].input).toMatchObject({
      VersionStage: "AWSCURRENT",
      MoveToVersionId: staged.ClientRequestToken,
    });
  });

  it("rotate-db-password runs the host's rotation on one node", async () => {
    const run = await runCli(["rotate-db-password", "--outputs", haOutputs("https://emr.example.org/"), "--json"]);
    expect(run.code).toBe(0);
    expect(sentTo()).toEqual([NODE_A]);
    expect(stack.host.scripts[0]).toContain("/opt/openemr-aws/bin/openemr-rotate-db-password");
    expect(JSON.parse(run.stdout)).toEqual({ command: "rotate-db-password", ok: true });
  });

  it("none runs when no instance is in service", async () => {
    group = { desired: 2, min: 2, instances: [node(NODE_A, "Pending")] };
    for (const command of ["drill", "rotate-admin-password", "rotate-db-password"]) {
      const run = await runCli([command, "--outputs", haOutputs("https://emr.example.org/")]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${command}: Auto Scaling group ${GROUP} has no instance in service (desired 2)`);
    }
    expect(sentTo()).toEqual([]);
  });
});

describe("other commands on the ha tier", () => {
  it("a command that needs the one host says it does not run on ha", async () => {
    const run = await runCli(["restore", "status", "--outputs", haOutputs()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("restore status does not run on the ha tier");
  });

  it("logs --instance reads only that node's stream; without it, every node's", async () => {
    stack.mocks.logs.on(FilterLogEventsCommand).resolves({
      events: [{ eventId: "1", timestamp: Date.parse("2026-11-26T10:00:00Z"), logStreamName: NODE_A, message: "x" }],
    });
    expect((await runCli(["logs", "--outputs", haOutputs(), "--instance", NODE_A])).code).toBe(0);
    expect((await runCli(["logs", "--outputs", haOutputs()])).code).toBe(0);
    const inputs = stack.mocks.logs.commandCalls(FilterLogEventsCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.logStreamNames)).toEqual([[NODE_A], undefined]);
  });

  it("logs --instance refuses what is not an instance id", async () => {
    const run = await runCli(["logs", "--outputs", haOutputs(), "--instance", "web-1"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('expected an EC2 instance id like i-0abc1234def567890, got "web-1"');
  });
});
