// IAM rules on real role and policy declarations: a least-privilege host role and one policy
// per broken property.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import {
  iamNoAdmin,
  iamNoInlinePolicy,
  iamNoKmsDecryptStar,
  iamNoServiceWildcard,
  iamScopedWrites,
  iamTrustRestricted,
} from "../../../policies/rules/iam";
import { declared, expectFails, expectPasses } from "./harness";

const document = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });
const ec2Trust = document({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" });

function compliantRole(): void {
  const role = new aws.iam.Role("host-role", { assumeRolePolicy: ec2Trust });
  const policy = new aws.iam.Policy("host-access", {
    policy: document(
      {
        Sid: "ReadSecrets",
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:app",
      },
      {
        Sid: "UseKey",
        Effect: "Allow",
        Action: ["kms:Decrypt", "kms:GenerateDataKey"],
        Resource: "arn:aws:kms:us-east-1:111122223333:key/data",
      },
      {
        Sid: "Metrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": "OpenEMR" } },
      },
      { Sid: "WriteBackups", Effect: "Allow", Action: "s3:PutObject", Resource: "arn:aws:s3:::backups/backups/*" },
    ),
  });
  new aws.iam.RolePolicyAttachment("host-access", { role: role.name, policyArn: policy.arn });
}

function nonCompliantPolicies(): void {
  new aws.iam.Policy("admin-policy", { policy: document({ Sid: "All", Effect: "Allow", Action: "*", Resource: "*" }) });
  const role = new aws.iam.Role("ops-role", { assumeRolePolicy: ec2Trust });
  new aws.iam.RolePolicyAttachment("ops-admin", {
    role: role.name,
    policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
  });
  new aws.iam.Policy("s3-star-policy", {
    policy: document({ Sid: "AllS3", Effect: "Allow", Action: "s3:*", Resource: "arn:aws:s3:::backups/*" }),
  });
  new aws.iam.RolePolicy("inline-policy", {
    role: role.name,
    policy: document({ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::backups/*" }),
  });
  new aws.iam.Role("open-trust-role", {
    assumeRolePolicy: document({ Sid: "Anyone", Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }),
  });
  new aws.iam.Policy("decrypt-everything", {
    policy: document({ Sid: "Decrypt", Effect: "Allow", Action: "kms:Decrypt", Resource: "*" }),
  });
  new aws.iam.Policy("write-anywhere", {
    policy: document({ Sid: "Put", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: "*" }),
  });
}

describe("iam rules", () => {
  let good: RuleResource[];
  let bad: RuleResource[];
  beforeAll(async () => {
    good = await declared(compliantRole);
    bad = await declared(nonCompliantPolicies);
  });

  it("iam-no-admin: no Action *, no AdministratorAccess", () => {
    expectPasses(iamNoAdmin, good);
    expectFails(iamNoAdmin, bad, "admin-policy", "policy.Statement[All].Action");
    expectFails(iamNoAdmin, bad, "ops-admin", "policyArn");
  });

  it("iam-no-service-wildcard", () => {
    expectPasses(iamNoServiceWildcard, good);
    expectFails(iamNoServiceWildcard, bad, "s3-star-policy", "policy.Statement[AllS3].Action");
  });

  it("iam-no-inline-policy", () => {
    expectPasses(iamNoInlinePolicy, good);
    expectFails(iamNoInlinePolicy, bad, "inline-policy", "policy");
  });

  it("iam-trust-restricted", () => {
    expectPasses(iamTrustRestricted, good);
    expectFails(iamTrustRestricted, bad, "open-trust-role", "assumeRolePolicy.Statement[Anyone].Principal");
  });

  it("iam-no-kms-decrypt-star", () => {
    expectPasses(iamNoKmsDecryptStar, good);
    expectFails(iamNoKmsDecryptStar, bad, "decrypt-everything", "policy.Statement[Decrypt].Resource");
  });

  it("iam-scoped-writes: unscopable actions such as PutMetricData excepted", () => {
    expectPasses(iamScopedWrites, good);
    expectFails(iamScopedWrites, bad, "write-anywhere", "policy.Statement[Put].Resource");
  });
});
