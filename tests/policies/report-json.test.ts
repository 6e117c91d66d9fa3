import { describe, expect, it } from "vitest";
import { REPORT_FORMAT } from "../../policies/audit/report";
import type { ResourceRule } from "../../policies/rules/types";
import { fixtureReport, logRetentionRule, testRules } from "./audit-fixtures";

const justification = "The application log group is exported nightly to the archive bucket.";

describe("the report model (report.json)", () => {
  it("summarises results and fails on a mandatory failure", async () => {
    const report = await fixtureReport({ retentionInDays: 30, versioning: "Suspended" });
    expect(report.format).toBe(REPORT_FORMAT);
    expect(report.stack).toMatchObject({ project: "openemr-aws", name: "fixture", tier: "standard", configFile: null });
    expect(report.result).toBe("fail");
    // app log group (retention), both buckets (versioning): three mandatory failures.
    expect(report.summary.blockingFailures).toBe(3);
    expect(report.summary.rules).toBe(3);
    expect(report.summary.ruleStatus).toEqual({ fail: 3, unknown: 0, waived: 0, pass: 0, "not-applicable": 0 });
    expect(report.summary.resultStatus).toEqual({ fail: 4, unknown: 0, waived: 0, pass: 2, "not-applicable": 0 });
  });

  it("passes when only advisory rules fail", async () => {
    const report = await fixtureReport({ rules: testRules.filter((rule) => rule.id !== "test-bucket-versioned") });
    expect(report.rules.find((rule) => rule.id === "test-bucket-tagged")!.status).toBe("fail");
    expect(report.result).toBe("pass");
  });

  it("lists each rule's resources failing first, with message and evidence", async () => {
    const report = await fixtureReport({ retentionInDays: 30 });
    const retention = report.rules.find((rule) => rule.id === "test-log-retention")!;
    expect(retention.results.map((result) => [result.resource.name, result.status])).toEqual([
      ["app", "fail"],
      ["audit", "pass"],
    ]);
    expect(retention.results[0]).toMatchObject({
      blocking: true,
      message: expect.stringContaining("retentionInDays is 30"),
      evidence: { retentionInDays: 30 },
    });
    expect(retention.results[0].resource.urn).toMatch(/[:$]aws:cloudwatch\/logGroup:LogGroup::app$/);
  });

  it("groups rules under the 45 CFR sections they cite, in regulation order, marking inferred citations", async () => {
    const report = await fixtureReport();
    expect(report.controls.map((control) => control.section)).toEqual([
      "164.308(a)(1)(ii)(A)",
      "164.308(a)(7)(ii)(A)",
      "164.312(b)",
      "164.312(c)(1)",
    ]);
    const audit = report.controls.find((control) => control.section === "164.312(b)")!;
    expect(audit).toMatchObject({
      title: "Audit controls",
      inferred: false,
      rules: [{ id: "test-log-retention", inferred: false, status: "pass" }],
    });
    expect(report.controls[0]).toMatchObject({
      title: "Risk analysis",
      inferred: true,
      status: "fail",
      blocking: false,
      rules: [{ id: "test-bucket-tagged", status: "fail", blocking: false }],
    });
    expect(report.controls.find((control) => control.section === "164.312(c)(1)")).toMatchObject({
      status: "fail",
      blocking: true,
    });
  });

  it("shows a waiver's justification on the result it waives and the state of every waiver", async () => {
    const report = await fixtureReport({
      retentionInDays: 30,
      waivers: [
        { rule: "test-log-retention", resource: "app", justification, approvedBy: "privacy officer" },
        { rule: "test-log-retention", resource: "audit", justification },
        { rule: "test-bucket-versioned", resource: "scratch", justification, expires: "2026-01-31" },
      ],
    });
    const app = report.rules
      .find((rule) => rule.id === "test-log-retention")!
      .results.find((result) => result.resource.name === "app")!;
    expect(app).toMatchObject({
      status: "waived",
      blocking: false,
      waiver: { justification, approvedBy: "privacy officer" },
    });
    expect(report.waivers.map((waiver) => waiver.state)).toEqual(["applied", "unused", "expired"]);
    expect(
      report.rules
        .find((rule) => rule.id === "test-bucket-versioned")!
        .results.find((result) => result.resource.name === "scratch")!.status,
    ).toBe("fail");
  });

  it("marks a rule with no resource in scope not applicable", async () => {
    const rdsOnly: ResourceRule = {
      ...logRetentionRule,
      id: "test-rds-only",
      resourceTypes: ["aws:rds/instance:Instance"],
    };
    const report = await fixtureReport({ rules: [rdsOnly] });
    expect(report.rules[0]).toMatchObject({ status: "not-applicable", results: [] });
    expect(report.controls[0].status).toBe("not-applicable");
  });

  it("never carries a secret value, wherever a rule copies it", async () => {
    const leaky: ResourceRule = {
      ...logRetentionRule,
      id: "test-leaky",
      resourceTypes: ["aws:secretsmanager/secretVersion:SecretVersion"],
      evaluate: (resource) => ({
        status: "fail",
        message: `value is ${resource.props.secretString}`,
        evidence: { secretString: resource.props.secretString, copy: [`x ${resource.props.secretString} y`] },
      }),
    };
    const report = await fixtureReport({ rules: [leaky] });
    const text = JSON.stringify(report);
    expect(text).not.toContain("correct horse battery staple");
    expect(report.rules[0].results[0]).toMatchObject({
      message: "value is [secret]",
      evidence: { secretString: "[secret]", copy: ["x [secret] y"] },
    });
  });
});
