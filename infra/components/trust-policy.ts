// The one way the stack writes a role's trust policy: one AWS service may assume it, and, where
// the service sends them on AssumeRole, only on behalf of one resource (aws:SourceArn, `*`
// allowed) of this account (aws:SourceAccount): the cross-service confused-deputy protection of
// https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
// A service that does not send a key fails a condition on it and cannot assume the role, so a
// caller passes a key only where AWS documents it for that service's role.
import * as pulumi from "@pulumi/pulumi";

export function assumableByService(
  service: string,
  sourceArn?: pulumi.Input<string>,
  sourceAccount?: pulumi.Input<string>,
): pulumi.Output<string> {
  const condition = {
    ...(sourceAccount ? { StringEquals: { "aws:SourceAccount": sourceAccount } } : {}),
    ...(sourceArn ? { ArnLike: { "aws:SourceArn": sourceArn } } : {}),
  };
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
      },
    ],
  });
}
