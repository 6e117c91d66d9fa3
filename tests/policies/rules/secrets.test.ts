// Secret rules on real Secrets Manager and RDS declarations.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { masterSecretNotOnEc2, secretCmk, secretRotation } from "../../../policies/rules/secrets";
import { declared, expectFails, expectPasses } from "./harness";

const ROTATION_LAMBDA = "arn:aws:lambda:us-east-1:111122223333:function:rotate";
const database = { engine: "mysql", instanceClass: "db.t4g.medium", allocatedStorage: 20, username: "dbadmin" };

/** A secret rotated monthly under the data key, and a database whose master password RDS manages. */
function rotatedSecrets(): void {
  const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
  const secret = new aws.secretsmanager.Secret("rotated-secret", { kmsKeyId: key.arn });
  new aws.secretsmanager.SecretRotation("rotated-secret", {
    secretId: secret.id,
    rotationLambdaArn: ROTATION_LAMBDA,
    rotationRules: { automaticallyAfterDays: 30 },
  });
  new aws.rds.Instance("managed-db", {
    ...database,
    manageMasterUserPassword: true,
    masterUserSecretKmsKeyId: key.arn,
  });
}

describe("secret rules", () => {
  it("secret-cmk: secrets and the RDS-managed master secret use a customer key", async () => {
    expectPasses(secretCmk, await declared(rotatedSecrets));
    const awsKeyed = await declared(() => {
      new aws.secretsmanager.Secret("default-key-secret", {});
      new aws.rds.Instance("managed-aws-key-db", { ...database, manageMasterUserPassword: true });
    });
    expectFails(secretCmk, awsKeyed, "default-key-secret", "kmsKeyId");
    expectFails(secretCmk, awsKeyed, "managed-aws-key-db", "masterUserSecretKmsKeyId");
  });

  it("secret-rotation: RDS-managed and scheduled secrets pass; unrotated ones are reported, advisory", async () => {
    expectPasses(secretRotation, await declared(rotatedSecrets));
    const unrotated = await declared(() => {
      const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
      new aws.secretsmanager.Secret("unrotated-secret", { kmsKeyId: key.arn });
      const slow = new aws.secretsmanager.Secret("slow-secret", { kmsKeyId: key.arn });
      new aws.secretsmanager.SecretRotation("slow-secret", {
        secretId: slow.id,
        rotationLambdaArn: ROTATION_LAMBDA,
        rotationRules: { automaticallyAfterDays: 365 },
      });
      new aws.rds.Instance("static-password-db", { ...database, password: "not-rotated-password" });
    });
    expectFails(secretRotation, unrotated, "unrotated-secret", "SecretRotation");
    expectFails(secretRotation, unrotated, "slow-secret", "rotationRules.automaticallyAfterDays");
    expectFails(secretRotation, unrotated, "static-password-db", "manageMasterUserPassword");
    expect(secretRotation.enforcement).toBe("advisory");
  });
});

/** A host whose role has `statements`, beside a database whose master secret RDS manages. */
function hostReading(statements: (masterSecretArn: pulumi.Output<string>) => unknown[], managed?: string[]): void {
  const db = new aws.rds.Instance("managed-db", { ...database, manageMasterUserPassword: true });
  const role = new aws.iam.Role("host-role", {
    assumeRolePolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
  });
  const policy = new aws.iam.Policy("host-access", {
    policy: pulumi.jsonStringify({
      Version: "2012-10-17",
      Statement: statements(db.masterUserSecrets.apply((secrets) => secrets[0].secretArn)),
    }),
  });
  for (const [index, policyArn] of [policy.arn, ...(managed ?? [])].entries())
    new aws.iam.RolePolicyAttachment(`host-policy-${index}`, { role: role.name, policyArn });
  const profile = new aws.iam.InstanceProfile("host-profile", { role: role.name });
  new aws.ec2.Instance("host", {
    ami: "ami-0123456789abcdef0",
    instanceType: "t3.small",
    iamInstanceProfile: profile.name,
  });
}

const OWN_SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:openemr-aws/clinic/db-app-AbCdEf";
const read = (resource: unknown) => ({ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: resource });

describe("master-secret-not-on-ec2", () => {
  it("passes a host role that reads its own secrets only", async () => {
    expectPasses(masterSecretNotOnEc2, await declared(() => hostReading(() => [read([OWN_SECRET])])));
  });
  it("fails a host role that reads the master secret by its ARN", async () => {
    const resources = await declared(() => hostReading((master) => [read([OWN_SECRET, master])]));
    expect(expectFails(masterSecretNotOnEc2, resources, "host-role", "secretsmanager:GetSecretValue")).toMatch(
      /rds!db-/,
    );
  });
  it('fails a host role that reads every secret, by Resource "*", a wildcard action or an rds! pattern', async () => {
    for (const statement of [
      read("*"),
      { Effect: "Allow", Action: "secretsmanager:*", Resource: "*" },
      read("arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!*"),
    ])
      expectFails(masterSecretNotOnEc2, await declared(() => hostReading(() => [statement])), "host-role", "policy");
  });
  it("fails a host role with an AWS-managed policy that reads every secret", async () => {
    const resources = await declared(() =>
      hostReading(() => [read([OWN_SECRET])], ["arn:aws:iam::aws:policy/SecretsManagerReadWrite"]),
    );
    expectFails(masterSecretNotOnEc2, resources, "host-role", "SecretsManagerReadWrite");
  });
  it("lets a role no instance uses read the master secret (the database-accounts function's)", async () => {
    const resources = await declared(() => {
      hostReading(() => [read([OWN_SECRET])]);
      const role = new aws.iam.Role("function-role", {
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
        }),
      });
      const policy = new aws.iam.Policy("function-access", {
        policy: JSON.stringify({ Version: "2012-10-17", Statement: [read("*")] }),
      });
      new aws.iam.RolePolicyAttachment("function-access", { role: role.name, policyArn: policy.arn });
    });
    expectPasses(masterSecretNotOnEc2, resources);
  });
});
