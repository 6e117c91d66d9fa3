// The stack configuration contract: config/schema.json says what a user may set; this module
// reads the `openemr:` namespace, validates it with ajv before any resource is declared, and
// reports every problem at once, one line each, naming the key, the value and what is expected.
import { readFileSync } from "fs";
import { basename } from "path";
import * as pulumi from "@pulumi/pulumi";
import Ajv, { ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { closest, distance } from "fastest-levenshtein";
import { parse as parseYaml } from "yaml";
import schema from "../config/schema.json";
import { canonicalCidr, cidrContains } from "./ipv4";
import { awsConstraintProblems } from "./aws-constraints";

export const CONFIG_NAMESPACE = "openemr";

export type Tier = "single" | "standard" | "ha";

/** Sign-in at the load balancer (`authentication`); the OIDC fields only with `type: oidc`. */
export interface AuthenticationConfig {
  type: "none" | "cognito" | "oidc";
  issuer?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  userInfoEndpoint?: string;
  clientId?: string;
  clientSecret?: string;
}

/** The fields `authentication: {type: oidc}` needs, all of them. */
export const OIDC_FIELDS = [
  "issuer",
  "authorizationEndpoint",
  "tokenEndpoint",
  "userInfoEndpoint",
  "clientId",
  "clientSecret",
] as const;

export interface StackConfig {
  tier: Tier;
  region: string;
  vpcCidr: string;
  azCount: number;
  interfaceEndpoints: "none" | "host-zone" | "all-zones";
  natGateway: "managed" | "instance";
  flowLogTrafficType: "ALL" | "REJECT";
  dnsFirewall: boolean;
  allowedCidrs: string[];
  wafSqliAndPhpRules: boolean;
  domain?: string;
  hostedZoneId?: string;
  /** An existing ACM certificate for `domain`; "" for none. */
  certificateArn: string;
  authentication: AuthenticationConfig;
  alertEmails: string[];
  dashboard: boolean;
  instanceType: string;
  rootVolumeGb: number;
  dataVolumeGb: number;
  dbInstanceClass: string;
  dbStorageGb: number;
  dbMaxStorageGb: number;
  multiAz: boolean;
  /** `ha`: the Auto Scaling group's fewest and most hosts. */
  haMinSize: number;
  haMaxSize: number;
  /** `ha`: the target-tracking target, load balancer requests per host per minute. */
  haTargetRequestsPerHost: number;
  efsThroughputMode: "elastic" | "bursting";
  sessionCacheNodeType: string;
  backupRetentionDays: number;
  objectLockDays: number;
  objectLockMode: "governance" | "compliance";
  backupExpiryDays: number;
  /** Second region for a copy of the backups; "" for none. */
  copyRegion: string;
  backupVaultLock: boolean;
  backupVaultLockChangeableDays: number;
  /** The one role that may change the backup buckets' policy; "" for none. */
  breakGlassRoleArn: string;
  keyAdminRoleArn: string;
  logRetentionDays: number;
  /** Retention of the audit-class logs (trail, DB audit, flow logs, auditd, sessions). */
  auditLogRetentionDays: number;
  guardDuty: boolean;
  securityHub: boolean;
  awsConfig: boolean;
  openemrVersion: string;
  openemrSha256?: string;
  uploadMaxMb: number;
  dbPasswordRotationDays: number;
  createCloudTrail: boolean;
  retainDataOnDestroy: boolean;
  costTags: Record<string, string>;
}

interface PropertySchema {
  type: "string" | "integer" | "boolean" | "array" | "object";
  description: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  items?: { type: string; format?: string };
}

export const configProperties = schema.properties as Record<keyof StackConfig, PropertySchema>;

/** A user's configuration mistake: printed as its problems, one per line, with no stack trace. */
export class ConfigError extends pulumi.RunError {
  readonly problems: string[];

  constructor(problems: string[], heading = "invalid stack configuration") {
    super(`${heading}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export interface ValidationResult {
  /** The configuration with defaults applied; absent when there are problems. */
  config?: StackConfig;
  problems: string[];
  /** Valid but risky choices worth a word to the user. */
  warnings: string[];
}

// IPv4 CIDR: four octets of 0-255 and a prefix of 0-32. ajv-formats has ipv4 but no CIDR.
const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;

// verbose: errors carry their schema, whose x-expected says what a pattern wants.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true });
addFormats(ajv, ["email", "hostname"]);
// Annotation only: the phrase a problem uses for what a pattern expects.
ajv.addKeyword({ keyword: "x-expected", schemaType: "string" });
// Annotation only: the tiers a key applies to; setting it on another tier earns a warning.
ajv.addKeyword({ keyword: "x-tiers", schemaType: "array" });
// Annotation only: a tier whose default differs from `default` (applied after validation).
ajv.addKeyword({ keyword: "x-tier-defaults", schemaType: "object" });
ajv.addFormat("ipv4-cidr", IPV4_CIDR);
const validateSchema = ajv.compile<StackConfig>(schema);

const expectations: Record<string, string> = {
  "ipv4-cidr": "an IPv4 CIDR such as 10.40.0.0/16",
  email: "an e-mail address such as alerts@example.org",
  hostname: "a DNS host name such as emr.example.org",
};

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

function keyOf(instancePath: string): string {
  // "/allowedCidrs/1" -> "openemr:allowedCidrs[1]"
  const [key, ...rest] = instancePath.split("/").filter(Boolean);
  return `${CONFIG_NAMESPACE}:${key}${rest.map((index) => `[${index}]`).join("")}`;
}

function valueAt(raw: Record<string, unknown>, instancePath: string): unknown {
  return instancePath
    .split("/")
    .filter(Boolean)
    .reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], raw);
}

/** "; did you mean X?" when one of CHOICES is close to GIVEN (a typo), else "". */
function didYouMean(given: string, choices: string[], shown: (choice: string) => string): string {
  const suggestion = closest(given, choices);
  return distance(given.toLowerCase(), suggestion.toLowerCase()) <= Math.max(2, given.length / 3)
    ? `; did you mean ${shown(suggestion)}?`
    : "";
}

function describeAjvError(error: ErrorObject, raw: Record<string, unknown>): string {
  const key = keyOf(error.instancePath);
  const given = show(valueAt(raw, error.instancePath));
  switch (error.keyword) {
    case "additionalProperties": {
      const unknown = error.params.additionalProperty as string;
      const hint = didYouMean(unknown, Object.keys(configProperties), (key) => `${CONFIG_NAMESPACE}:${key}`);
      return `${CONFIG_NAMESPACE}:${unknown}: unknown key${hint} (see config/schema.json for the keys)`;
    }
    case "enum": {
      const allowedValues = error.params.allowedValues as unknown[];
      const value = valueAt(raw, error.instancePath);
      // A typo has a nearest spelling; a number that is not allowed has no "meant".
      const hint =
        typeof value === "string"
          ? didYouMean(
              value,
              allowedValues.map((choice) => String(choice)),
              (choice) => show(choice),
            )
          : "";
      return `${key}: ${given} is not allowed; expected one of ${allowedValues.map(show).join(", ")}${hint}`;
    }
    case "type": {
      const type = error.params.type as string;
      const article = /^[aeio]/.test(type) ? "an" : "a";
      return `${key}: ${given} is not ${type === "integer" ? "a whole number" : `${article} ${type}`}`;
    }
    case "minimum":
      return `${key}: ${given} is too small; expected at least ${error.params.limit}`;
    case "maximum":
      return `${key}: ${given} is too large; expected at most ${error.params.limit}`;
    case "minItems":
      return `${key}: ${given} is empty; expected at least ${error.params.limit} item`;
    case "uniqueItems":
      return `${key}: ${given} repeats an item; expected each item once`;
    case "format":
      return `${key}: ${given} is not ${expectations[error.params.format] ?? error.params.format}`;
    case "pattern": {
      const expected = (error.parentSchema as { "x-expected"?: string } | undefined)?.["x-expected"];
      return `${key}: ${given} is not ${expected ?? `matching ${error.params.pattern}`}`;
    }
    case "maxLength":
      return `${key}: ${given} is longer than ${error.params.limit} characters`;
    case "propertyNames": {
      const expected = (error.schema as { "x-expected"?: string })["x-expected"];
      return `${key}: key ${show(error.params.propertyName)} is not ${expected ?? "allowed"}`;
    }
    default:
      return `${key}: ${given} ${error.message ?? "is invalid"}`;
  }
}

const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

function minimumVersionProblem(version: string): boolean {
  return Number(version.split(".")[0]) < 8;
}

/**
 * Checks that span keys or need more than JSON Schema says; run on schema-valid input. What AWS
 * itself requires is checked by the components' constraints (infra/aws-constraints.ts).
 */
function crossFieldProblems(config: StackConfig): string[] {
  const problems: string[] = [];
  const cidrKeys: Array<[string, string]> = [
    ["vpcCidr", config.vpcCidr],
    ...config.allowedCidrs.map((cidr, index): [string, string] => [`allowedCidrs[${index}]`, cidr]),
  ];
  for (const [key, cidr] of cidrKeys) {
    if (canonicalCidr(cidr) !== cidr)
      problems.push(`${CONFIG_NAMESPACE}:${key}: "${cidr}" has host bits set; did you mean "${canonicalCidr(cidr)}"?`);
  }
  if (!PRIVATE_RANGES.some((range) => cidrContains(range, config.vpcCidr)))
    problems.push(
      `${CONFIG_NAMESPACE}:vpcCidr: "${config.vpcCidr}" is not a private range; ` +
        `expected a range inside ${PRIVATE_RANGES.join(", ")}`,
    );
  if (config.backupExpiryDays < config.objectLockDays)
    problems.push(
      `${CONFIG_NAMESPACE}:backupExpiryDays: ${config.backupExpiryDays} is below openemr:objectLockDays ` +
        `(${config.objectLockDays}); a backup cannot expire while it is locked`,
    );
  if (config.hostedZoneId && !config.domain)
    problems.push(
      `${CONFIG_NAMESPACE}:hostedZoneId: "${config.hostedZoneId}" is set without openemr:domain; ` +
        "expected openemr:domain too (the name to certify in that zone)",
    );
  problems.push(...frontDoorProblems(config));
  if (minimumVersionProblem(config.openemrVersion))
    problems.push(
      `${CONFIG_NAMESPACE}:openemrVersion: "${config.openemrVersion}" is too old; ` +
        "expected 8.0.0 or later (health endpoints, PHP 8.4 on Debian 13)",
    );
  return problems;
}

/** The `ha` tier's keys: a standby database and a group that can hold its fewest hosts. */
function haProblems(config: StackConfig, raw: Record<string, unknown>): string[] {
  if (config.tier !== "ha") return [];
  const problems: string[] = [];
  if (raw.multiAz === false)
    problems.push(
      `${CONFIG_NAMESPACE}:multiAz: false on tier "ha"; expected true (or unset): ` +
        "the ha tier's database keeps a standby in a second zone",
    );
  if (config.haMaxSize < config.haMinSize)
    problems.push(
      `${CONFIG_NAMESPACE}:haMaxSize: ${config.haMaxSize} is below openemr:haMinSize (${config.haMinSize}); ` +
        "expected at least as many hosts as the group's minimum",
    );
  return problems;
}

/** The certificate and sign-in keys, which only make sense together in some combinations. */
function frontDoorProblems(config: StackConfig): string[] {
  const problems: string[] = [];
  if (config.certificateArn && !config.domain)
    problems.push(
      `${CONFIG_NAMESPACE}:certificateArn: "${config.certificateArn}" is set without openemr:domain; ` +
        "expected openemr:domain too (the name the certificate covers, which users open)",
    );
  const certificateRegion = config.certificateArn.split(":")[3];
  if (config.certificateArn && certificateRegion !== config.region)
    problems.push(
      `${CONFIG_NAMESPACE}:certificateArn: "${config.certificateArn}" is in ${certificateRegion}; ` +
        `expected a certificate in openemr:region ("${config.region}"): a load balancer presents only its own region's`,
    );
  const authentication = config.authentication ?? { type: "none" };
  const given = OIDC_FIELDS.filter((field) => authentication[field] !== undefined);
  if (authentication.type === "oidc") {
    const missing = OIDC_FIELDS.filter((field) => !given.includes(field));
    if (missing.length)
      problems.push(
        `${CONFIG_NAMESPACE}:authentication: type "oidc" lacks ${missing.join(", ")}; ` +
          `expected all of ${OIDC_FIELDS.join(", ")} (the clientSecret set with pulumi config set --secret)`,
      );
  } else if (given.length)
    problems.push(
      `${CONFIG_NAMESPACE}:authentication: ${given.join(", ")} given with type "${authentication.type}"; ` +
        'expected them only with type "oidc"',
    );
  return problems;
}

function warningsFor(config: StackConfig): string[] {
  const warnings: string[] = [];
  if (config.alertEmails.length === 0)
    warnings.push(
      `${CONFIG_NAMESPACE}:alertEmails is empty: alarms go to an SNS topic nobody is subscribed to; ` +
        "set at least one address",
    );
  if (!config.domain)
    warnings.push(
      `${CONFIG_NAMESPACE}:domain is not set: the load balancer presents a SELF-SIGNED certificate, for a first ` +
        "trial only (browsers warn on every visit and users cannot tell the site from an impostor); " +
        "set openemr:domain before clinical use",
    );
  if (config.allowedCidrs.includes("0.0.0.0/0") && config.authentication.type === "none")
    warnings.push(
      `${CONFIG_NAMESPACE}:allowedCidrs includes 0.0.0.0/0: the login page is reachable from the whole internet ` +
        "(behind WAF); narrow it to the clinic's networks if you can",
    );
  if (config.objectLockMode === "compliance")
    warnings.push(
      `${CONFIG_NAMESPACE}:objectLockMode is compliance: no one, the account's root user included, can delete ` +
        `a backup (or a mistaken upload) for ${config.objectLockDays} days; its storage is paid for that long`,
    );
  if (config.flowLogTrafficType === "REJECT")
    warnings.push(
      `${CONFIG_NAMESPACE}:flowLogTrafficType is REJECT: the flow log keeps no record of accepted connections ` +
        "(who the host talked to); set ALL for a complete network record",
    );
  if (!config.wafSqliAndPhpRules)
    warnings.push(
      `${CONFIG_NAMESPACE}:wafSqliAndPhpRules is false: the WAF runs no SQL-injection or PHP-exploit rule group ` +
        "in front of OpenEMR",
    );
  if (!config.openemrSha256)
    warnings.push(
      `${CONFIG_NAMESPACE}:openemrSha256 is not set: the host trusts the .sha256 published beside the release; ` +
        "pin it for a reproducible install",
    );
  return warnings;
}

/**
 * Validates a raw `openemr:` config object (keys without the namespace). With `stackName`, the
 * names the stack derives from it are checked too.
 */
export function validateConfig(raw: Record<string, unknown>, stackName?: string): ValidationResult {
  const candidate: Record<string, unknown> = structuredClone(raw);
  const valid = validateSchema(candidate);
  // A bad map key yields a pattern error for the key and a propertyNames error: keep the latter.
  const errors = valid ? [] : (validateSchema.errors ?? []).filter((error) => error.propertyName === undefined);
  // The cross-key checks run in the same pass, so every problem shows at once: a key the schema
  // refused takes its default for them, and a cross-key problem naming it is left out (the
  // schema's own line says what is wrong with it).
  const refused = new Set(errors.map((error) => error.instancePath.split("/")[1]).filter(Boolean));
  for (const key of refused) {
    const fallback = configProperties[key as keyof StackConfig]?.default;
    if (fallback === undefined) delete candidate[key];
    else candidate[key] = structuredClone(fallback);
  }
  const crossProblems = [
    ...crossFieldProblems(candidate as unknown as StackConfig),
    ...haProblems(candidate as unknown as StackConfig, raw),
  ].filter((problem) => ![...refused].some((key) => problem.includes(`${CONFIG_NAMESPACE}:${key}`)));
  const awsProblems = awsConstraintProblems({ config: candidate as unknown as StackConfig, stackName }, refused);
  const problems = [...errors.map((error) => describeAjvError(error, raw)), ...crossProblems, ...awsProblems];
  if (problems.length > 0) return { problems, warnings: [] };
  const config = candidate as unknown as StackConfig;
  applyTierDefaults(raw, config);
  return { config, problems: [], warnings: [...ignoredKeyWarnings(raw, config), ...warningsFor(config)] };
}

/** A key the stack file leaves out takes its tier's default where the schema's x-tier-defaults has one. */
function applyTierDefaults(raw: Record<string, unknown>, config: StackConfig): void {
  for (const [key, property] of Object.entries(configProperties)) {
    const byTier = (property as { "x-tier-defaults"?: Partial<Record<Tier, unknown>> })["x-tier-defaults"];
    if (byTier && !(key in raw) && byTier[config.tier] !== undefined)
      (config as unknown as Record<string, unknown>)[key] = structuredClone(byTier[config.tier]);
  }
}

/** Keys set in the stack file that the chosen tier does not use (the schema's x-tiers). */
function ignoredKeyWarnings(raw: Record<string, unknown>, config: StackConfig): string[] {
  return Object.keys(raw).flatMap((key) => {
    const tiers = (configProperties[key as keyof StackConfig] as { "x-tiers"?: Tier[] } | undefined)?.["x-tiers"];
    return tiers && !tiers.includes(config.tier)
      ? [
          `${CONFIG_NAMESPACE}:${key} is set, but tier ${config.tier} does not use it ` +
            `(it applies to ${tiers.join(" and ")}); remove it, or set openemr:tier`,
        ]
      : [];
  });
}

/**
 * Turns engine-style config values (strings; JSON for lists and maps) into typed values by
 * the schema's types. A value that cannot be converted is left as given, so the schema check
 * reports it with the key's expectation.
 */
function typedValue(key: string, text: string): unknown {
  const property = configProperties[key as keyof StackConfig];
  if (!property) return text;
  const parse = (): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  switch (property.type) {
    case "integer":
      return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
    case "boolean":
      return text === "true" ? true : text === "false" ? false : text;
    case "array":
    case "object":
      return parse();
    default:
      return text;
  }
}

/** Splits engine-style config (`namespace:key` -> string) into our raw object and misplaced keys. */
export function rawConfigFrom(engineConfig: Record<string, string>): {
  raw: Record<string, unknown>;
  problems: string[];
} {
  const raw: Record<string, unknown> = {};
  const problems: string[] = [];
  // The stack deploys where openemr:region says; an aws:region that says otherwise would
  // point the AWS provider's default elsewhere, so the two must agree when both are there.
  const awsRegion = engineConfig["aws:region"];
  const region = engineConfig[`${CONFIG_NAMESPACE}:region`] ?? String(configProperties.region.default);
  if (awsRegion !== undefined && awsRegion !== region)
    problems.push(
      `aws:region: "${awsRegion}" disagrees with ${CONFIG_NAMESPACE}:region ("${region}"` +
        `${engineConfig[`${CONFIG_NAMESPACE}:region`] === undefined ? ", its default" : ""}); ` +
        `the stack deploys to ${CONFIG_NAMESPACE}:region: set it to "${awsRegion}", or remove aws:region`,
    );
  for (const [qualifiedKey, text] of Object.entries(engineConfig)) {
    const separator = qualifiedKey.indexOf(":");
    const namespace = qualifiedKey.slice(0, separator);
    const key = qualifiedKey.slice(separator + 1);
    if (namespace === CONFIG_NAMESPACE) raw[key] = typedValue(key, text);
    else if (namespace === "openemr-aws" && key in configProperties)
      problems.push(`${qualifiedKey}: set in the project's namespace; did you mean ${CONFIG_NAMESPACE}:${key}?`);
  }
  return { raw, problems };
}

/** Reads and validates the stack's `openemr:` config; throws ConfigError listing every problem. */
export function readStackConfig(): StackConfig {
  const { raw, problems: namespaceProblems } = rawConfigFrom(pulumi.runtime.allConfig());
  const { config, problems, warnings } = validateConfig(raw, pulumi.getStack());
  const allProblems = [...namespaceProblems, ...problems];
  if (!config || allProblems.length > 0) throw new ConfigError(allProblems);
  // pulumi.log.warn returns the engine's promise; a warning that fails to print stops nothing.
  for (const warning of warnings) void pulumi.log.warn(warning);
  return config;
}

/** A stack file that cannot be read, in one line: the file, line and column, and what is wrong. */
function yamlProblem(path: string, error: unknown): string {
  if ((error as NodeJS.ErrnoException).code === "ENOENT") return `${path}: no such file`;
  const position = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  const reason = (error as Error).message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  return position ? `${path}:${position.line}:${position.col}: ${reason}` : `${path}: ${reason}`;
}

/** `Pulumi.clinic-prod.yaml` is the stack file of stack `clinic-prod`. */
export function stackNameOfFile(file: string): string {
  return basename(file)
    .replace(/^Pulumi\./, "")
    .replace(/\.ya?ml$/, "");
}

/**
 * Reads a Pulumi stack file (`Pulumi.<stack>.yaml`) into engine-style config: every key
 * fully qualified, scalars as strings, lists and maps as JSON, as the engine passes them.
 */
export function loadStackFile(path: string): Record<string, string> {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError([yamlProblem(path, error)], "cannot read the stack file");
  }
  const shape = 'expected "config:" with openemr:* keys indented under it (see config/examples/)';
  if (document === null || document === undefined || (typeof document === "object" && !Object.keys(document).length))
    throw new ConfigError([`${path}: the file is empty; ${shape}`], "cannot read the stack file");
  if (typeof document !== "object" || Array.isArray(document) || !("config" in document)) {
    const keys = typeof document === "object" && !Array.isArray(document) ? Object.keys(document) : [];
    throw new ConfigError(
      [`${path}: no "config:" map${keys.length ? ` (found ${keys.join(", ")} at the top level)` : ""}; ${shape}`],
      "cannot read the stack file",
    );
  }
  const { config } = document;
  if (config === null || config === undefined || (typeof config === "object" && !Object.keys(config).length))
    throw new ConfigError([`${path}: "config:" is empty; ${shape}`], "cannot read the stack file");
  if (typeof config !== "object" || Array.isArray(config))
    throw new ConfigError([`${path}: "config" is not a map of keys to values`], "cannot read the stack file");
  return Object.fromEntries(
    Object.entries(config as Record<string, unknown>).map(([key, value]) => [
      key.includes(":") ? key : `openemr-aws:${key}`,
      typeof value === "string" ? value : JSON.stringify(withSecretsSealed(value)),
    ]),
  );
}

/** Stands in, offline, for a value the stack file holds encrypted (`secure:`), which only Pulumi decrypts. */
export const SEALED_SECRET = "[secret]";

/**
 * A stack file's value with each encrypted leaf (`{secure: v1:...}`, as `pulumi config set --path
 * --secret` writes it) replaced by SEALED_SECRET: validation offline sees that a value is there.
 */
function withSecretsSealed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withSecretsSealed);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0][0] === "secure" && typeof entries[0][1] === "string") return SEALED_SECRET;
  return Object.fromEntries(entries.map(([key, item]) => [key, withSecretsSealed(item)]));
}
