import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { fail, isTrue, notApplicable, pass, resultFor } from "../outcomes";
import { statementPath, statementsOf, wildcardMatches, type Statement } from "../documents";
import { ofType } from "../joins";
import { bucketSettings, buckets, isLogDestination } from "./buckets";

/** Who may still change a bucket policy: the actions that must be denied to everyone else. */
const POLICY_ACTIONS = ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"];
/** Condition operators that except named principals from a Deny. */
const EXCEPTING_OPERATORS = ["ArnNotEquals", "ArnNotLike", "StringNotEquals", "StringNotLike"];

function denies(statement: Statement, action: string): boolean {
  return statement.effect === "Deny" && statement.actions.some((pattern) => wildcardMatches(pattern, action));
}

/**
 * A Deny of the policy actions to everyone, unconditional but for an exception of named principals
 * (the TLS-only deny, which also covers them, applies only to plain-HTTP requests and does not count).
 */
function guardsPolicy(statement: Statement): boolean {
  const operators = Object.entries(statement.condition ?? {});
  return (
    statement.principals.includes("*") &&
    POLICY_ACTIONS.every((action) => denies(statement, action)) &&
    operators.every(
      ([operator, keys]) =>
        EXCEPTING_OPERATORS.includes(operator) &&
        Object.keys((keys as Record<string, unknown>) ?? {}).every((key) => key === "aws:PrincipalArn"),
    )
  );
}

/** The principals a Deny excepts by aws:PrincipalArn; none when it denies everyone. */
function exceptedPrincipals(statement: Statement): string[] {
  return EXCEPTING_OPERATORS.flatMap((operator) => {
    const values = (statement.condition?.[operator] as Record<string, unknown> | undefined)?.["aws:PrincipalArn"];
    return ([] as unknown[]).concat(values ?? []).filter((value): value is string => typeof value === "string");
  });
}

function policyStatementsOf(resources: RuleResource[], bucket: RuleResource) {
  return [
    ...bucketSettings(resources, bucket, AwsType.bucketPolicy).map((policy) => ({
      owner: policy,
      doc: policy.props.policy,
    })),
    ...(bucket.props.policy ? [{ owner: bucket, doc: bucket.props.policy }] : []),
  ].flatMap(({ owner, doc }) => statementsOf(doc).map((statement) => ({ owner, statement })));
}

/** True when some bucket policy of the stack denies changing the policy itself. */
function declaresBreakGlass(resources: RuleResource[]): boolean {
  return ofType(resources, AwsType.bucketPolicy).some((policy) => statementsOf(policy.props.policy).some(guardsPolicy));
}

export const s3PolicyBreakGlass: StackRule = {
  kind: "stack",
  id: "s3-policy-break-glass",
  area: "storage",
  description:
    "Buckets under Object Lock (the backups) have a policy that denies s3:PutBucketPolicy and " +
    "s3:DeleteBucketPolicy to every principal but a named break-glass role (a Deny with an aws:PrincipalArn " +
    "exception), so the denies that guard the backups cannot be removed by whoever may put a bucket policy. " +
    "Advisory while no bucket has such a deny (openemr:breakGlassRoleArn is empty by default); mandatory once " +
    "one has: then every locked bucket needs it. A deny with no exception is a failure too (only the root user " +
    "could change the policy then).",
  citations: citeInferred("164.312(c)(1)", ...sections.BAK),
  severity: "medium",
  enforcement: "advisory",
  enforcementWhenDeclared: {
    enforcement: "mandatory",
    what: "a bucket policy that denies s3:PutBucketPolicy and s3:DeleteBucketPolicy to everyone",
    declared: declaresBreakGlass,
  },
  remediation:
    "Set openemr:breakGlassRoleArn to the role allowed to change the backup buckets' policy (and deploy policy " +
    "changes as that role), or add to the bucket policy a Deny of s3:PutBucketPolicy and s3:DeleteBucketPolicy " +
    'to Principal "*" with Condition { ArnNotEquals: { "aws:PrincipalArn": <role ARN> } }.',
  evaluate(resources) {
    return buckets(resources).map((bucket) => {
      if (isLogDestination(resources, bucket))
        return resultFor(bucket, notApplicable("is a log destination, not a data bucket"));
      if (
        !isTrue(bucket.props.objectLockEnabled) &&
        bucket.props.objectLockConfiguration?.objectLockEnabled !== "Enabled"
      )
        return resultFor(bucket, notApplicable("is not under Object Lock"));
      const statements = policyStatementsOf(resources, bucket);
      const found = statements.find(({ statement }) => guardsPolicy(statement));
      if (!found)
        return resultFor(
          bucket,
          fail(
            statements[0]?.owner ?? bucket,
            "policy has no statement denying s3:PutBucketPolicy and s3:DeleteBucketPolicy to all but a " +
              "break-glass role; expected one (any principal allowed to put a bucket policy can lift the denies)",
            { breakGlassDeny: null },
          ),
        );
      const excepted = exceptedPrincipals(found.statement);
      if (excepted.length === 0)
        return resultFor(
          bucket,
          fail(
            found.owner,
            `${statementPath("policy", found.statement)} denies policy changes to everyone; ` +
              "expected an aws:PrincipalArn exception naming the break-glass role",
            { [`${statementPath("policy", found.statement)}.Condition`]: found.statement.condition ?? null },
          ),
        );
      return resultFor(
        bucket,
        pass({ [statementPath("policy", found.statement)]: "Deny policy changes", breakGlass: excepted }),
      );
    });
  },
};
