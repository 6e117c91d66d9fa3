// The estimator on small synthetic plans with hand-computed answers, the "not priced" path,
// and each tier's defaults in every region that has a price file.
import { readFileSync } from "fs";
import { describe, expect, it } from "vitest";
import type { OfflineRun, PlannedResource } from "../../infra/offline/run";
import { estimateRun, FREE_TYPES, PRICED_TYPES } from "../../infra/cost/estimate";
import { DEFAULT_TARGETS, estimateTargets } from "../../infra/cost/cli";
import { README_PATH, readmeWithCost } from "../../infra/cost/readme";
import { planStack } from "../../infra/plan/plan";
import {
  CostInputError,
  loadAssumptions,
  loadPrices,
  parseAssumeOptions,
  type PriceTable,
} from "../../infra/cost/tables";

const price = (usd: number, unit: string) => ({
  usd,
  unit,
  description: "",
  read: "2026-12-01",
  source: "test",
  confirmed: true,
});
const prices: PriceTable = {
  region: "test-1",
  currency: "USD",
  term: "test",
  note: "test",
  prices: {
    "ec2.instance.t3.micro": price(0.01, "hour"),
    "ebs.gp3.storage": price(0.1, "GB-month"),
    "cloudwatch.metric": price(0.3, "metric-month"),
    "vpc.natGateway.hour": price(0.05, "hour"),
    "vpc.natGateway.gb": price(0.05, "GB"),
  },
};
const assumption = (value: number) => ({ value, unit: "", why: "" });
const assumptions = {
  hostCustomMetrics: assumption(2),
  ec2DetailedMonitoringMetrics: assumption(7),
  natGbPerMonth: assumption(100),
};

function resource(type: string, name: string, inputs: Record<string, any>): PlannedResource {
  return {
    urn: `urn:pulumi:test::p::${type}::${name}`,
    type,
    name,
    custom: true,
    inputs,
    secretPaths: [],
    state: { ...inputs, id: name },
    protect: false,
    retainOnDelete: false,
    dependsOn: [],
  };
}
const run = (...resources: PlannedResource[]): OfflineRun => ({
  project: "p",
  stack: "test",
  resources,
  outputs: {},
  invokes: [],
});
const estimate = (planned: OfflineRun, overrides?: Record<string, number>) =>
  estimateRun(planned, { region: "test-1", tier: "single", prices, assumptions, overrides });

describe("estimator on synthetic plans", () => {
  it("an instance: 730 h x $0.01 + 20 GB x $0.10 + 2 agent metrics x $0.30 = $9.90", () => {
    const result = estimate(
      run(
        resource("aws:ec2/instance:Instance", "web", {
          instanceType: "t3.micro",
          rootBlockDevice: { volumeType: "gp3", volumeSize: 20 },
        }),
      ),
    );
    expect([result.monthlyUsd, result.items.map((item) => [item.part, item.monthlyUsd])]).toEqual([
      9.9,
      [
        ["compute", 7.3],
        ["root volume", 2],
        ["agent metrics", 0.6],
      ],
    ]);
  });
  it("a NAT gateway: 730 h x $0.05 + 100 GB x $0.05 = $41.50; --assume natGbPerMonth=0 gives $36.50", () => {
    const planned = run(resource("aws:ec2/natGateway:NatGateway", "nat", {}));
    expect([estimate(planned).monthlyUsd, estimate(planned, { natGbPerMonth: 0 }).monthlyUsd]).toEqual([41.5, 36.5]);
  });
  it("each line states its basis as units x price", () => {
    const [item] = estimate(run(resource("aws:ec2/natGateway:NatGateway", "nat", {}))).items;
    expect(item.basis).toBe("730 h x $0.0500 (vpc.natGateway.hour)");
  });
  it("free types are listed with why, and cost nothing", () => {
    const result = estimate(run(resource("aws:iam/role:Role", "role", {})));
    expect([result.monthlyUsd, result.items, result.free.map((item) => item.reason)]).toEqual([
      0,
      [],
      ["IAM has no charge"],
    ]);
  });
  it("not priced: a type without a rule, and a price the table lacks, are listed and left out of the total", () => {
    const result = estimate(
      run(
        resource("aws:dynamodb/table:Table", "table", {}),
        resource("aws:ec2/instance:Instance", "big", {
          instanceType: "m7i.48xlarge",
          rootBlockDevice: { volumeType: "gp3", volumeSize: 20 },
        }),
      ),
    );
    expect([result.monthlyUsd, result.notPriced.map((item) => [item.name, item.reason])]).toEqual([
      0,
      [
        ["table", "no price rule for this resource type"],
        ["big", "no price for ec2.instance.m7i.48xlarge (no such price in config/prices/test-1.json)"],
      ],
    ]);
  });
  it("--assume: an unknown key or a non-number is a usage error", () => {
    const known = loadAssumptions();
    expect(() => parseAssumeOptions(["nope=1"], known)).toThrow(CostInputError);
    expect(() => parseAssumeOptions(["requestsPerMonth=lots"], known)).toThrow(CostInputError);
    expect(parseAssumeOptions(["requestsPerMonth=5"], known)).toEqual({ requestsPerMonth: 5 });
  });
});

const regions = ["us-east-1", "us-west-2", "eu-west-1", "ca-central-1"];

describe("each tier's defaults", () => {
  it("every resource type of the plans is priced or explicitly free (add a rule or a FREE_TYPES entry)", async () => {
    const types = new Set<string>();
    for (const target of [
      ...DEFAULT_TARGETS,
      {
        stackName: "example",
        config: {
          "openemr:tier": "standard",
          "openemr:domain": "emr.example.org",
          "openemr:hostedZoneId": "Z0123456789ABCDEFGHIJ",
          "openemr:alertEmails": JSON.stringify(["it@example.org"]),
        },
      },
    ])
      for (const item of (await planStack(target)).resources)
        if (item.custom && !item.type.startsWith("pulumi:providers:")) types.add(item.type);
    const known = new Set([...PRICED_TYPES, ...Object.keys(FREE_TYPES)]);
    expect([...types].filter((type) => !known.has(type))).toEqual([]);
  }, 120_000);
  for (const region of regions)
    it(`${region}: a positive total, every item priced or free, none "not priced"`, async () => {
      const estimates = await estimateTargets(
        DEFAULT_TARGETS.map((target) => ({ ...target, config: { ...target.config, "openemr:region": region } })),
      );
      for (const result of estimates) {
        const resources = result.items.length ? new Set(result.items.map((item) => item.urn)).size : 0;
        expect([result.monthlyUsd > 0, result.notPriced, resources + result.free.length > 50]).toEqual([
          true,
          [],
          true,
        ]);
      }
    }, 120_000);
  it("every price file has the same keys, each with a unit, a read date and a source", () => {
    const keys = Object.keys(loadPrices("us-east-1").prices).sort();
    for (const region of regions) {
      const table = loadPrices(region);
      expect(Object.keys(table.prices).sort()).toEqual(keys);
      for (const item of Object.values(table.prices))
        expect([
          item.usd > 0,
          item.unit.length > 0,
          /^\d{4}-\d{2}-\d{2}$/.test(item.read),
          item.source.length > 10,
        ]).toEqual([true, true, true, true]);
    }
  });
  it("the README's cost summary is current (npm run docs:cost regenerates it)", async () => {
    const readme = readFileSync(README_PATH, "utf8");
    expect(await readmeWithCost(readme)).toBe(readme);
  }, 120_000);
});
