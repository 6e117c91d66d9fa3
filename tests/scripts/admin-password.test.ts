// admin-password prints a secret only to a terminal (or with --force); rotation stages the
// new value, sets it on the host and only then makes it current.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from "@aws-sdk/client-secrets-manager";
import { runCli } from "./support/cli";
import { awsError, mockStack, stackOutputs, writeOutputs } from "./support/stack";

const PASSWORD = "Oe1-correct-horse-battery";
let stack: ReturnType<typeof mockStack>;
let outputsFile: string;

beforeEach(() => {
  stack = mockStack();
  stack.mocks.secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ username: "admin", password: PASSWORD }), VersionId: "v-current" });
  outputsFile = writeOutputs(stackOutputs("https://emr.example.org/"));
});
afterEach(() => stack.reset());

describe("admin-password", () => {
  it("prints the credentials on a terminal", async () => {
    const run = await runCli(["admin-password", "--outputs", outputsFile], { stdoutIsTTY: true });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`URL:      https://emr.example.org/\nUsername: admin\nPassword: ${PASSWORD}`);
  });

  it("refuses a non-terminal stdout without --force, and asks AWS nothing", async () => {
    const run = await runCli(["admin-password", "--outputs", outputsFile]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "error: admin-password prints a secret: stdout is not a terminal, so it refuses; pass --force to print it anyway",
    );
    expect(run.stdout).toBe("");
    expect(stack.mocks.secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it("prints JSON to a pipe with --force", async () => {
    const run = await runCli(["admin-password", "--outputs", outputsFile, "--force", "--json"]);
    expect(JSON.parse(run.stdout)).toEqual({
      command: "admin-password",
      url: "https://emr.example.org/",
      username: "admin",
      password: PASSWORD,
    });
  });

  it("a malformed secret is named without echoing its value", async () => {
    stack.mocks.secrets.on(GetSecretValueCommand).resolves({ SecretString: `not json ${PASSWORD}` });
    const run = await runCli(["admin-password", "--outputs", outputsFile, "--force"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("is not a JSON object with username and password");
    expect(run.stderr).not.toContain(PASSWORD);
  });

  it("access denied names the call", async () => {
    stack.mocks.secrets
      .on(GetSecretValueCommand)
      .rejects(awsError("AccessDeniedException", "not authorized to perform: secretsmanager:GetSecretValue"));
    const run = await runCli(["admin-password", "--outputs", outputsFile], { stdoutIsTTY: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "error: access denied to Secrets Manager GetSecretValue (AccessDeniedException): " +
        "the AWS identity in use lacks that permission; see Operator permissions in docs/operations.md",
    );
  });
});

describe("rotate-admin-password", () => {
  it("stages a new password, sets it on the host by version id, makes it current; it never leaves AWS", async () => {
    const run = await runCli(["rotate-admin-password", "--outputs", outputsFile, "--json"]);
    expect(run.code).toBe(0);
    const put = stack.mocks.secrets.commandCalls(PutSecretValueCommand)[0].args[0].input;
    const staged = JSON.parse(put.SecretString!);
    expect(staged.username).toBe("admin");
    expect(staged.password).toMatch(/^[A-Za-z0-9_-]{30,}$/);
    expect(put.VersionStages).toEqual(["AWSPENDING"]);
    expect(stack.host.scripts[0]).toContain(`--version-id ${put.ClientRequestToken}`);
    expect(stack.host.scripts[0]).not.toContain(staged.password);
    expect(stack.mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)[0].args[0].input).toMatchObject({
      VersionStage: "AWSCURRENT",
      MoveToVersionId: put.ClientRequestToken,
      RemoveFromVersionId: "v-current",
    });
    expect(JSON.parse(run.stdout)).toEqual({ command: "rotate-admin-password", ok: true, username: "admin" });
    expect(run.stdout + run.stderr).not.toContain(staged.password);
  });

  it("leaves the current password in place when the host cannot set the new one", async () => {
    stack.host.handle = () => ({ exitCode: 1, stderr: "no OpenEMR user named admin\n" });
    const run = await runCli(["rotate-admin-password", "--outputs", outputsFile]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      "Verdict: FAILED: OpenEMR was not updated (no OpenEMR user named admin); the current password still works",
    );
    expect(stack.mocks.secrets.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });
});
