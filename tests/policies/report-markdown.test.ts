import { describe, expect, it } from "vitest";
import { PLACEHOLDERS } from "../../infra/offline/mocks";
import { renderMarkdown } from "../../policies/audit/markdown";
import type { ResourceRule } from "../../policies/rules/types";
import { fixtureReport, logRetentionRule, testRules } from "./audit-fixtures";

describe("report.md", () => {
  it("leads with the result and the failures, then controls, waivers and every rule", async () => {
    const justification = "The application log group is exported nightly to the archive bucket.";
    const text = renderMarkdown(
      await fixtureReport({
        retentionInDays: 30,
        waivers: [{ rule: "test-bucket-versioned", resource: "scratch", justification, approvedBy: "privacy officer" }],
      }),
    );
    expect(text).toMatch(/^# HIPAA Security Rule audit: openemr-aws \/ fixture\n/);
    expect(text).toContain("Result: **FAIL**: 1 mandatory failure, 1 advisory finding\n");
    expect(text).toContain("- Rule catalog: docs/rules.md");
    expect(text).toContain("- 8 resources, 3 rules: 2 failing (1 mandatory), 0 unknown, 1 waived");
    // The summary comes straight after the result: mandatory failures, then advisory findings.
    const failures = text.slice(text.indexOf("## Failures"), text.indexOf("- Tier:"));
    expect(text.indexOf("## Failures")).toBeGreaterThan(text.indexOf("Result:"));
    expect(failures.split("\n").filter((line) => /^\| (\*\*FAIL\*\*|ADVISORY) /.test(line))).toEqual([
      "| **FAIL** | [test-log-retention](#rule-test-log-retention) | medium | app | " +
        "log group app: retentionInDays is 30, expected >= 365 | Set retentionInDays to at least the minimum. |",
      "| ADVISORY | [test-bucket-tagged](#rule-test-bucket-tagged) | low | scratch | " +
        "bucket scratch: tags.DataClassification is unset, expected PHI | Tag the bucket. |",
    ]);
    expect(text).toContain('<a id="rule-test-log-retention"></a>\n\n### test-log-retention: FAIL');
    // Only an advisory rule fails under this control: it does not fail the audit, and says so.
    expect(text).toContain(
      "| 164.308(a)(1)(ii)(A) (inferred) | Risk analysis | " +
        "fail (advisory) | test-bucket-tagged (inferred): fail (advisory) |",
    );
    expect(text).toContain("| 164.312(b) | Audit controls | FAIL | test-log-retention: FAIL |");
    expect(text).toContain(
      `| test-bucket-versioned | scratch | applied | ${justification} | privacy officer | never |`,
    );
    expect(text).toContain(
      "| scratch | aws:s3/bucket:Bucket | WAIVED | bucket scratch: versioningConfiguration.status is unset, " +
        `expected Enabled Waived: ${justification} (approved by privacy officer) |`,
    );
    expect(text).toContain(
      "| app | aws:cloudwatch/logGroup:LogGroup | FAIL | " +
        "log group app: retentionInDays is 30, expected >= 365 | retentionInDays = 30 |",
    );
  });

  it("says PASS with the advisory findings when only advisory rules fail, plurals right", async () => {
    const text = renderMarkdown(
      await fixtureReport({ rules: testRules.filter((rule) => rule.id === "test-bucket-tagged") }),
    );
    expect(text).toContain("Result: **PASS** with 1 advisory finding\n");
    expect(text).toContain("No mandatory failure.");
    expect(text).toContain("- 8 resources, 1 rule: 1 failing (0 mandatory)");
    expect(text).not.toMatch(/\b1 (rules|results|resources)\b/);
  });

  it("lists the made-up values the results show (account id in an ARN) as placeholders", async () => {
    const arnRule: ResourceRule = {
      ...logRetentionRule,
      evaluate: (resource) => ({
        status: "fail",
        message: "x",
        evidence: { arn: `arn:aws:logs:us-east-1:${PLACEHOLDERS.accountId}:log-group:${resource.name}` },
      }),
    };
    const report = await fixtureReport({ rules: [arnRule] });
    expect(report.placeholders).toEqual({ [PLACEHOLDERS.accountId]: "AWS account id (known only at deploy time)" });
    const text = renderMarkdown(report);
    expect(text).toContain(
      "- Placeholders: values the offline plan made up (a deployed stack has its own); " +
        "a value containing one is not real:\n" +
        `  - \`${PLACEHOLDERS.accountId}\`: AWS account id (known only at deploy time)`,
    );
    // A report without any shows no such line, and its JSON no such field.
    const plain = await fixtureReport();
    expect([plain.placeholders, renderMarkdown(plain).includes("Placeholders")]).toEqual([undefined, false]);
  });

  it("keeps table rows intact when a message holds a pipe or a newline", async () => {
    const awkward: ResourceRule = {
      ...logRetentionRule,
      evaluate: () => ({ status: "fail", message: "a | b\nc", evidence: { "tags.x|y": "1|2" } }),
    };
    const text = renderMarkdown(await fixtureReport({ rules: [awkward] }));
    expect(text).toContain('| app | aws:cloudwatch/logGroup:LogGroup | FAIL | a \\| b c | tags.x\\|y = "1\\|2" |');
  });
});
