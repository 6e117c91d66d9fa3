import { describe, expect, it } from "vitest";
import { renderSarif } from "../../policies/audit/sarif";
import { fixtureReport, sarifSchemaErrors as errorsOf } from "./audit-fixtures";

describe("report.sarif", () => {
  it("validates against the SARIF 2.1.0 schema", async () => {
    const report = await fixtureReport({
      retentionInDays: 30,
      waivers: [
        {
          rule: "test-bucket-versioned",
          resource: "scratch",
          justification: "Scratch data is regenerated from the records bucket.",
        },
      ],
    });
    const log = renderSarif(report, "0.1.0", "Pulumi.yaml");
    expect(errorsOf(JSON.parse(JSON.stringify(log)))).toEqual([]);
  });

  it("the schema check rejects a malformed log", async () => {
    const log = JSON.parse(
      JSON.stringify(renderSarif(await fixtureReport({ retentionInDays: 30 }), "0.1.0", "Pulumi.yaml")),
    );
    log.runs[0].results[0].level = "fatal";
    expect(errorsOf(log).length).toBeGreaterThan(0);
  });

  it("describes every rule and reports failures by enforcement, waivers as suppressions", async () => {
    const justification = "Scratch data is regenerated from the records bucket.";
    const report = await fixtureReport({
      retentionInDays: 30,
      waivers: [{ rule: "test-bucket-versioned", resource: "scratch", justification }],
    });
    const run = renderSarif(report, "0.1.0", "Pulumi.dev.yaml").runs[0];
    expect(run.tool.driver.rules!.map((rule) => rule.id)).toEqual([
      "test-log-retention",
      "test-bucket-tagged",
      "test-bucket-versioned",
    ]);
    expect(run.tool.driver.rules![0]).toMatchObject({
      name: "TestLogRetention",
      defaultConfiguration: { level: "error" },
      properties: { "security-severity": "5.5" },
    });
    const results = run.results!;
    const retention = results.find((result) => result.ruleId === "test-log-retention")!;
    expect(retention).toMatchObject({
      level: "error",
      kind: "fail",
      ruleIndex: 0,
      locations: [
        { physicalLocation: { artifactLocation: { uri: "Pulumi.dev.yaml" } }, logicalLocations: [{ name: "app" }] },
      ],
    });
    expect(results.find((result) => result.ruleId === "test-bucket-tagged")!.level).toBe("warning");
    const waived = results.find((result) => result.ruleId === "test-bucket-versioned")!;
    expect(waived.suppressions).toEqual([{ kind: "external", status: "accepted", justification }]);
    expect(results).toHaveLength(3);
  });
});
