// The second copy of the backups (openemr:copyRegion) on a small synthetic plan with hand-computed
// answers: the replica bucket's storage at the copy region's prices, the replication's PUTs and
// inter-region transfer, and AWS Backup's copied snapshots and the transfer of each day's changes.
// Without the copy region's price file those resources are "not priced", never zero.
import { describe, expect, it } from "vitest";
import type { OfflineRun, PlannedResource } from "../../infra/offline/run";
import { estimateRun } from "../../infra/cost/estimate";
import type { PriceTable } from "../../infra/cost/tables";

const price = (usd: number) => ({
  usd,
  unit: "",
  description: "",
  read: "2026-12-02",
  source: "test",
  confirmed: true,
});
const table = (region: string, prices: Record<string, number>): PriceTable => ({
  region,
  currency: "USD",
  term: "test",
  note: "test",
  prices: Object.fromEntries(Object.entries(prices).map(([key, usd]) => [key, price(usd)])),
});
// The copy region is dearer than the primary, so a line at the wrong region's price shows.
const primary = table("test-1", {
  "s3.put": 0.005,
  "backup.rds.storage": 0.1,
  "dataTransfer.interRegion.gb": 0.02,
  "rds.mysql.db.t4g.small.singleAz": 0,
  "rds.gp3.storage.singleAz": 0,
  "rds.backup.storage": 0,
});
const copy = table("test-2", {
  "s3.put": 0.01,
  "s3.standardIa.storage": 0.02,
  "s3.glacierIr.storage": 0.005,
  "backup.rds.storage": 0.2,
});
const assumption = (value: number) => ({ value, unit: "", why: "" });
const assumptions = {
  logicalBackupGb: assumption(3),
  logicalBackupsPerDay: assumption(1),
  replicatedObjectsPerMonth: assumption(10_000),
  snapshotUsedFraction: assumption(0.5),
  snapshotDailyChangeFraction: assumption(0.02),
};

function resource(type: string, name: string, inputs: Record<string, any>, state: Record<string, any> = {}) {
  return {
    urn: `urn:pulumi:test::p::${type}::${name}`,
    type,
    name,
    custom: true,
    inputs,
    secretPaths: [],
    state: { ...inputs, id: name, ...state },
    protect: false,
    retainOnDelete: false,
    dependsOn: [],
  } as PlannedResource;
}
const plan: OfflineRun = {
  stack: "copy",
  resources: [
    resource("aws:s3/bucket:Bucket", "backup-storage-replica", {}, { arn: "arn:aws:s3:::replica" }),
    resource("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "replica-lifecycle", {
      bucket: "backup-storage-replica",
      rules: [
        { status: "Enabled", transitions: [{ days: 30, storageClass: "GLACIER_IR" }], expiration: { days: 100 } },
      ],
    }),
    resource("aws:s3/bucketReplicationConfig:BucketReplicationConfig", "backup-storage-replication", {
      rules: [{ destination: { bucket: "arn:aws:s3:::replica", storageClass: "STANDARD_IA" } }],
    }),
    resource(
      "aws:rds/instance:Instance",
      "database",
      { instanceClass: "db.t4g.small", allocatedStorage: 20, storageType: "gp3", backupRetentionPeriod: 1 },
      { arn: "arn:aws:rds:test-1:111122223333:db:database" },
    ),
    resource("aws:backup/plan:Plan", "plan", {
      rules: [{ lifecycle: { deleteAfter: 11 }, copyActions: [{ destinationVaultArn: "arn:copy-vault" }] }],
    }),
    resource("aws:backup/selection:Selection", "selection", {
      planId: "plan",
      resources: ["arn:aws:rds:test-1:111122223333:db:database"],
    }),
  ],
} as unknown as OfflineRun;

const estimate = (copyPrices?: PriceTable) =>
  estimateRun(plan, { region: "test-1", tier: "standard", prices: primary, copyPrices, assumptions });
const usd = (name: string, part: string, result = estimate(copy)) =>
  result.items.find((item) => item.name === name && item.part === part)?.monthlyUsd;

describe("the copy region's costs", () => {
  it("replica storage: 3 GB a day in Standard-IA for 30 days, then Glacier IR to day 100, at its prices", () => {
    // 90 GB-month x $0.02 = $1.80; 210 GB-month x $0.005 = $1.05
    expect(usd("backup-storage-replica", "storage STANDARD_IA")).toBe(1.8);
    expect(usd("backup-storage-replica", "storage GLACIER_IR")).toBe(1.05);
  });

  it("replication: 10,000 PUTs at the copy region's $0.01 per 1,000, and 91.25 GB across at $0.02", () => {
    expect(usd("backup-storage-replication", "replication requests")).toBe(0.1);
    // 3 GB x 365 / 12 days = 91.25 GB x $0.02 = $1.825
    expect(usd("backup-storage-replication", "inter-region transfer")).toBe(1.825);
  });

  it("copied snapshots: the same chain at the copy region's price, and each day's changes sent across", () => {
    // 20 GB x 0.5 x (1 + 0.02 x 10) = 12 GB-month: $1.20 here, $2.40 there
    expect(usd("selection", "snapshots of database")).toBe(1.2);
    expect(usd("selection", "copied snapshots of database")).toBe(2.4);
    // 20 GB x 0.5 x 0.02 x 365 / 12 = 6.083 GB x $0.02 = $0.1217
    expect(usd("selection", "snapshot copy transfer of database")).toBe(0.1217);
  });

  it("without the copy region's price file they are not priced, never zero", () => {
    const result = estimate(undefined);
    expect(result.notPriced.map((item) => item.name).sort()).toEqual([
      "backup-storage-replica",
      "backup-storage-replication",
      "selection",
    ]);
  });
});
