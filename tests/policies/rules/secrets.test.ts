// Secret rules on real Secrets Manager and RDS declarations.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, expect, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { secretCmk, secretRotation } from "../../../policies/rules/secrets";
import { declared, expectFails, expectPasses } from "./harness";

describe("secret rules", () => {
  let good: RuleResource[];
  let bad: RuleResource[];
  beforeAll(async () => {
    good = await declared(() => {
      const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
      const secret = new aws.secretsmanager.Secret("rotated-secret", { kmsKeyId: key.arn });
      new aws.secretsmanager.SecretRotation("rotated-secret", {
        secretId: secret.id,
        rotationLambdaArn: "arn:aws:lambda:us-east-1:111122223333:function:rotate",
        rotationRules: { automaticallyAfterDays: 30 },
      });
      new aws.rds.Instance("managed-db", {
        engine: "mysql",
        instanceClass: "db.t4g.medium",
        allocatedStorage: 20,
        username: "dbadmin",
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: key.arn,
      });
    });
    bad = await declared(() => {
      new aws.secretsmanager.Secret("default-key-secret", {});
      const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
      new aws.secretsmanager.Secret("unrotated-secret", { kmsKeyId: key.arn });
      const slow = new aws.secretsmanager.Secret("slow-secret", { kmsKeyId: key.arn });
      new aws.secretsmanager.SecretRotation("slow-secret", {
        secretId: slow.id,
        rotationLambdaArn: "arn:aws:lambda:us-east-1:111122223333:function:rotate",
        rotationRules: { automaticallyAfterDays: 365 },
      });
      new aws.rds.Instance("managed-aws-key-db", {
        engine: "mysql",
        instanceClass: "db.t4g.medium",
        allocatedStorage: 20,
        username: "dbadmin",
        manageMasterUserPassword: true,
      });
      new aws.rds.Instance("static-password-db", {
        engine: "mysql",
        instanceClass: "db.t4g.medium",
        allocatedStorage: 20,
        username: "dbadmin",
        password: "not-rotated-password",
      });
    });
  });

  it("secret-cmk: secrets and the RDS-managed master secret use a customer key", () => {
    expectPasses(secretCmk, good);
    expectFails(secretCmk, bad, "default-key-secret", "kmsKeyId");
    expectFails(secretCmk, bad, "managed-aws-key-db", "masterUserSecretKmsKeyId");
  });

  it("secret-rotation: RDS-managed and scheduled secrets pass; unrotated ones are reported, advisory", () => {
    expectPasses(secretRotation, good);
    expectFails(secretRotation, bad, "unrotated-secret", "SecretRotation");
    expectFails(secretRotation, bad, "slow-secret", "rotationRules.automaticallyAfterDays");
    expectFails(secretRotation, bad, "static-password-db", "manageMasterUserPassword");
    expect(secretRotation.enforcement).toBe("advisory");
  });
});
