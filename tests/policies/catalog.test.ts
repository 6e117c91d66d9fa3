// docs/rules.md is generated from the rules (`npm run docs:rules`): it must match them, list each
// rule under its area, and mark inferred citations as the audit reports do.
import { readFileSync } from "fs";
import { describe, expect, it } from "vitest";
import { RULE_CATALOG_PATH, renderRuleCatalog } from "../../policies/catalog";
import { allRules } from "../../policies/rules";
import type { ResourceRule } from "../../policies/rules/types";
import { logRetentionRule } from "./audit-fixtures";

describe("the rule catalog, docs/rules.md", () => {
  it("is what `npm run docs:rules` generates from the rules", () => {
    const committed = readFileSync(RULE_CATALOG_PATH, "utf8");
    expect(committed, "docs/rules.md is stale: run `npm run docs:rules`").toBe(renderRuleCatalog());
  });

  it("lists every rule once, in its area's table, with its inferred citations marked", () => {
    const catalog = renderRuleCatalog();
    for (const rule of allRules) {
      const rows = catalog.split("\n").filter((line) => line.startsWith(`| \`${rule.id}\` |`));
      expect(rows, rule.id).toHaveLength(1);
      const areaHeading = catalog.lastIndexOf("\n## ", catalog.indexOf(rows[0]));
      expect(catalog.slice(areaHeading + 1), rule.id).toMatch(new RegExp(`^## ${rule.area}\n`));
      const cited = rule.citations.map(({ section, inferred }) => (inferred ? `${section} (inferred)` : section));
      expect(rows[0], rule.id).toContain(` | ${cited.join(", ")} | `);
    }
  });

  it("shows a tier's enforcement override beside the default", () => {
    expect(renderRuleCatalog()).toMatch(/^\| `rds-multi-az` \|.* \| advisory \(mandatory on `ha`\) \|/m);
  });

  it("shows when a rule becomes mandatory because the stack opted into what it checks", () => {
    expect(renderRuleCatalog()).toMatch(
      /^\| `s3-replication` \|.* \| advisory \(mandatory when the stack declares a copy region .*\) \|/m,
    );
    expect(renderRuleCatalog()).toMatch(
      /^\| `backup-vault-lock` \|.* \| advisory \(mandatory when the stack declares/m,
    );
  });

  it("keeps a row intact when a rule's text holds a pipe, a star, an angle bracket or a newline", () => {
    const awkward: ResourceRule = {
      ...logRetentionRule,
      description: 'Allows "*" only on logs.<region>.amazonaws.com | nowhere else,\nand `a|b` stays code.',
    };
    const row = renderRuleCatalog([awkward])
      .split("\n")
      .find((line) => line.startsWith("| `test-log-retention` |"));
    expect(row).toContain(
      '| Allows "\\*" only on logs.\\<region>.amazonaws.com \\| nowhere else, and `a\\|b` stays code. |',
    );
  });
});
