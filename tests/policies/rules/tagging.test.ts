// The PHI tag rule on real declarations: tags inherited from the provider's defaultTags, set
// on the resource, overridden, and missing.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { phiTagged } from "../../../policies/rules/tagging";
import { declared, expectFails, expectPasses } from "./harness";

const tag = { key: "DataClassification", value: "PHI" };

describe("tagging rules", () => {
  let good: RuleResource[];
  let bad: RuleResource[];
  beforeAll(async () => {
    good = await declared(() => {
      const provider = new aws.Provider("tagged", {
        region: "us-east-1",
        defaultTags: { tags: { DataClassification: "PHI" } },
      });
      new aws.s3.Bucket("inherits", {}, { provider });
      new aws.kms.Key("own-tag", { tags: { DataClassification: "PHI" } });
      new aws.s3.BucketVersioning(
        "not-taggable",
        { bucket: "inherits", versioningConfiguration: { status: "Enabled" } },
        { provider },
      );
    });
    bad = await declared(() => {
      const provider = new aws.Provider("tagged", {
        region: "us-east-1",
        defaultTags: { tags: { DataClassification: "PHI" } },
      });
      new aws.s3.Bucket("overridden", { tags: { DataClassification: "public" } }, { provider });
      new aws.sns.Topic("untagged", {});
    });
  });

  it("phi-tagged: provider default tags or own tags; an override or no tag fails", () => {
    expectPasses(phiTagged, good, { dataClassificationTag: tag });
    expectFails(phiTagged, bad, "overridden", "tags.DataClassification", { dataClassificationTag: tag });
    expectFails(phiTagged, bad, "untagged", "tags.DataClassification", { dataClassificationTag: tag });
  });
});
