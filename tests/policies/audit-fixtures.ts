// Small rules and a small program for the engine, pack and report tests: they exercise the
// framework on its own, independent of the real rule set and stack.
import { readFileSync } from "fs";
import Ajv from "ajv-draft-04";
import addFormats from "ajv-formats";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { runOffline } from "../../infra/offline/run";
import { auditRun } from "../../policies/audit";
import type { Report } from "../../policies/audit/report";
import type { ResourceRule, Rule, StackRule } from "../../policies/rules/types";
import { defaultSettings } from "../../policies/settings";
import type { Waiver } from "../../policies/waivers";

const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const BUCKET = "aws:s3/bucket:Bucket";
const BUCKET_VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";

export const logRetentionRule: ResourceRule = {
  kind: "resource",
  id: "test-log-retention",
  area: "logs",
  description: "Log groups keep logs at least the minimum retention.",
  citations: [{ section: "164.312(b)", inferred: false }],
  severity: "medium",
  enforcement: "mandatory",
  remediation: "Set retentionInDays to at least the minimum.",
  resourceTypes: [LOG_GROUP],
  evaluate(resource, { settings }) {
    const days = resource.props.retentionInDays;
    const evidence = { retentionInDays: days };
    if (typeof days === "number" && days >= settings.minLogRetentionDays) return { status: "pass", evidence };
    return {
      status: "fail",
      message:
        `log group ${resource.name}: retentionInDays is ${days ?? "unset"}, ` +
        `expected >= ${settings.minLogRetentionDays}`,
      evidence,
    };
  },
};

export const bucketTaggedRule: ResourceRule = {
  kind: "resource",
  id: "test-bucket-tagged",
  area: "tagging",
  description: "Buckets carry the data-classification tag.",
  citations: [{ section: "164.308(a)(1)(ii)(A)", inferred: true }],
  severity: "low",
  enforcement: "advisory",
  remediation: "Tag the bucket.",
  resourceTypes: [BUCKET],
  evaluate(resource, { settings }) {
    const { key, value } = settings.dataClassificationTag;
    // Providers receive object inputs JSON-encoded, in the engine as in the capture.
    const defaultTags = resource.provider?.props.defaultTags;
    const providerTags = typeof defaultTags === "string" ? JSON.parse(defaultTags).tags : defaultTags?.tags;
    const tagged = resource.props.tags?.[key] ?? providerTags?.[key];
    const evidence = { [`tags.${key}`]: tagged };
    return tagged === value
      ? { status: "pass", evidence }
      : {
          status: "fail",
          message: `bucket ${resource.name}: tags.${key} is ${tagged ?? "unset"}, expected ${value}`,
          evidence,
        };
  },
};

/** Joins each bucket to its separate versioning resource, through the bucket's computed id. */
export const bucketVersionedRule: StackRule = {
  kind: "stack",
  id: "test-bucket-versioned",
  area: "storage",
  description: "Every bucket has versioning enabled.",
  citations: [
    { section: "164.308(a)(7)(ii)(A)", inferred: false },
    { section: "164.312(c)(1)", inferred: false },
  ],
  severity: "high",
  enforcement: "mandatory",
  remediation: "Add a BucketVersioning resource with status Enabled.",
  evaluate(resources) {
    const versioning = resources.filter((resource) => resource.type === BUCKET_VERSIONING);
    return resources
      .filter((resource) => resource.type === BUCKET)
      .map((bucket) => {
        const status = versioning.find((item) => item.props.bucket === bucket.props.id)?.props.versioningConfiguration
          ?.status;
        const evidence = { "versioningConfiguration.status": status };
        return {
          urn: bucket.urn,
          outcome:
            status === "Enabled"
              ? { status: "pass", evidence }
              : {
                  status: "fail",
                  message:
                    `bucket ${bucket.name}: versioningConfiguration.status ` +
                    `is ${status ?? "unset"}, expected Enabled`,
                  evidence,
                },
        };
      });
  },
};

export const testRules: Rule[] = [logRetentionRule, bucketTaggedRule, bucketVersionedRule];

export interface TestProgramOptions {
  /** Retention of the application log group. */
  retentionInDays?: number;
  /** Versioning status of the "records" bucket. */
  versioning?: "Enabled" | "Suspended";
}

/**
 * Two buckets (one tagged through its provider's default tags, one versioned), two log
 * groups, a component and a secret: enough to exercise every path of the engine.
 */
export function testProgram(options: TestProgramOptions = {}) {
  return () => {
    const { key, value } = defaultSettings.dataClassificationTag;
    const tagged = new aws.Provider("tagged", { region: "us-east-1", defaultTags: { tags: { [key]: value } } });
    const component = new pulumi.ComponentResource("test:index:Storage", "storage");
    const records = new aws.s3.Bucket("records", {}, { parent: component, provider: tagged });
    new aws.s3.BucketVersioning(
      "records-versioning",
      { bucket: records.id, versioningConfiguration: { status: options.versioning ?? "Enabled" } },
      { parent: component },
    );
    new aws.s3.Bucket("scratch", { tags: { purpose: "scratch" } }, { parent: component });
    new aws.cloudwatch.LogGroup("app", { retentionInDays: options.retentionInDays ?? 365 });
    new aws.cloudwatch.LogGroup("audit", { retentionInDays: 731 });
    const secret = new aws.secretsmanager.Secret("admin");
    new aws.secretsmanager.SecretVersion("admin-value", {
      secretId: secret.id,
      secretString: pulumi.secret("correct horse battery staple"),
    });
    return { recordsBucket: records.bucket };
  };
}

/** The fixture program audited with the fixture rules: a report with every kind of result. */
export async function fixtureReport(
  options: TestProgramOptions & { waivers?: Waiver[]; rules?: Rule[] } = {},
): Promise<Report> {
  const run = await runOffline(testProgram(options), { stack: "fixture" });
  return auditRun(run, {
    rules: options.rules ?? testRules,
    waivers: options.waivers ?? [],
    settings: defaultSettings,
    configFile: null,
    now: new Date("2026-11-26T12:00:00Z"),
  });
}

// The SARIF 2.1.0 JSON schema as published by OASIS (rtm.5, the schema of the 2.1.0
// standard), shipped in @microsoft/jest-sarif; it is written in JSON Schema draft-04.
const sarifSchema = JSON.parse(
  readFileSync(require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"), "utf8"),
);
// unicodeRegExp off: the schema's language-tag pattern is valid only as a non-unicode RegExp.
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv);
const validateSarif = ajv.compile(sarifSchema);

/** Schema violations of a SARIF log, one line each; empty when it is valid SARIF 2.1.0. */
export function sarifSchemaErrors(log: unknown): string[] {
  return validateSarif(log)
    ? []
    : (validateSarif.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}
