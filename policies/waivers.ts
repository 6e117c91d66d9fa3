// Waivers: one rule, one resource, a written justification, optionally an approver and an
// expiry date. The committed waivers live in policies/waivers.yaml; the pack's config may
// replace a rule's waivers. A waiver past its expiry date no longer applies.
import { readFileSync } from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parse } from "yaml";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { valueAt } from "./settings";

export interface Waiver {
  /** The rule id the waiver is for. */
  rule: string;
  /** The resource's name or URN. */
  resource: string;
  /** Why the rule cannot or need not pass for this resource; shown in every report. */
  justification: string;
  approvedBy?: string;
  /** Last day (UTC, `YYYY-MM-DD`) the waiver applies. */
  expires?: string;
}

export const defaultWaiversFile = path.join(__dirname, "waivers.yaml");

const waiverProperties: Record<string, PolicyConfigJSONSchema> = {
  resource: { type: "string", minLength: 1, description: "The waived resource's name or URN." },
  justification: {
    type: "string",
    minLength: 20,
    description: "Why the rule cannot or need not pass for this resource.",
  },
  approvedBy: { type: "string", minLength: 1, description: "Who accepted the risk." },
  expires: {
    type: "string",
    pattern: "^\\d{4}-\\d{2}-\\d{2}$",
    description: "Last day the waiver applies (YYYY-MM-DD, UTC).",
  },
};

/** Schema of a policy's `waivers` config: the waivers for that one rule. */
export function waiverConfigSchema(): PolicyConfigJSONSchema {
  return {
    type: "array",
    description: "Resources this rule is waived for, each with its justification.",
    items: {
      type: "object",
      properties: structuredClone(waiverProperties),
      required: ["resource", "justification"],
      additionalProperties: false,
    },
  };
}

const validateFile = new Ajv({ allErrors: true }).compile({
  type: "object",
  properties: {
    waivers: {
      type: "array",
      items: {
        type: "object",
        properties: { rule: { type: "string", pattern: "^[a-z0-9]+(-[a-z0-9]+)*$" }, ...waiverProperties },
        required: ["rule", "resource", "justification"],
        additionalProperties: false,
      },
    },
  },
  required: ["waivers"],
  additionalProperties: false,
});

/** A waivers file that cannot be used; `problems` holds one line per problem. */
export class WaiverFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "WaiverFileError";
  }
}

/** Parses and validates a waivers document (YAML); `source` names it in errors. */
export function parseWaivers(text: string, source: string): Waiver[] {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new WaiverFileError([`${source}: not valid YAML: ${(error as Error).message.split("\n")[0]}`]);
  }
  if (!validateFile(document)) {
    throw new WaiverFileError(
      (validateFile.errors ?? []).map((error) => {
        const where = error.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(top level)";
        const given = error.instancePath ? ` (given: ${JSON.stringify(valueAt(document, error.instancePath))})` : "";
        return `${source}: ${where} ${error.message}${given}`;
      }),
    );
  }
  const { waivers }: { waivers: Waiver[] } = document;
  const invalidDates = waivers.filter((waiver) => waiver.expires && Number.isNaN(endOfDay(waiver.expires).getTime()));
  if (invalidDates.length > 0) {
    throw new WaiverFileError(
      invalidDates.map(
        (waiver) =>
          `${source}: expires of ${waiver.rule}/${waiver.resource} ` +
          `is "${waiver.expires}", expected a real date YYYY-MM-DD`,
      ),
    );
  }
  return waivers;
}

export function loadWaivers(file = defaultWaiversFile): Waiver[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new WaiverFileError([
      `${file}: cannot read the waivers file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    ]);
  }
  return parseWaivers(text, file);
}

/** The end of a `YYYY-MM-DD` day in UTC; an invalid date (e.g. 2026-02-30) yields an invalid Date. */
function endOfDay(date: string): Date {
  const end = new Date(`${date}T23:59:59.999Z`);
  return end.toISOString().startsWith(date) ? end : new Date(Number.NaN);
}

export function isExpired(waiver: Waiver, now: Date): boolean {
  return waiver.expires !== undefined && endOfDay(waiver.expires).getTime() < now.getTime();
}

/** The unexpired waiver of `rule` for the resource named `name` or with URN `urn`. */
export function findWaiver(waivers: Waiver[], rule: string, name: string, urn: string, now: Date): Waiver | undefined {
  return waivers.find(
    (waiver) =>
      waiver.rule === rule && (waiver.resource === name || waiver.resource === urn) && !isExpired(waiver, now),
  );
}

/** A rule's waivers from its pack config; without a `waivers` key, the committed ones. */
export function waiversFromConfig(config: Record<string, unknown>, rule: string, committed: Waiver[]): Waiver[] {
  const configured = config.waivers as Omit<Waiver, "rule">[] | undefined;
  if (configured === undefined) return committed.filter((waiver) => waiver.rule === rule);
  return configured.map((waiver) => ({ ...waiver, rule }));
}
