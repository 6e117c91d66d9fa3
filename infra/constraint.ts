// The shape of an AWS rule the program's inputs must follow and Pulumi's mocks never check (a
// name format, a limit, a combination AWS refuses). Each component exports the rules its own
// resources depend on, beside the code that builds them; infra/aws-constraints.ts collects them
// and the config contract checks them with its other checks, before any resource is declared.
import type { StackConfig } from "./config";

/** What a constraint reads: the validated stack config and the stack's name (part of many resource names). */
export interface ConstraintInput {
  config: StackConfig;
  stackName: string;
}

/** The key a constraint on the stack's name reports, where config keys say `openemr:<key>`. */
export const STACK_NAME = "stack name";

export interface AwsConstraint {
  /** Short, stable name, e.g. `backup-vault-name`. */
  id: string;
  /** The config keys it reads (without the namespace), or STACK_NAME; its problems name them. */
  keys: string[];
  /** What AWS requires, in a sentence (docs/aws-constraints.md lists it). */
  rule: string;
  /** The AWS documentation page that says so. */
  doc: string;
  /** One line per violation, naming the key, what was given and what is expected; none when it holds. */
  problems(input: ConstraintInput): string[];
}

/**
 * The problem with a name the program derives from the stack's name: `stack name: "a.b" makes the
 * <what> "<name>"; expected <expected>`. Empty when `valid`.
 */
export function derivedNameProblem(
  stackName: string,
  what: string,
  name: string,
  valid: boolean,
  expected: string,
): string[] {
  return valid
    ? []
    : [`${STACK_NAME}: ${JSON.stringify(stackName)} makes the ${what} ${JSON.stringify(name)}; expected ${expected}`];
}
