// The one way the stack writes a role's trust policy: one AWS service may assume it,
// optionally only on behalf of one resource (aws:SourceArn), which limits the confused deputy.
import * as pulumi from "@pulumi/pulumi";

export function assumableByService(service: string, sourceArn?: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.jsonStringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: service },
        Action: "sts:AssumeRole",
        ...(sourceArn ? { Condition: { StringEquals: { "aws:SourceArn": sourceArn } } } : {}),
      },
    ],
  });
}
