// What every rule must carry for the pack and the report: a stable kebab-case id that names its
// file in its area's folder, a description, citations that are 45 CFR 164 sections, a severity,
// an enforcement level and remediation text.
import { existsSync } from "fs";
import * as path from "path";
import { describe, expect, it } from "vitest";
import { allRules } from "../../../policies/rules";
import { cite, citeInferred, sections } from "../../../policies/rules/citations";

const rulesDir = path.join(__dirname, "..", "..", "..", "policies", "rules");
const SECTION = /^164\.(308|310|312)\([a-z]\)(\(\d+\)(\([ivx]+\))?(\([A-Z]\))?)?$/;

describe("rule metadata", () => {
  it("holds at least 60 rules with unique ids", () => {
    expect(allRules.length).toBeGreaterThanOrEqual(60);
    expect(new Set(allRules.map((rule) => rule.id)).size).toBe(allRules.length);
  });

  it.each(allRules.map((rule) => [rule.id, rule] as const))(
    "%s: one file named after it, complete metadata",
    (id, rule) => {
      expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(existsSync(path.join(rulesDir, rule.area, `${id}.ts`)), `policies/rules/${rule.area}/${id}.ts`).toBe(true);
      expect(rule.description.length).toBeGreaterThan(20);
      expect(rule.remediation.length).toBeGreaterThan(20);
      expect(["critical", "high", "medium", "low"]).toContain(rule.severity);
      expect(["mandatory", "advisory"]).toContain(rule.enforcement);
      expect(rule.citations.length).toBeGreaterThan(0);
      for (const citation of rule.citations) expect(citation.section).toMatch(SECTION);
      expect(
        new Set(rule.citations.map((citation) => citation.inferred)).size,
        "all citations of a rule share its inferred flag",
      ).toBe(1);
    },
  );

  it("spreads the catalog's citation groups into sections, marking inferred ones", () => {
    expect(cite(...sections.ENC, "164.312(c)(2)")).toEqual([
      { section: "164.312(a)(2)(iv)", inferred: false },
      { section: "164.312(e)(2)(ii)", inferred: false },
      { section: "164.312(c)(2)", inferred: false },
    ]);
    expect(citeInferred(...sections.TLS).map((citation) => citation.section)).toEqual([...sections.TLS]);
    expect(citeInferred(...sections.TLS).every((citation) => citation.inferred)).toBe(true);
    for (const group of Object.values(sections)) for (const section of group) expect(section).toMatch(SECTION);
  });
});
