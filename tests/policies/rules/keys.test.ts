// Key rules on real KMS declarations.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { kmsDeletionWindow, kmsPolicyNoWildcard, kmsRotation } from "../../../policies/rules/keys";
import { declared, expectFails, expectPasses } from "./harness";

const accountRoot = {
  Sid: "Account",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::111122223333:root" },
  Action: "kms:*",
  Resource: "*",
};
const policy = (...statements: object[]) => JSON.stringify({ Version: "2012-10-17", Statement: statements });

describe("key rules", () => {
  let resources: RuleResource[];
  let compliant: RuleResource[];
  beforeAll(async () => {
    resources = await declared(() => {
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
      new aws.kms.Key("unrotated-key", { enableKeyRotation: false, deletionWindowInDays: 30 });
      new aws.kms.Key("hasty-key", { enableKeyRotation: true, deletionWindowInDays: 7 });
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
    compliant = resources.filter((resource) => resource.name === "good-key");
  });

  it("kms-rotation", () => {
    expectPasses(kmsRotation, compliant);
    expectFails(kmsRotation, resources, "unrotated-key", "enableKeyRotation");
  });

  it("kms-deletion-window: 30 days", () => {
    expectPasses(kmsDeletionWindow, compliant);
    expectFails(kmsDeletionWindow, resources, "hasty-key", "deletionWindowInDays");
  });

  it("kms-policy-no-wildcard: a conditioned wildcard passes, a bare one fails", () => {
    expectPasses(kmsPolicyNoWildcard, compliant);
    expectFails(kmsPolicyNoWildcard, resources, "open-key", "policy.Statement[Everyone].Principal");
  });
});
