import { readFileSync } from "fs";
import * as path from "path";
import { describe, expect, it, vi } from "vitest";
import { parse } from "yaml";
import type { PolicyPackArgs } from "@pulumi/policy";
import { allRules } from "../../policies/rules";
import { enforcementFor } from "../../policies/rules/enforcement";
import { defaultSettings } from "../../policies/settings";
import { loadWaivers } from "../../policies/waivers";

// The real PolicyPack constructor starts the analyzer's gRPC server and keeps the process
// alive; here it only records what the entry file hands it.
const constructed = vi.hoisted(() => [] as { name: string; args: PolicyPackArgs }[]);
vi.mock("@pulumi/policy", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@pulumi/policy")>()),
  PolicyPack: class {
    constructor(name: string, args: PolicyPackArgs) {
      constructed.push({ name, args });
    }
  },
}));

const root = path.resolve(__dirname, "../..");
const policiesDir = path.join(root, "policies");

describe("the policy pack entry (policies/index.ts)", () => {
  it("constructs one pack whose policies are allRules, with their enforcement, severity and kind", async () => {
    await import("../../policies/index");
    expect(constructed).toHaveLength(1);
    const [{ name, args }] = constructed;
    expect(name).toBe(JSON.parse(readFileSync(path.join(policiesDir, "package.json"), "utf8")).name);
    expect(args.policies.map((policy) => policy.name)).toEqual(allRules.map((rule) => rule.id));
    args.policies.forEach((policy, index) => {
      const rule = allRules[index];
      expect(policy.enforcementLevel).toBe(enforcementFor(rule, defaultSettings));
      expect(policy.severity).toBe(rule.severity);
      expect(policy.remediationSteps).toBe(rule.remediation);
      expect("validateStack" in policy).toBe(rule.kind === "stack");
      expect("validateResource" in policy).toBe(rule.kind === "resource");
      expect(Object.keys(policy.configSchema?.properties ?? {})).toEqual(
        expect.arrayContaining(["waivers", "tier", "minLogRetentionDays"]),
      );
    });
  });

  it("pins @pulumi/policy and @pulumi/pulumi to the root's versions, for the nodejs runtime", () => {
    const pack = JSON.parse(readFileSync(path.join(policiesDir, "package.json"), "utf8"));
    const project = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    expect(pack.dependencies["@pulumi/policy"]).toBe("1.21.0");
    expect(pack.dependencies["@pulumi/pulumi"]).toBe("3.248.0");
    for (const [dependency, version] of Object.entries<string>(pack.dependencies))
      expect(project.dependencies[dependency], dependency).toBe(version);
    expect(parse(readFileSync(path.join(policiesDir, "PulumiPolicy.yaml"), "utf8"))).toMatchObject({
      runtime: "nodejs",
    });
  });

  it("is compiled as the CommonJS, strict module pulumi loads (pack-runner.test.ts loads it for real)", () => {
    const compilerOptions = JSON.parse(readFileSync(path.join(policiesDir, "tsconfig.json"), "utf8")).compilerOptions;
    expect(compilerOptions).toMatchObject({ module: "commonjs", strict: true });
  });

  it("ships waivers that each name a rule of the pack and say why", () => {
    const ids = new Set(allRules.map((rule) => rule.id));
    const waivers = loadWaivers();
    for (const waiver of waivers) {
      expect(ids.has(waiver.rule), waiver.rule).toBe(true);
      expect(waiver.justification.length).toBeGreaterThan(40);
    }
  });
});
