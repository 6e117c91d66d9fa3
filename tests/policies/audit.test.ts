import { execFile } from "child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { promisify } from "util";
import { describe, expect, it } from "vitest";
import { runAuditCli } from "../../policies/audit/cli";
import type { Report } from "../../policies/audit/report";
import { allRules } from "../../policies/rules";
import { loadWaivers } from "../../policies/waivers";
import { sarifSchemaErrors } from "./audit-fixtures";

const root = path.resolve(__dirname, "../..");
const examples = readdirSync(path.join(root, "config/examples")).filter((file) => /^Pulumi\..+\.yaml$/.test(file));

async function audit(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runAuditCli(argv, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => void (stderr += text),
  });
  return { code, stdout, stderr };
}

function outDir(): string {
  return mkdtempSync(path.join(tmpdir(), "audit-out-"));
}

function readReport(dir: string): Report {
  return JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8"));
}

describe("npm run audit", () => {
  it("audits the default configuration from a fresh checkout: four reports, no mandatory failure", async () => {
    const out = outDir();
    const { stdout, stderr } = await promisify(execFile)("npm", ["run", "--silent", "audit", "--", "--out", out], {
      cwd: root,
    });
    expect(stdout).toMatch(/^audit openemr-aws\/defaults \(tier standard\): PASS$/m);
    expect(stderr).not.toMatch(/\n\s+at /);
    for (const file of ["report.md", "report.json", "report.sarif", "report.html"])
      expect(existsSync(path.join(out, file)), file).toBe(true);
    const report = readReport(out);
    expect(report).toMatchObject({
      result: "pass",
      stack: { configFile: null, tier: "standard" },
      summary: { rules: allRules.length, blockingFailures: 0 },
    });
    expect(sarifSchemaErrors(JSON.parse(readFileSync(path.join(out, "report.sarif"), "utf8")))).toEqual([]);
  }, 180_000);

  it.each(examples)(
    "passes every mandatory rule on config/examples/%s, with each committed waiver applied",
    async (example) => {
      const out = outDir();
      const { code, stdout } = await audit(path.join(root, "config/examples", example), "--out", out);
      const report = readReport(out);
      const blocking = report.rules.flatMap((rule) =>
        rule.results.filter((result) => result.blocking).map((result) => `${rule.id}: ${result.message}`),
      );
      expect(blocking).toEqual([]);
      expect(code).toBe(0);
      expect(stdout).toContain("PASS");
      expect(report.stack.tier).toBe(example.replace(/^Pulumi\.|\.yaml$/g, ""));
      // The docs that show this example's plan state its resource count as the audit planned it.
      const docs = ["README.md", ...readdirSync(path.join(root, "docs")).map((file) => `docs/${file}`)];
      for (const doc of docs.filter((file) => file.endsWith(".md"))) {
        const stated = readFileSync(path.join(root, doc), "utf8").matchAll(
          new RegExp(`npm run plan -- config/examples/${example.replace(/\./g, "\\.")}\\s+# (\\d+) resources`, "g"),
        );
        for (const [, count] of stated) expect(Number(count), `${doc}: ${example}`).toBe(report.summary.resources);
      }
      // The copy region's resources exist only where the example sets openemr:copyRegion.
      const copies = readFileSync(path.join(root, "config/examples", example), "utf8").includes("copyRegion: us-");
      expect(report.waivers.map((waiver) => [waiver.rule, waiver.resource, waiver.state])).toEqual(
        loadWaivers().map((waiver) => [
          waiver.rule,
          waiver.resource,
          waiver.resource.startsWith("backup-storage-replica") && !copies ? "unused" : "applied",
        ]),
      );
    },
    120_000,
  );

  it("fails (exit 1) when a mandatory rule fails: the access-log waiver expired", async () => {
    const dir = outDir();
    const expired = path.join(dir, "waivers.yaml");
    const [waiver] = loadWaivers();
    writeFileSync(
      expired,
      `waivers:\n  - rule: ${waiver.rule}\n    resource: ${waiver.resource}\n` +
        `    justification: ${JSON.stringify(waiver.justification)}\n    expires: "2020-01-31"\n`,
    );
    const { code, stdout } = await audit("--waivers", expired, "--out", path.join(dir, "out"));
    expect(code).toBe(1);
    expect(stdout).toMatch(/FAIL$/m);
    expect(stdout).toContain(`FAIL ${waiver.rule}: `);
    const report = readReport(path.join(dir, "out"));
    expect(report.waivers[0].state).toBe("expired");
    expect(report.summary.blockingFailures).toBe(1);
  }, 120_000);

  it("rejects usage errors with exit 2 and a one-line message", async () => {
    const unknownOption = await audit("--bogus");
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--bogus'");

    const missing = await audit("Pulumi.nowhere.yaml");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Pulumi.nowhere.yaml: no such file");

    const badWaivers = path.join(outDir(), "waivers.yaml");
    writeFileSync(badWaivers, "waivers:\n  - rule: s3-sse-kms\n    resource: backup-storage-access-logs\n");
    const invalidWaivers = await audit("--waivers", badWaivers);
    expect(invalidWaivers).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("waivers.0 must have required property 'justification'"),
    });
    writeFileSync(
      badWaivers,
      "waivers:\n  - rule: s3-sse-kms\n    resource: backup-storage-access-logs\n" +
        '    justification: "Reviewed with the privacy officer in November."\n    expires: "2027-02-30"\n',
    );
    const impossibleDate = await audit("--waivers", badWaivers);
    expect(impossibleDate).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'expires of s3-sse-kms/backup-storage-access-logs is "2027-02-30", expected a real date YYYY-MM-DD',
      ),
    });
  });

  it("prints every configuration problem on its own line, with no stack trace", async () => {
    const stackFile = path.join(outDir(), "Pulumi.broken.yaml");
    writeFileSync(stackFile, "config:\n  openemr:tier: huge\n  openemr:azCount: 9\n");
    const { code, stderr } = await audit(stackFile, "--out", outDir());
    expect(code).toBe(2);
    const lines = stderr.trim().split("\n");
    expect(lines.some((line) => line.includes("openemr:tier") && line.includes("huge"))).toBe(true);
    expect(lines.some((line) => line.includes("openemr:azCount") && line.includes("9"))).toBe(true);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it("reads rule settings from --settings: a stricter retention fails the stack's 365-day log groups", async () => {
    const dir = outDir();
    const settingsFile = path.join(dir, "settings.yaml");
    writeFileSync(settingsFile, "minLogRetentionDays: 400\n");
    const { code, stdout } = await audit("--settings", settingsFile, "--out", path.join(dir, "out"));
    expect(code).toBe(1);
    expect(stdout).toContain("FAIL log-group-retention: ");
    const report = readReport(path.join(dir, "out"));
    expect(report.settings.minLogRetentionDays).toBe(400);
    expect(report.rules.filter((rule) => rule.blocking).map((rule) => rule.id)).toEqual(["log-group-retention"]);
  }, 120_000);

  it("rejects a settings file with a wrong key or value, one line per problem", async () => {
    const settingsFile = path.join(outDir(), "settings.yaml");
    writeFileSync(settingsFile, "minLogRetentionDays: a lot\nworldOpenPorts: 443\n");
    const invalid = await audit("--settings", settingsFile);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr.trim().split("\n")).toEqual([
      "audit: invalid settings file",
      `${settingsFile}: minLogRetentionDays is "a lot"; it must be integer`,
      `${settingsFile}: worldOpenPorts is 443; it must be array`,
    ]);
    writeFileSync(settingsFile, "logRetention: 400\n");
    const unknownKey = await audit("--settings", settingsFile);
    expect(unknownKey).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("logRetention is not a setting; expected one of minLogRetentionDays"),
    });
  });
});
