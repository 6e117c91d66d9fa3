import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../policies/audit/markdown";
import type { ResourceRule } from "../../policies/rules/types";
import { fixtureReport, logRetentionRule } from "./audit-fixtures";

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
    expect(text).toContain("Result: **FAIL** (1 mandatory failure)");
    expect(text).toContain("- Rule catalog: docs/rules.md");
    const failures = text.slice(text.indexOf("## Failures"), text.indexOf("## Controls"));
    expect(failures).toContain(
      "| test-log-retention | mandatory | app | log group app: retentionInDays is 30, expected >= 365 |",
    );
    expect(failures).toContain("| test-bucket-tagged | advisory | scratch |");
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

  it("keeps table rows intact when a message holds a pipe or a newline", async () => {
    const awkward: ResourceRule = {
      ...logRetentionRule,
      evaluate: () => ({ status: "fail", message: "a | b\nc", evidence: { "tags.x|y": "1|2" } }),
    };
    const text = renderMarkdown(await fixtureReport({ rules: [awkward] }));
    expect(text).toContain('| app | aws:cloudwatch/logGroup:LogGroup | FAIL | a \\| b c | tags.x\\|y = "1\\|2" |');
  });
});
