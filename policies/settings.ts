// The settings rules read, their safe defaults, and the JSON schema through which the pack's
// config (and the audit) may change them. Defaults are the strict end of each range: a pack
// run without config enforces the most, never the least.
import Ajv from "ajv";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { PolicySettings } from "./rules/types";

export const defaultSettings: PolicySettings = {
  minLogRetentionDays: 365,
  minBackupRetentionDays: 7,
  maxSecretRotationDays: 90,
  worldOpenPorts: [80, 443],
  dataClassificationTag: { key: "DataClassification", value: "PHI" },
  tier: "standard",
};

const settingsSchema: Record<keyof PolicySettings, PolicyConfigJSONSchema> = {
  minLogRetentionDays: {
    type: "integer",
    minimum: 1,
    default: defaultSettings.minLogRetentionDays,
    description: "Minimum retention of CloudWatch log groups, in days.",
  },
  minBackupRetentionDays: {
    type: "integer",
    minimum: 1,
    default: defaultSettings.minBackupRetentionDays,
    description: "Minimum retention of RDS automated backups and AWS Backup recovery points, in days.",
  },
  maxSecretRotationDays: {
    type: "integer",
    minimum: 1,
    maximum: 365,
    default: defaultSettings.maxSecretRotationDays,
    description: "Longest allowed rotation period of database secrets, in days.",
  },
  worldOpenPorts: {
    type: "array",
    items: { type: "integer", minimum: 0, maximum: 65535 },
    uniqueItems: true,
    default: defaultSettings.worldOpenPorts,
    description: "Ports that may be open to 0.0.0.0/0 or ::/0, and only on the load balancer's security group.",
  },
  dataClassificationTag: {
    type: "object",
    properties: { key: { type: "string", minLength: 1 }, value: { type: "string", minLength: 1 } },
    required: ["key", "value"],
    additionalProperties: false,
    default: defaultSettings.dataClassificationTag,
    description: "Tag key and value that mark PHI-bearing resources.",
  },
  tier: {
    type: "string",
    enum: ["single", "standard", "ha"],
    default: defaultSettings.tier,
    description: "Deployment tier of the stack under review; decides tier-dependent rules such as Multi-AZ on `ha`.",
  },
};

/** The settings' JSON schema properties, as a policy's `configSchema.properties`. */
export function settingsConfigSchema(): Record<string, PolicyConfigJSONSchema> {
  return structuredClone(settingsSchema);
}

const validateSettings = new Ajv({ allErrors: true }).compile({
  type: "object",
  properties: settingsSchema,
  additionalProperties: true,
});

/** A configuration problem, reported as one line per problem. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "SettingsError";
  }
}

/**
 * Settings from a policy's config (or an audit settings file): known keys are validated,
 * missing ones take their default, other keys (waivers, enforcementLevel) are ignored.
 */
export function settingsFromConfig(config: Record<string, unknown>, source = "policy config"): PolicySettings {
  if (!validateSettings(config)) {
    throw new SettingsError(
      (validateSettings.errors ?? []).map((error) => {
        const key = error.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(root)";
        return `${source}: ${key} is ${JSON.stringify(valueAt(config, error.instancePath))}; it ${error.message}`;
      }),
    );
  }
  const settings: PolicySettings = { ...defaultSettings };
  for (const key of Object.keys(settingsSchema) as (keyof PolicySettings)[]) {
    if (config[key] !== undefined) (settings as unknown as Record<string, unknown>)[key] = structuredClone(config[key]);
  }
  return settings;
}

export function valueAt(root: unknown, pointer: string): unknown {
  return pointer
    .split("/")
    .slice(1)
    .reduce<unknown>(
      (value, key) => (value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined),
      root,
    );
}
