// The command line itself: help everywhere, exit codes, usage errors naming the argument,
// and where stack outputs come from.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli";
import { installFakePulumi } from "./support/fake-pulumi";
import { mockStack, stackOutputs, writeOutputs } from "./support/stack";

const COMMANDS = [
  "health",
  "backup",
  "backups",
  "restore",
  "drill",
  "admin-password",
  "rotate-admin-password",
  "rotate-db-password",
  "upgrade",
  "logs",
  "provision",
];

describe("help", () => {
  it("the top-level help lists every command and exits 0", async () => {
    const run = await runCli(["--help"]);
    expect(run.code).toBe(0);
    for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  for (const command of COMMANDS) {
    it(`${command} --help shows its usage and the stack options, exit 0`, async () => {
      const run = await runCli([command, "--help"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`Usage: openemr-ops ${command} [options]`);
      for (const option of ["--stack <name>", "--outputs <file>", "--region <region>", "--json"])
        expect(run.stdout).toContain(option);
    });
  }
});

describe("usage errors exit 2 and name the argument", () => {
  const cases: [string[], string][] = [
    [["frobnicate"], "error: unknown command 'frobnicate'"],
    [["health", "--colour"], "error: unknown option '--colour'"],
    [
      ["health", "--timeout", "0"],
      `error: option '--timeout <seconds>' argument '0' is invalid. expected a positive whole number, got "0"`,
    ],
    [
      ["backups", "--limit", "ten"],
      `error: option '--limit <count>' argument 'ten' is invalid. expected a positive whole number, got "ten"`,
    ],
    [
      ["upgrade", "--to", "8.3"],
      "error: option '--to <version>' argument '8.3' is invalid. " +
        'expected a release version X.Y.Z (e.g. 8.3.1), got "8.3"',
    ],
    [
      ["upgrade", "--to", "8.3.1", "--sha256", "xyz"],
      `error: option '--sha256 <hex>' argument 'xyz' is invalid. expected 64 lowercase hex digits, got "xyz"`,
    ],
    [
      ["restore", "--new-database", "drop table"],
      "error: option '--new-database <name>' argument 'drop table' is invalid. " +
        'expected a database name of letters, digits and _ (at most 64), got "drop table"',
    ],
    [[], "Usage: openemr-ops [options] [command]"],
  ];
  for (const [argv, message] of cases) {
    it(`openemr-ops ${argv.join(" ") || "(nothing)"}`, async () => {
      const run = await runCli(argv);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message);
    });
  }
});

describe("stack outputs", () => {
  let stack: ReturnType<typeof mockStack>;
  beforeEach(() => (stack = mockStack()));
  afterEach(() => stack.reset());

  it("an unreadable --outputs file is a usage error", async () => {
    const run = await runCli(["backups", "--outputs", "/nonexistent/outputs.json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "error: --outputs: cannot read /nonexistent/outputs.json (ENOENT); " +
        "expected the JSON of `pulumi stack output --json`",
    );
  });

  it("an --outputs file that is not JSON is a usage error", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "ops-")), "outputs.json");
    writeFileSync(file, "url: https://x\n");
    const run = await runCli(["backups", "--outputs", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`error: --outputs ${file}: not JSON; expected the JSON of \`pulumi stack output --json\``);
  });

  it("a missing output is named with the command that needs it", async () => {
    const outputs = stackOutputs("https://emr.example.org/");
    delete outputs.hostInstanceId;
    const run = await runCli(["backup", "--outputs", writeOutputs(outputs)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: stack output "hostInstanceId" is needed by backup but it is missing; ' +
        "expected a non-empty string (is the stack deployed, and is --stack/--outputs the right one?)",
    );
  });

  it("the standard tier's health needs dbInstanceIdentifier", async () => {
    const run = await runCli([
      "health",
      "--outputs",
      writeOutputs(stackOutputs("https://emr.example.org/", { dbInstanceIdentifier: "" })),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: stack output "dbInstanceIdentifier" is needed by health on the standard tier but got ""; ' +
        "expected a non-empty string (is the stack deployed, and is --stack/--outputs the right one?)",
    );
  });

  it("without --outputs and without the Pulumi CLI, says to pass --outputs", async () => {
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), "empty-path-"));
    try {
      const run = await runCli(["backups"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        "error: no stack outputs: pass --outputs FILE (the JSON of `pulumi stack output --json`), " +
          "or install the Pulumi CLI and pass --stack",
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it("with the Pulumi CLI on PATH, reads them with `pulumi stack output` for --stack, secrets hidden", async () => {
    const pulumi = installFakePulumi();
    try {
      pulumi.setOutputs(stackOutputs("https://emr.example.org/"));
      const run = await runCli(["backups", "--stack", "clinic-prod", "--json"]);
      expect(run.code).toBe(0);
      expect(pulumi.calls()).toEqual([["stack", "output", "--json", "--show-secrets=false", "--stack", "clinic-prod"]]);
    } finally {
      pulumi.restorePath();
    }
  });

  it("--stack without the Pulumi CLI on PATH says the CLI could not be started and what to do", async () => {
    const path = process.env.PATH;
    process.env.PATH = mkdtempSync(join(tmpdir(), "empty-path-"));
    try {
      const run = await runCli(["health", "--stack", "clinic-prod"]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        "error: --stack clinic-prod: the Pulumi CLI could not be started: `pulumi` is not on PATH; " +
          "install it (https://www.pulumi.com/docs/install/) and log in, " +
          "or pass --outputs FILE (the JSON of `pulumi stack output --json`)",
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it("--stack with a Pulumi CLI that cannot run says it could not be started, with the shell's reason", async () => {
    const pulumi = installFakePulumi();
    writeFileSync(join(pulumi.dir, "pulumi"), "#!/nonexistent/interpreter\n");
    try {
      const run = await runCli(["health", "--stack", "clinic-prod"]);
      expect(run.code).toBe(1);
      // bash says "bad interpreter" (exit 126) or "required file not found" (exit 127), by version.
      expect(run.stderr).toMatch(
        /^error: --stack clinic-prod: the Pulumi CLI could not be started \(exit 12[67]: .*\/pulumi: /,
      );
      expect(run.stderr).toMatch(
        /; reinstall it \(https:\/\/www\.pulumi\.com\/docs\/install\/\) and log in, or pass --outputs/,
      );
    } finally {
      pulumi.restorePath();
    }
  });

  it("--stack with an unreachable backend shows Pulumi's first error line, not its upgrade notice", async () => {
    const pulumi = installFakePulumi();
    pulumi.failStackOutput(
      255,
      [
        'error: failed to get stack clinic-prod: Get "https://api.pulumi.com/api/user": ' +
          "dial tcp: lookup api.pulumi.com: no such host",
        "warning: A new version of Pulumi is available. To upgrade from version '3.265.0' to '3.266.0', run",
        "   $ curl -sSL https://get.pulumi.com | sh",
        "or visit https://pulumi.com/docs/install/ for manual instructions and release notes.",
        "",
      ].join("\n"),
    );
    try {
      const run = await runCli(["health", "--stack", "clinic-prod"]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        "error: --stack clinic-prod: `pulumi stack output` ran and failed (exit 255): " +
          'error: failed to get stack clinic-prod: Get "https://api.pulumi.com/api/user": ' +
          "dial tcp: lookup api.pulumi.com: no such host; " +
          "check the login (`pulumi whoami`) and the stack's name (`pulumi stack ls`), " +
          "or pass --outputs FILE (the JSON of `pulumi stack output --json`)",
      );
    } finally {
      pulumi.restorePath();
    }
  });
});

describe("the openemr-ops executable", () => {
  const bin = join(__dirname, "..", "..", "scripts", "openemr-ops.js");
  it("runs the TypeScript CLI and passes its exit code through", () => {
    const bad = spawnSync(process.execPath, [bin, "backups", "--limit", "-1"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("error: option '--limit <count>' argument '-1' is invalid.");
  });
});
