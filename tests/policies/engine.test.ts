import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import {
  defaultSettings,
  evaluate,
  hasBlockingFailures,
  toPolicies,
  toRuleResources,
  type Evaluation,
} from "../../policies/engine";
import type { ResourceRule, RuleResource } from "../../policies/rules/types";
import { bucketTaggedRule, bucketVersionedRule, logRetentionRule, testProgram, testRules } from "./audit-fixtures";

// The engine's marker for a string not known before deployment; @pulumi/policy keeps it out of its typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { unknownStringValue } = require("@pulumi/policy/proxy") as { unknownStringValue: string };

function find(evaluations: Evaluation[], rule: string, resourceName: string): Evaluation {
  const found = evaluations.find(
    (evaluation) => evaluation.rule.id === rule && evaluation.resourceName === resourceName,
  );
  if (!found) throw new Error(`no evaluation of ${rule} on ${resourceName}`);
  return found;
}

let run: OfflineRun;
let resources: RuleResource[];
beforeAll(async () => {
  run = await runOffline(testProgram({ retentionInDays: 30 }));
  resources = toRuleResources(run);
});

describe("toRuleResources", () => {
  it("keeps custom resources only, with their provider joined", () => {
    expect(resources.some((resource) => resource.type === "test:index:Storage")).toBe(false);
    expect(resources.some((resource) => resource.type === "pulumi:pulumi:Stack")).toBe(false);
    const records = resources.find((resource) => resource.name === "records")!;
    expect(records.provider?.name).toBe("tagged");
    const { key, value } = defaultSettings.dataClassificationTag;
    expect(JSON.parse(records.provider?.props.defaultTags)).toEqual({ tags: { [key]: value } });
    expect(resources.find((resource) => resource.name === "scratch")!.provider).toBeUndefined();
  });

  it("gives inputs as props, secrets unwrapped, and the computed state as outputs", () => {
    const version = resources.find((resource) => resource.name === "admin-value")!;
    expect(version.props.secretString).toBe("correct horse battery staple");
    const records = resources.find((resource) => resource.name === "records")!;
    expect(records.props.id).toBeUndefined();
    expect(records.outputs?.id).toMatch(/^records-/);
  });
});

describe("evaluate", () => {
  it("runs resource rules only on resources of their types", () => {
    const seen: string[] = [];
    const spy: ResourceRule = {
      ...logRetentionRule,
      id: "spy",
      evaluate: (resource, context) => (seen.push(resource.type), logRetentionRule.evaluate(resource, context)),
    };
    const evaluations = evaluate([spy], resources);
    expect(seen).toEqual(["aws:cloudwatch/logGroup:LogGroup", "aws:cloudwatch/logGroup:LogGroup"]);
    expect(evaluations.map((evaluation) => evaluation.resourceName).sort()).toEqual(["app", "audit"]);
  });

  it("gives stack rules every resource, with outputs to join on", () => {
    const evaluations = evaluate([bucketVersionedRule], resources);
    expect(find(evaluations, "test-bucket-versioned", "records").status).toBe("pass");
    const scratch = find(evaluations, "test-bucket-versioned", "scratch");
    expect(scratch.status).toBe("fail");
    expect(scratch.resourceType).toBe("aws:s3/bucket:Bucket");
    expect(scratch.outcome).toMatchObject({ message: expect.stringContaining("versioningConfiguration.status") });
  });

  it("marks a mandatory failure blocking and an advisory one not", () => {
    const evaluations = evaluate(testRules, resources);
    const app = find(evaluations, "test-log-retention", "app");
    expect(app).toMatchObject({ status: "fail", enforcement: "mandatory", blocking: true });
    expect(find(evaluations, "test-log-retention", "audit")).toMatchObject({ status: "pass", blocking: false });
    expect(find(evaluations, "test-bucket-tagged", "scratch")).toMatchObject({
      status: "fail",
      enforcement: "advisory",
      blocking: false,
    });
    expect(find(evaluations, "test-bucket-tagged", "records").status).toBe("pass");
    expect(hasBlockingFailures(evaluations)).toBe(true);
  });

  it("passes settings to rules over the defaults", () => {
    expect(
      find(
        evaluate([logRetentionRule], resources, { settings: { minLogRetentionDays: 30 } }),
        "test-log-retention",
        "app",
      ).status,
    ).toBe("pass");
    expect(
      find(
        evaluate([logRetentionRule], resources, { settings: { minLogRetentionDays: 1000 } }),
        "test-log-retention",
        "audit",
      ).status,
    ).toBe("fail");
  });

  it("applies a waiver to one rule on one resource, by name or URN, until it expires", () => {
    const now = new Date("2026-11-26T12:00:00Z");
    const justification = "The application log group is exported nightly to the archive bucket.";
    const byName = evaluate(testRules, resources, {
      now,
      waivers: [{ rule: "test-log-retention", resource: "app", justification, expires: "2026-11-26" }],
    });
    expect(find(byName, "test-log-retention", "app")).toMatchObject({
      status: "waived",
      blocking: false,
      waiver: { justification },
    });
    expect(find(byName, "test-bucket-versioned", "scratch")).toMatchObject({ status: "fail", blocking: true });
    expect(byName.filter((evaluation) => evaluation.blocking)).toHaveLength(1);

    const appUrn = resources.find((resource) => resource.name === "app")!.urn;
    const byUrn = evaluate(testRules, resources, {
      now,
      waivers: [{ rule: "test-log-retention", resource: appUrn, justification }],
    });
    expect(find(byUrn, "test-log-retention", "app").status).toBe("waived");

    const otherRule = evaluate(testRules, resources, {
      now,
      waivers: [{ rule: "test-bucket-tagged", resource: "app", justification }],
    });
    expect(find(otherRule, "test-log-retention", "app").status).toBe("fail");

    const expired = evaluate(testRules, resources, {
      now,
      waivers: [{ rule: "test-log-retention", resource: "app", justification, expires: "2026-11-25" }],
    });
    expect(find(expired, "test-log-retention", "app")).toMatchObject({ status: "fail", blocking: true });
    expect(find(expired, "test-log-retention", "app").waiver).toBeUndefined();
  });

  it("applies enforcement overrides and skips disabled rules", () => {
    const evaluations = evaluate(testRules, resources, {
      enforcement: { "test-log-retention": "advisory", "test-bucket-versioned": "disabled" },
    });
    expect(find(evaluations, "test-log-retention", "app")).toMatchObject({
      status: "fail",
      blocking: false,
      enforcement: "advisory",
    });
    expect(evaluations.some((evaluation) => evaluation.rule.id === "test-bucket-versioned")).toBe(false);
  });

  it("reports a value unknown before deployment as unknown, not as a pass or a failure", () => {
    const unknownRetention: RuleResource = {
      urn: "urn:pulumi:s::p::aws:cloudwatch/logGroup:LogGroup::late",
      type: "aws:cloudwatch/logGroup:LogGroup",
      name: "late",
      props: { retentionInDays: unknownStringValue },
    };
    const evaluation = find(evaluate([logRetentionRule], [unknownRetention]), "test-log-retention", "late");
    expect(evaluation).toMatchObject({ status: "unknown", blocking: false });
    expect(evaluation.outcome).toMatchObject({
      status: "not-applicable",
      reason: expect.stringContaining(".retentionInDays"),
    });
  });

  it("names the rule and the resource when a rule throws", () => {
    const broken: ResourceRule = {
      ...logRetentionRule,
      id: "broken",
      evaluate: () => {
        throw new TypeError("boom");
      },
    };
    expect(() => evaluate([broken], resources)).toThrow(/rule broken failed while evaluating urn:.*::app: boom/);
  });
});

describe("toPolicies", () => {
  const base = { opts: {} as any, stackTags: new Map<string, string>(), isType: () => false, asType: () => undefined };
  class NotApplicable extends Error {}
  const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
  };

  it("maps each rule to a policy carrying its metadata and config schema", () => {
    const policies = toPolicies(testRules, []);
    expect(policies.map((policy) => policy.name)).toEqual(testRules.map((rule) => rule.id));
    expect(policies[0]).toMatchObject({
      enforcementLevel: "mandatory",
      severity: "medium",
      description: logRetentionRule.description,
    });
    expect(policies[1].enforcementLevel).toBe("advisory");
    expect("validateResource" in policies[0]).toBe(true);
    expect("validateStack" in policies[2]).toBe(true);
    expect(Object.keys(policies[0].configSchema!.properties)).toEqual(
      expect.arrayContaining(["minLogRetentionDays", "worldOpenPorts", "tier", "waivers"]),
    );
  });

  it("reports a violation with the rule's message, honours config and waivers, is n/a to other types", async () => {
    const [policy] = toPolicies(
      [logRetentionRule],
      [
        {
          rule: "test-log-retention",
          resource: "waived-group",
          justification: "Kept in the archive bucket for seven years.",
        },
      ],
    );
    if (!("validateResource" in policy) || typeof policy.validateResource !== "function")
      throw new Error("expected one resource validation");
    const validate = policy.validateResource;
    const violations: string[] = [];
    const args = (name: string, type: string, props: Record<string, any>, config: Record<string, unknown> = {}) => ({
      ...base,
      name,
      type,
      props,
      urn: `urn:pulumi:s::p::${type}::${name}`,
      getConfig: <T extends object>() => config as T,
      notApplicable,
    });
    await validate(args("short", "aws:cloudwatch/logGroup:LogGroup", { retentionInDays: 30 }), (message) =>
      violations.push(message),
    );
    expect(violations).toEqual([
      expect.stringMatching(/^log group short: retentionInDays is 30, expected >= 365 Remediation: /),
    ]);
    await validate(
      args("short", "aws:cloudwatch/logGroup:LogGroup", { retentionInDays: 30 }, { minLogRetentionDays: 30 }),
      (message) => violations.push(message),
    );
    await validate(args("waived-group", "aws:cloudwatch/logGroup:LogGroup", { retentionInDays: 30 }), (message) =>
      violations.push(message),
    );
    expect(violations).toHaveLength(1);
    // A pack config's `waivers` replaces the committed ones for that rule.
    await validate(
      args(
        "short",
        "aws:cloudwatch/logGroup:LogGroup",
        { retentionInDays: 30 },
        { waivers: [{ resource: "short", justification: "Archived to the records bucket nightly." }] },
      ),
      (message) => violations.push(message),
    );
    expect(violations).toHaveLength(1);
    await validate(
      args("waived-group", "aws:cloudwatch/logGroup:LogGroup", { retentionInDays: 30 }, { waivers: [] }),
      (message) => violations.push(message),
    );
    expect(violations).toHaveLength(2);
    expect(() => validate(args("bucket", "aws:s3/bucket:Bucket", {}), () => undefined)).toThrow(NotApplicable);
  });

  it("reports stack violations against the failing resource's URN", async () => {
    const [policy] = toPolicies([bucketVersionedRule], []);
    if (!("validateStack" in policy)) throw new Error("expected a stack policy");
    const reported: [string, string | undefined][] = [];
    const policyResources = resources.map((resource) => ({
      ...base,
      urn: resource.urn,
      type: resource.type,
      name: resource.name,
      props: resource.outputs!,
      dependencies: [],
      propertyDependencies: {},
    }));
    await policy.validateStack(
      { resources: policyResources, stackTags: new Map(), getConfig: <T extends object>() => ({}) as T, notApplicable },
      (message, urn) => reported.push([message, urn]),
    );
    expect(reported).toHaveLength(1);
    expect(reported[0][1]).toBe(resources.find((resource) => resource.name === "scratch")!.urn);
  });

  it("rejects invalid settings in the pack config with one line naming the key", async () => {
    const [policy] = toPolicies([bucketTaggedRule], []);
    if (!("validateResource" in policy) || typeof policy.validateResource !== "function")
      throw new Error("expected one resource validation");
    const validate = policy.validateResource;
    expect(() =>
      validate(
        {
          ...base,
          name: "b",
          type: "aws:s3/bucket:Bucket",
          props: {},
          urn: "urn:pulumi:s::p::aws:s3/bucket:Bucket::b",
          getConfig: <T extends object>() => ({ worldOpenPorts: "443" }) as T,
          notApplicable,
        },
        () => undefined,
      ),
    ).toThrow(/^policy config: worldOpenPorts is "443"; it must be array$/);
  });
});
