// Secret rules on real Secrets Manager and RDS declarations.
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { secretCmk, secretRotation } from "../../../policies/rules/secrets";
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
