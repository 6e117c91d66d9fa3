// rotate-db-password runs the host's own rotation script through SSM and reports its verdict; the
// host, not the ops tool, touches the secret, so the tool makes no Secrets Manager call.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SendCommandCommand } from "@aws-sdk/client-ssm";
import { runCli } from "./support/cli";
import { mockStack, stackOutputs, writeOutputs } from "./support/stack";

let stack: ReturnType<typeof mockStack>;
let outputsFile: string;

beforeEach(() => {
  stack = mockStack();
  outputsFile = writeOutputs(stackOutputs("https://emr.example.org/"));
});
afterEach(() => stack.reset());

describe("rotate-db-password", () => {
  it("runs openemr-rotate-db-password on the host and reports OK", async () => {
    const run = await runCli(["rotate-db-password", "--outputs", outputsFile, "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(stack.host.scripts).toHaveLength(1);
    expect(stack.host.scripts[0]).toContain("/opt/openemr-aws/bin/openemr-rotate-db-password");
    expect(stack.host.scripts[0]).not.toContain("--if-due");
    expect(stack.mocks.ssm.commandCalls(SendCommandCommand)).toHaveLength(1);
    expect(stack.mocks.secrets.calls()).toHaveLength(0);
    expect(JSON.parse(run.stdout)).toEqual({ command: "rotate-db-password", ok: true });
  });

  it("reports the host's last error line and exits 1 when the rotation fails", async () => {
    stack.host.handle = () => ({
      exitCode: 1,
      stderr: "... ERROR: the site cannot connect with the new sqlconf.php\n",
    });
    const run = await runCli(["rotate-db-password", "--outputs", outputsFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      "Verdict: FAILED: ... ERROR: the site cannot connect with the new sqlconf.php; AWSCURRENT still names the " +
        "password in use or AWSPENDING does, and running the command again finishes the rotation",
    );
  });
});
