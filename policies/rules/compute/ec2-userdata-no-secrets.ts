import { gunzipSync } from "zlib";
import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred } from "../citations";
import { fail, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";

/** Text that is a credential whatever the stack: private keys and AWS access keys. */
const CREDENTIAL_PATTERNS: { what: string; pattern: RegExp }[] = [
  { what: "a private key", pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { what: "an AWS access key id", pattern: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { what: "an AWS secret access key assignment", pattern: /aws_secret_access_key\s*[=:]/i },
];

/** Secret values shorter than this are not searched for (they would match ordinary text). */
const MIN_SECRET_LENGTH = 8;
const SECRET_KEYS = /pass|secret|token|key/i;

/** The secret values the stack itself declares: secret versions' strings and database passwords. */
function declaredSecretValues(resources: RuleResource[]): { value: string; source: string }[] {
  const values: { value: string; source: string }[] = [];
  for (const version of ofType(resources, AwsType.secretVersion)) {
    const text = version.props.secretString;
    if (typeof text !== "string") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (parsed && typeof parsed === "object") {
      for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
        if (SECRET_KEYS.test(key) && typeof value === "string")
          values.push({ value, source: `${version.name}.secretString.${key}` });
      }
    } else {
      values.push({ value: text, source: `${version.name}.secretString` });
    }
  }
  for (const database of ofType(resources, AwsType.rdsInstance)) {
    if (typeof database.props.password === "string")
      values.push({ value: database.props.password, source: `${database.name}.password` });
  }
  return values.filter((secret) => secret.value.length >= MIN_SECRET_LENGTH);
}

/** User-data as the host reads it: the text as declared and, when it is base64 (optionally gzip), decoded. */
function userDataTexts(resource: RuleResource): { property: string; text: string }[] {
  return ["userData", "userDataBase64"]
    .filter((property) => typeof resource.props[property] === "string")
    .map((property) => {
      const declared: string = resource.props[property];
      return { property, text: `${declared}\n${decoded(declared)}` };
    });
}

function decoded(text: string): string {
  const compact = text.replace(/\s+/g, "");
  if (compact.length === 0 || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return "";
  const bytes = Buffer.from(compact, "base64");
  try {
    return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes).toString("utf8") : bytes.toString("utf8");
  } catch {
    return "";
  }
}

export const ec2UserdataNoSecrets: StackRule = {
  kind: "stack",
  id: "ec2-userdata-no-secrets",
  area: "compute",
  description:
    "User-data carries no secret: no private key or AWS access key, " +
    "and none of the secret values the stack declares (Secrets Manager secret strings, " +
    "database passwords). User-data is readable by anyone who may describe the instance.",
  citations: citeInferred("164.312(a)(1)"),
  severity: "critical",
  enforcement: "mandatory",
  remediation:
    "Pass secrets by reference: put the secret's ARN in user-data and " +
    "let the host read it from Secrets Manager with its instance role.",
  evaluate(resources) {
    const secrets = declaredSecretValues(resources);
    return ofType(resources, AwsType.instance, AwsType.launchTemplate).map((host) => {
      const texts = userDataTexts(host);
      for (const { property, text } of texts) {
        const credential = CREDENTIAL_PATTERNS.find(({ pattern }) => pattern.test(text));
        if (credential)
          return resultFor(
            host,
            fail(host, `${property} contains ${credential.what}; expected no secret in user-data`, {
              [property]: `(contains ${credential.what})`,
            }),
          );
        const leaked = secrets.find((secret) => text.includes(secret.value));
        if (leaked)
          return resultFor(
            host,
            fail(host, `${property} contains the value of ${leaked.source}; expected secrets passed by reference`, {
              [property]: `(contains ${leaked.source})`,
            }),
          );
      }
      return resultFor(
        host,
        pass({
          ...Object.fromEntries(
            texts.map(({ property }) => [
              property,
              `${String(host.props[property]).length} characters, no secret found`,
            ]),
          ),
          secretValuesChecked: secrets.map((secret) => secret.source),
        }),
      );
    });
  },
};
