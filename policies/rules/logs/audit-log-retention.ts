import type { RuleResource, StackRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { fail, pass, resultFor } from "../outcomes";
import { ofType } from "../joins";

/** Six years in CloudWatch Logs' retention values (2192 days: six years with two leap days). */
export const SIX_YEARS_DAYS = 2192;

/** Why a log group is an audit record, or undefined when it is not one. */
function auditClass(group: RuleResource, resources: RuleResource[]): string | undefined {
  const { arn, name } = group.props;
  const deliversHere = (value: unknown) => typeof value === "string" && value.replace(/:\*$/, "") === arn;
  if (ofType(resources, AwsType.trail).some((trail) => deliversHere(trail.props.cloudWatchLogsGroupArn)))
    return "CloudTrail trail";
  if (ofType(resources, AwsType.flowLog).some((flowLog) => deliversHere(flowLog.props.logDestination)))
    return "VPC flow log";
  if (/^\/aws\/rds\/(instance|cluster)\/[^/]+\/audit$/.test(String(name))) return "database audit log";
  if (String(name).endsWith("/auditd")) return "host auditd log";
  const sessionGroups = ofType(resources, AwsType.ssmDocument)
    .filter((document) => document.props.documentType === "Session")
    .map((document) => {
      try {
        return JSON.parse(String(document.props.content)).inputs?.cloudWatchLogGroupName;
      } catch {
        return undefined;
      }
    });
  if (sessionGroups.includes(name)) return "Session Manager session log";
  return undefined;
}

export const auditLogRetention: StackRule = {
  kind: "stack",
  id: "audit-log-retention",
  area: "logs",
  description:
    `Audit-class log groups (the trail's, flow logs, the database audit log, auditd, Session Manager sessions) ` +
    `keep their records at least six years (${SIX_YEARS_DAYS} days), HIPAA's retention of required documentation.`,
  // The six years are 164.316(b)(2)(i)'s (documentation); the pack cites the Security Rule's
  // safeguards, and audit controls are the one these records serve.
  citations: citeInferred(...sections.AUD),
  severity: "low",
  // Advisory: 164.316(b)(2)(i) keeps the documentation of policies, procedures and the actions
  // and assessments they require for six years; whether raw logs are that documentation is the
  // covered entity's reading, and many keep them longer in an organisation log archive instead.
  enforcement: "advisory",
  remediation:
    `Set retentionInDays to ${SIX_YEARS_DAYS} or more (openemr:auditLogRetentionDays), or keep the same ` +
    "records six years elsewhere (an organisation log archive) and record that decision.",
  evaluate(resources) {
    return ofType(resources, AwsType.logGroup).flatMap((group) => {
      const what = auditClass(group, resources);
      if (!what) return [];
      const days = group.props.retentionInDays;
      // Not set: CloudWatch keeps the events forever (log-group-retention asks for a decision).
      if (days === undefined || days === null || Number(days) === 0 || Number(days) >= SIX_YEARS_DAYS)
        return [resultFor(group, pass({ retentionInDays: days ?? null, auditClass: what }))];
      return [
        resultFor(
          group,
          fail(group, `retentionInDays is ${days} for a ${what}; expected at least ${SIX_YEARS_DAYS} (six years)`, {
            retentionInDays: days,
            auditClass: what,
          }),
        ),
      ];
    });
  },
};
