import type { StackRule } from "../types";
import { AwsType } from "../resource-types";
import { cite, sections } from "../citations";
import { fail, pass, resultFor } from "../outcomes";
import { statementPath, statementsOf, type Statement } from "../documents";
import { bucketSettings, buckets } from "./buckets";

/** A Deny of every S3 action, to everyone, when the request is not over TLS. */
function deniesInsecureTransport(statement: Statement): boolean {
  const secureTransport = (statement.condition?.Bool as Record<string, unknown> | undefined)?.["aws:SecureTransport"];
  return (
    statement.effect === "Deny" &&
    statement.principals.includes("*") &&
    statement.actions.some((action) => action === "s3:*" || action === "*") &&
    [false, "false"].includes(secureTransport as string | boolean)
  );
}

export const s3SslOnly: StackRule = {
  kind: "stack",
  id: "s3-ssl-only",
  area: "storage",
  description: 'Every bucket\'s policy denies all S3 actions to every principal when aws:SecureTransport is "false".',
  citations: cite(...sections.TLS, "164.312(c)(2)"),
  severity: "high",
  enforcement: "mandatory",
  remediation:
    'Add to the bucket policy: { Effect: "Deny", Principal: "*", Action: "s3:*", ' +
    'Resource: [bucketArn, bucketArn/*], Condition: { Bool: { "aws:SecureTransport": "false" } } }.',
  evaluate(resources) {
    return buckets(resources).map((bucket) => {
      const policies = [
        ...bucketSettings(resources, bucket, AwsType.bucketPolicy).map((policy) => ({
          owner: policy,
          document: policy.props.policy,
        })),
        ...(bucket.props.policy ? [{ owner: bucket, document: bucket.props.policy }] : []),
      ];
      for (const { owner, document } of policies) {
        const statement = statementsOf(document).find(deniesInsecureTransport);
        if (statement)
          return resultFor(
            bucket,
            pass({
              [statementPath("policy", statement)]: "Deny s3:* when aws:SecureTransport is false",
              bucketPolicy: owner.name,
            }),
          );
      }
      const subject = policies[0]?.owner ?? bucket;
      return resultFor(
        bucket,
        fail(
          subject,
          `policy has no statement denying s3:* when aws:SecureTransport is "false"; expected a TLS-only deny`,
          { policy: policies.length > 0 ? policies.map(({ owner }) => owner.name) : null },
        ),
      );
    });
  },
};
