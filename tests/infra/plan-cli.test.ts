// The offline plan as a user runs it (`npm run plan` is `node infra/plan/launch.js`): with no
// argument, with a stack file, with --json; exit codes 0 (planned), 1 (config mistake, no stack
// trace), 2 (bad arguments).
import { spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLACEHOLDERS } from "../../infra/offline/mocks";
import type { OfflineRun } from "../../infra/offline/run";

const scratch = mkdtempSync(join(tmpdir(), "openemr-aws-plan-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function plan(...args: string[]) {
  const result = spawnSync(process.execPath, ["infra/plan/launch.js", ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let defaults: ReturnType<typeof plan>;
// The first plan after a source change compiles the program (tsc), which is slow on a busy machine.
let runs: OfflineRun[];
beforeAll(() => {
  defaults = plan("--json", join(scratch, "plan.json"));
  runs = JSON.parse(readFileSync(join(scratch, "plan.json"), "utf8"));
}, 300_000);

describe("plan CLI", () => {
  it("plan: with no argument plans both tiers and exits 0", () => {
    expect([defaults.status, [...defaults.stdout.matchAll(/^Stack (\S+):/gm)].map((match) => match[1])]).toEqual([
      0,
      ["defaults-single", "defaults-standard"],
    ]);
  });
  it("plan: groups resources by component", () => {
    expect(defaults.stdout).toMatch(/^database \(openemr-aws:database:Database\): \d+$/m);
  });
  it("plan: shows security properties (db encryption and exposure)", () => {
    expect(defaults.stdout).toMatch(/storage encrypted: yes \(key <keys-data>\), public: no/);
  });
  it("plan: marks the AMI id as a placeholder", () => {
    expect(defaults.stdout).toContain(
      `AMI ${PLACEHOLDERS.amiId} [placeholder: Debian 13 AMI id (looked up at deploy time)]`,
    );
  });
  it("plan: marks the account id as a placeholder", () => {
    expect(defaults.stdout).toContain(`arn:aws:iam::${PLACEHOLDERS.accountId}:root [placeholder: AWS account id`);
  });
  it("plan: marks the ids and host names AWS assigns as placeholders (the outputs too)", () => {
    const host = runs[0].resources.find(
      (resource) => resource.type === "aws:ec2/instance:Instance" && resource.name === "host-instance",
    )!;
    expect(defaults.stdout).toContain(
      `hostInstanceId: ${host.state.id} [placeholder: id of host-instance (aws:ec2/instance:Instance), ` +
        "assigned at deploy time]",
    );
    expect(defaults.stdout).toMatch(
      /^ {2}url: https:\/\/\S+\.elb\.amazonaws\.com \[placeholder: dnsName of edge-alb \(aws:lb\/loadBalancer/m,
    );
    expect(defaults.stdout).toMatch(/^ {2}dbEndpoint: \S+\.rds\.amazonaws\.com:3306 \[placeholder: endpoint of /m);
  });
  it("plan: prints the outputs", () => {
    expect(defaults.stdout).toMatch(/^Outputs:(\n {2}\S.*)*\n {2}tier: standard$/m);
  });
  it("plan --json: one capture per planned stack", () => {
    expect(runs.map((run) => [run.stack, run.resources.length > 50])).toEqual([
      ["defaults-single", true],
      ["defaults-standard", true],
    ]);
  });
  it("plan --json: lists each made-up value and what it stands for, right after the stack's name", () => {
    const [single, standard] = runs as (OfflineRun & { placeholders: Record<string, string> })[];
    expect(Object.keys(standard).slice(0, 4)).toEqual(["project", "stack", "placeholders", "resources"]);
    const host = standard.resources.find((resource) => resource.type === "aws:ec2/instance:Instance")!;
    const alb = standard.resources.find((resource) => resource.type === "aws:lb/loadBalancer:LoadBalancer")!;
    const database = standard.resources.find((resource) => resource.type === "aws:rds/instance:Instance")!;
    expect(standard.placeholders).toMatchObject({
      [PLACEHOLDERS.accountId]: "AWS account id (known only at deploy time)",
      [PLACEHOLDERS.amiId]: "Debian 13 AMI id (looked up at deploy time)",
      "us-east-1a": "availability zone (chosen at deploy time)",
      [host.state.id]: "id of host-instance (aws:ec2/instance:Instance), assigned at deploy time",
      [host.state.privateIp]: expect.stringMatching(/^privateIp of host-instance /),
      [alb.state.dnsName]: expect.stringMatching(/^dnsName of edge-alb /),
      [database.state.endpoint]: expect.stringMatching(/^endpoint of /),
    });
    expect(single.placeholders[PLACEHOLDERS.accountId]).toMatch(/^AWS account id/);
    // Every listed value is in the run, and the values themselves are unchanged (machine readers
    // keep working): the account id in an ARN stays the account id.
    for (const run of [single, standard]) {
      const text = JSON.stringify({ ...run, placeholders: undefined });
      expect(Object.keys(run.placeholders).filter((value) => !text.includes(value))).toEqual([]);
    }
    expect(standard.outputs.hostInstanceId).toBe(host.state.id);
  });
  it("plan --json: secret-marked values are redacted", () => {
    const versions = runs[1].resources.filter(
      (resource) => resource.type === "aws:secretsmanager/secretVersion:SecretVersion",
    );
    expect(versions.map((version) => [version.inputs.secretString, version.state.secretString])).toEqual(
      Array(4).fill(["[secret]", "[secret]"]),
    );
  });
  it("plan --json: generated passwords are redacted", () => {
    const passwords = runs[1].resources.filter(
      (resource) => resource.type === "random:index/randomPassword:RandomPassword",
    );
    expect([passwords.length, passwords.every((password) => password.state.result === "[secret]")]).toEqual([4, true]);
  });
  it("plan FILE: plans that stack under the file's stack name", () => {
    const file = join(scratch, "Pulumi.clinic-prod.yaml");
    writeFileSync(file, "config:\n  openemr:tier: single\n  openemr:alertEmails:\n    - ops@example.org\n");
    const result = plan(file);
    expect([result.status, result.stdout.split("\n")[0]]).toEqual([
      0,
      expect.stringMatching(/^Stack clinic-prod: \d+ resources$/),
    ]);
  });
  it("plan FILE: a config mistake prints each problem on its own line, no stack trace, exit 2 as audit", () => {
    const file = join(scratch, "Pulumi.bad.yaml");
    writeFileSync(file, "config:\n  openemr:tier: large\n  openemr:azCount: 1\n");
    const result = plan(file);
    expect([
      result.status,
      result.stderr.split("\n").filter((line) => line.startsWith("openemr:")).length,
      /^\s+at /m.test(result.stderr),
      result.stdout,
    ]).toEqual([2, 2, false, ""]);
  });
  it("plan FILE: a missing file is a one-line error, exit 2", () => {
    const result = plan(join(scratch, "Pulumi.missing.yaml"));
    expect([result.status, /no such file/.test(result.stderr), /^\s+at /m.test(result.stderr)]).toEqual([
      2,
      true,
      false,
    ]);
  });
  it("plan: an unknown option exits 2", () => {
    expect(plan("--frobnicate").status).toBe(2);
  });
  it("plan: two stack files exit 2", () => {
    expect(plan("a.yaml", "b.yaml").status).toBe(2);
  });
});
