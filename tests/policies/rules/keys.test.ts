// Key rules on real KMS declarations.
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import {
  kmsDeletionWindow,
  kmsKeyAdminSeparated,
  kmsPolicyNoWildcard,
  kmsRotation,
} from "../../../policies/rules/keys";
import { declared, evaluations, expectFails, expectPasses } from "./harness";

const accountRoot = {
  Sid: "Account",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::111122223333:root" },
  Action: "kms:*",
  Resource: "*",
};
const policy = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

/** Rotated, the full deletion window, and a wildcard principal only under a condition. */
function compliantKey(): void {
  new aws.kms.Key("good-key", {
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy: policy(accountRoot, {
      Sid: "ViaEbs",
      Effect: "Allow",
      Principal: "*",
      Action: "kms:Decrypt",
      Resource: "*",
      Condition: { StringEquals: { "kms:ViaService": "ec2.us-east-1.amazonaws.com" } },
    }),
  });
}

describe("key rules", () => {
  it("kms-rotation", async () => {
    expectPasses(kmsRotation, await declared(compliantKey));
    const unrotated = await declared(() => {
      new aws.kms.Key("unrotated-key", { enableKeyRotation: false, deletionWindowInDays: 30 });
    });
    expectFails(kmsRotation, unrotated, "unrotated-key", "enableKeyRotation");
  });

  it("kms-rotation: an asymmetric signing key, which AWS cannot rotate, is not applicable", async () => {
    const signing = await declared(() => {
      new aws.kms.Key("signing-key", {
        keyUsage: "SIGN_VERIFY",
        customerMasterKeySpec: "ECC_NIST_P256",
        enableKeyRotation: false,
        deletionWindowInDays: 30,
      });
    });
    expect(evaluations(kmsRotation, signing).map((result) => result.status)).toEqual(["not-applicable"]);
  });

  it("kms-deletion-window: 30 days", async () => {
    expectPasses(kmsDeletionWindow, await declared(compliantKey));
    const hasty = await declared(() => {
      new aws.kms.Key("hasty-key", { enableKeyRotation: true, deletionWindowInDays: 7 });
    });
    expectFails(kmsDeletionWindow, hasty, "hasty-key", "deletionWindowInDays");
  });

  it("kms-policy-no-wildcard: a conditioned wildcard passes, a bare one fails", async () => {
    expectPasses(kmsPolicyNoWildcard, await declared(compliantKey));
    const open = await declared(() => {
      new aws.kms.Key("open-key", {
        enableKeyRotation: true,
        policy: policy(accountRoot, {
          Sid: "Everyone",
          Effect: "Allow",
          Principal: { AWS: "*" },
          Action: "kms:Decrypt",
          Resource: "*",
        }),
      });
    });
    expectFails(kmsPolicyNoWildcard, open, "open-key", "policy.Statement[Everyone].Principal");
  });

  it("kms-key-admin-separated: administration apart from use, a named administrator, none for a service", async () => {
    const root = { AWS: "arn:aws:iam::111122223333:root" };
    const keyWith =
      (name: string, ...statements: object[]) =>
      () => {
        new aws.kms.Key(name, { policy: policy(...statements) });
      };
    const administer = {
      Sid: "Admin",
      Effect: "Allow",
      Principal: root,
      Action: ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
      Resource: "*",
    };
    const use = {
      Sid: "Use",
      Effect: "Allow",
      Principal: root,
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
    };
    expectPasses(kmsKeyAdminSeparated, await declared(keyWith("separated-key", administer, use)));
    expectFails(
      kmsKeyAdminSeparated,
      await declared(keyWith("root-star-key", accountRoot)),
      "root-star-key",
      "policy.Statement[Account].Action",
    );
    expectFails(
      kmsKeyAdminSeparated,
      await declared(keyWith("unmanaged-key", use)),
      "unmanaged-key",
      "kms:PutKeyPolicy",
    );
    const serviceAdmin = {
      Sid: "Service",
      Effect: "Allow",
      Principal: { Service: "backup.amazonaws.com" },
      Action: "kms:DisableKey",
      Resource: "*",
    };
    expectFails(
      kmsKeyAdminSeparated,
      await declared(keyWith("service-admin-key", administer, serviceAdmin)),
      "service-admin-key",
      "policy.Statement[Service].Action",
    );
    expectFails(
      kmsKeyAdminSeparated,
      await declared(() => {
        new aws.kms.Key("default-policy-key", {});
      }),
      "default-policy-key",
      "policy",
    );
  });
});
