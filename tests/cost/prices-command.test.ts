// openemr-ops prices --refresh: GetProducts answers shaped like the real API's (each PriceList
// entry a JSON string with product.attributes and terms.OnDemand...pricePerUnit.USD).
import { mkdtempSync, readFileSync, rmSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import { GetProductsCommand, PricingClient } from "@aws-sdk/client-pricing";
import { runCli } from "../scripts/support/cli";
import type { PriceTable } from "../../infra/cost/tables";

const pricing = mockClient(PricingClient);
const scratch = mkdtempSync(join(tmpdir(), "openemr-aws-prices-"));
afterEach(() => pricing.reset());
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function entry(sku: string, attributes: Record<string, string>, unit: string, usd: string): string {
  return JSON.stringify({
    product: { productFamily: "Compute Instance", sku, attributes },
    serviceCode: "AmazonEC2",
    terms: {
      OnDemand: {
        [`${sku}.JRTCKXETXF`]: {
          offerTermCode: "JRTCKXETXF",
          sku,
          effectiveDate: "2026-11-01T00:00:00Z",
          priceDimensions: {
            [`${sku}.JRTCKXETXF.6YS6EN2CT7`]: {
              unit,
              endRange: "Inf",
              description: `$${usd} per ${unit}`,
              appliesTo: [],
              rateCode: `${sku}.JRTCKXETXF.6YS6EN2CT7`,
              beginRange: "0",
              pricePerUnit: { USD: usd },
            },
          },
          termAttributes: {},
        },
      },
    },
    version: "20261101000000",
    publicationDate: "2026-11-01T00:00:00Z",
  });
}

describe("openemr-ops prices --refresh", () => {
  it("replaces the prices the API answers, dated and sourced to the SKU, and keeps the others", async () => {
    const t3Medium = {
      PriceList: [
        entry("ZERO", { instanceType: "t3.medium", regionCode: "eu-west-1" }, "Hrs", "0.0000000000"),
        entry(
          "SKU123",
          { instanceType: "t3.medium", regionCode: "eu-west-1", operatingSystem: "Linux" },
          "Hrs",
          "0.0456000000",
        ),
      ],
      FormatVersion: "aws_v1",
    };
    pricing
      .on(GetProductsCommand)
      .callsFake((input) =>
        input.ServiceCode === "AmazonEC2" &&
        input.Filters.some((filter: { Value: string }) => filter.Value === "t3.medium")
          ? t3Medium
          : { PriceList: [] },
      );
    const file = join(scratch, "eu-west-1.json");
    const run = await runCli(["prices", "--refresh", "--region", "eu-west-1", "--file", file, "--json"]);
    const table: PriceTable = JSON.parse(readFileSync(file, "utf8"));
    const output = JSON.parse(run.stdout);
    expect([run.code, table.region, table.prices["ec2.instance.t3.medium"], output.refreshed]).toEqual([
      0,
      "eu-west-1",
      expect.objectContaining({
        usd: 0.0456,
        confirmed: true,
        source: "AWS Price List API GetProducts (AmazonEC2, SKU SKU123)",
      }),
      ["ec2.instance.t3.medium"],
    ]);
    expect(output.kept).toContain("waf.webAcl");
  });
  it("asks the Price List API in us-east-1 with the region's code", async () => {
    pricing.on(GetProductsCommand).resolves({ PriceList: [] });
    await runCli(["prices", "--refresh", "--region", "ca-central-1", "--file", join(scratch, "ca.json")]);
    const first = pricing.commandCalls(GetProductsCommand)[0].args[0].input;
    expect([await pricing.call(0).thisValue.config.region(), first.Filters]).toEqual([
      "us-east-1",
      expect.arrayContaining([{ Type: "TERM_MATCH", Field: "regionCode", Value: "ca-central-1" }]),
    ]);
  });
  it("without --refresh it fails and says what to pass", async () => {
    const run = await runCli(["prices", "--region", "us-east-1"]);
    expect([run.code, run.stderr]).toEqual([1, expect.stringContaining("pass --refresh")]);
  });
});
