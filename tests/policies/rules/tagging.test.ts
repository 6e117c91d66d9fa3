// The PHI tag rule on real declarations: tags inherited from the provider's defaultTags, set
// on the resource, overridden, and missing.
import * as aws from "@pulumi/aws";
import { describe, it } from "vitest";
import { phiTagged } from "../../../policies/rules/tagging";
import { declared, expectFails, expectPasses } from "./harness";

const tag = { key: "DataClassification", value: "PHI" };

function taggingProvider(): aws.Provider {
  return new aws.Provider("tagged", { region: "us-east-1", defaultTags: { tags: { DataClassification: "PHI" } } });
}

describe("tagging rules", () => {
  it("phi-tagged: provider default tags or own tags; an override or no tag fails", async () => {
    const tagged = await declared(() => {
      const provider = taggingProvider();
      new aws.s3.Bucket("inherits", {}, { provider });
      new aws.kms.Key("own-tag", { tags: { DataClassification: "PHI" } });
      new aws.s3.BucketVersioning(
        "not-taggable",
        { bucket: "inherits", versioningConfiguration: { status: "Enabled" } },
        { provider },
      );
    });
    expectPasses(phiTagged, tagged, { dataClassificationTag: tag });

    const untagged = await declared(() => {
      const provider = taggingProvider();
      new aws.s3.Bucket("overridden", { tags: { DataClassification: "public" } }, { provider });
      new aws.sns.Topic("untagged", {});
    });
    expectFails(phiTagged, untagged, "overridden", "tags.DataClassification", { dataClassificationTag: tag });
    expectFails(phiTagged, untagged, "untagged", "tags.DataClassification", { dataClassificationTag: tag });
  });
});
