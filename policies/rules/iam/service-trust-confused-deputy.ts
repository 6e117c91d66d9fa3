import type { ResourceRule } from "../types";
import { AwsType } from "../resource-types";
import { citeInferred, sections } from "../citations";
import { all, failProperty, notApplicable, pass } from "../outcomes";
import { conditionKeys, statementPath, statementsOf, wildcardMatches, type Statement } from "../documents";

/**
 * Services that send no aws:SourceAccount / aws:SourceArn with the request, where AWS documents the
 * permission without them: a condition on a key the request lacks denies it, and the service stops
 * working on a real deploy, so these statements are not asked for one.
 */
const SENDS_NO_SOURCE_KEYS: Record<"trust" | "key", Record<string, string>> = {
  trust: {
    "ec2.amazonaws.com":
      "an instance role: EC2 documents no source keys for it; only iam:PassRole in this account puts it on an instance",
    "cloudtrail.amazonaws.com":
      "CloudTrail's CloudWatch Logs delivery role is trusted as AWS documents it, without conditions: " +
      "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/send-cloudtrail-events-to-cloudwatch-logs.html",
    "backup.amazonaws.com":
      "AWS Backup's service role is trusted as AWS documents it, without conditions: " +
      "https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html",
    "lambda.amazonaws.com":
      "a Lambda execution role is trusted as AWS documents it, without conditions: " +
      "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
  },
  key: {
    "events.amazonaws.com":
      "EventBridge sends no source keys when it publishes to an encrypted SNS topic: " +
      "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services",
  },
};

/**
 * Services that send aws:SourceArn when they assume their role, where AWS's page for the role
 * shows it: their trust names the resource as well as the account.
 */
const SENDS_SOURCE_ARN: Record<string, string> = {
  "vpc-flow-logs.amazonaws.com": "https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html",
  "monitoring.rds.amazonaws.com":
    "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html" +
    "#USER_Monitoring.OS.confused-deputy",
  "s3.amazonaws.com": "https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html",
};

const assumesRole = (statement: Statement) =>
  statement.actions.some((action) => wildcardMatches(action, "sts:AssumeRole"));

export const serviceTrustConfusedDeputy: ResourceRule = {
  kind: "resource",
  id: "service-trust-confused-deputy",
  area: "iam",
  description:
    "Where an AWS service acts for a resource (a role it assumes, a key it uses), the permission is limited to this " +
    "account's resources: aws:SourceAccount, and aws:SourceArn where the service sends it (or, in a key policy, a " +
    "kms:EncryptionContext condition), so another customer cannot make the service use them (the confused deputy). " +
    "Services AWS documents without these keys are named in the rule and not asked for them.",
  citations: citeInferred(...sections.IAM),
  severity: "medium",
  enforcement: "mandatory",
  remediation:
    "Pass the account (and the resource ARN where the service sends aws:SourceArn) to assumableByService " +
    "(infra/components/trust-policy.ts); in a key policy add StringEquals aws:SourceAccount, ArnLike aws:SourceArn " +
    "or the service's kms:EncryptionContext key. Check the service's page first: a key it does not send denies it.",
  resourceTypes: [AwsType.role, AwsType.kmsKey],
  evaluate(resource) {
    const inKey = resource.type === AwsType.kmsKey;
    const property = inKey ? "policy" : "assumeRolePolicy";
    const statements = statementsOf(resource.props[property]).filter(
      (statement) => statement.effect === "Allow" && statement.services.length > 0 && (inKey || assumesRole(statement)),
    );
    if (statements.length === 0) return notApplicable(`no ${property} statement lets an AWS service act`);
    const exempt = SENDS_NO_SOURCE_KEYS[inKey ? "key" : "trust"];
    const checks = statements.flatMap((statement) => {
      const keys = conditionKeys(statement);
      const path = `${statementPath(property, statement)}.Condition`;
      return statement.services.map((service) => {
        if (exempt[service]) return pass({ [`${path} (${service})`]: `not asked: ${exempt[service]}` });
        const scoped =
          keys.includes("aws:sourceaccount") ||
          keys.includes("aws:sourcearn") ||
          (inKey && keys.some((key) => key.startsWith("kms:encryptioncontext:")));
        if (!scoped)
          return failProperty(
            resource,
            path,
            statement.condition,
            `aws:SourceAccount or aws:SourceArn${inKey ? " (or kms:EncryptionContext)" : ""} for ${service}`,
          );
        if (!inKey && SENDS_SOURCE_ARN[service] && !keys.includes("aws:sourcearn"))
          return failProperty(
            resource,
            path,
            statement.condition,
            `aws:SourceArn as well: ${service} sends it (${SENDS_SOURCE_ARN[service]})`,
          );
        return pass({ [`${path} (${service})`]: statement.condition });
      });
    });
    return all(checks);
  },
};
