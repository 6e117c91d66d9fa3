// Reading IAM, key and bucket policy documents as rules need them: a document may be a JSON
// string or an object, and Statement, Action, Resource and Principal may each be one value or
// a list.
import { asArray } from "./outcomes";

export interface Statement {
  index: number;
  sid?: string;
  effect: "Allow" | "Deny";
  actions: string[];
  notActions: string[];
  resources: string[];
  /** Every principal value, `*` for the bare wildcard in any of its spellings. */
  principals: string[];
  /** The AWS service principals (`Principal.Service`), e.g. `logs.amazonaws.com`. */
  services: string[];
  condition?: Record<string, unknown>;
}

/** The statements of a policy document; an unreadable document yields none. */
export function statementsOf(document: unknown): Statement[] {
  let parsed: any = document;
  if (typeof document === "string") {
    try {
      parsed = JSON.parse(document);
    } catch {
      return [];
    }
  }
  if (!parsed || typeof parsed !== "object") return [];
  return asArray<any>(parsed.Statement).map((statement, index) => ({
    index,
    sid: statement?.Sid,
    effect: statement?.Effect === "Deny" ? "Deny" : "Allow",
    actions: asArray<string>(statement?.Action),
    notActions: asArray<string>(statement?.NotAction),
    resources: asArray<string>(statement?.Resource),
    principals: principalsOf(statement?.Principal),
    services: asArray<string>(statement?.Principal?.Service),
    condition: statement?.Condition && Object.keys(statement.Condition).length > 0 ? statement.Condition : undefined,
  }));
}

function principalsOf(principal: unknown): string[] {
  if (principal === undefined) return [];
  if (typeof principal === "string") return [principal];
  if (principal && typeof principal === "object")
    return Object.values(principal as Record<string, unknown>).flatMap((value) => asArray(value as string | string[]));
  return [];
}

/** True when `pattern` (an IAM action or ARN with `*` and `?`) matches `action`. */
export function wildcardMatches(pattern: string, action: string): boolean {
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${expression}$`, "i").test(action);
}

/** The condition keys a statement tests, lower-cased (`aws:sourceaccount`), whatever the operator. */
export function conditionKeys(statement: Statement): string[] {
  return Object.values(statement.condition ?? {}).flatMap((test) =>
    test && typeof test === "object" ? Object.keys(test).map((key) => key.toLowerCase()) : [],
  );
}

/** A statement's location, for evidence: `policy.Statement[1]` or `policy.Statement[Sid]`. */
export function statementPath(property: string, statement: Statement): string {
  return `${property}.Statement[${statement.sid ?? statement.index}]`;
}
