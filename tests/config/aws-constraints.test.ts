import { readFileSync } from "fs";
import { join } from "path";
import { describe, expect, it } from "vitest";
import { AWS_CONSTRAINTS_DOC_PATH, awsConstraints, awsConstraintsDoc } from "../../infra/aws-constraints";
import { CLOUDWATCH_LOG_RETENTION_DAYS } from "../../infra/components/audit";
import {
  ConfigError,
  configProperties,
  loadStackFile,
  rawConfigFrom,
  readStackConfig,
  type StackConfig,
  validateConfig,
} from "../../infra/config";
import { STACK_NAME } from "../../infra/constraint";
import { runOffline } from "../../infra/offline/run";
import { createStack } from "../../infra/stack";

/** The schema's defaults (which pass every check) with `overrides`: for a constraint the schema already guards. */
function configWith(overrides: Partial<StackConfig>): StackConfig {
  return { ...validateConfig({}).config!, ...overrides };
}

function constraint(id: string) {
  const found = awsConstraints.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no constraint ${id}`);
  return found;
}

const LONG_DOMAIN = `${"a".repeat(60)}.example.org`;
const THIRTY_ONE_RANGES = Array.from({ length: 31 }, (_, index) => `198.51.${index}.0/24`);
const FORTY_FIVE_TAGS = Object.fromEntries(Array.from({ length: 45 }, (_, index) => [`Tag${index}`, "x"]));

/**
 * One config per constraint that the program accepted before the constraints were checked (or, where
 * the schema already refuses it, noted), and the exact problem it now gets.
 */
const cases: Array<{ ids: string[]; raw: Record<string, unknown>; stackName?: string; problems: string[] }> = [
  {
    ids: ["vpc-cidr-size"],
    raw: { vpcCidr: "10.40.0.0/24" },
    problems: [
      'openemr:vpcCidr: "10.40.0.0/24" is a /24; ' +
        "expected a /16 to /22 (AWS allows /16 at most, and three subnets a zone need room)",
    ],
  },
  {
    ids: ["security-group-inbound-rules"],
    raw: { allowedCidrs: THIRTY_ONE_RANGES },
    problems: [
      "openemr:allowedCidrs: 31 ranges is too many; expected at most 30 " +
        "(two inbound rules each, and a security group holds 60 by default)",
    ],
  },
  {
    ids: ["ec2-ebs-optimized"],
    raw: { instanceType: "t2.micro" },
    problems: [
      'openemr:instanceType: "t2.micro" is a t2 type, which cannot be EBS-optimized; ' +
        "expected another family such as t3.small, t3.medium or t4g.small",
    ],
  },
  {
    ids: ["aws-partition"],
    raw: { region: "us-gov-west-1", copyRegion: "cn-north-1" },
    problems: [
      'openemr:region: "us-gov-west-1" is outside AWS\'s commercial partition; ' +
        "expected a commercial region such as us-east-1 (GovCloud and China regions are not supported)",
      'openemr:copyRegion: "cn-north-1" is outside AWS\'s commercial partition; ' +
        "expected a commercial region such as us-east-1 (GovCloud and China regions are not supported)",
    ],
  },
  {
    ids: ["rds-max-storage-headroom"],
    raw: { dbStorageGb: 21, dbMaxStorageGb: 23 },
    problems: [
      "openemr:dbMaxStorageGb: 23 is less than 10% above openemr:dbStorageGb (21); " +
        "expected at least 24 (RDS refuses a storage autoscaling ceiling closer to the storage)",
    ],
  },
  {
    ids: ["rds-mysql-instance-class"],
    raw: { dbInstanceClass: "db.t2.micro" },
    problems: [
      'openemr:dbInstanceClass: "db.t2.micro" is a db.t2 class, which RDS for MySQL 8.4 does not run on; ' +
        "expected a current class such as db.t4g.small, db.t4g.medium or db.m7g.large",
    ],
  },
  {
    ids: ["copy-region-differs"],
    raw: { region: "us-west-2", copyRegion: "us-west-2" },
    problems: [
      'openemr:copyRegion: "us-west-2" is openemr:region itself; expected another region ' +
        "(a copy in the same region survives no regional outage), or empty for none",
    ],
  },
  {
    ids: ["elb-log-delivery-account"],
    raw: { region: "eu-central-2" },
    problems: [
      'openemr:region: "eu-central-2" has no Elastic Load Balancing log-delivery account, which the ' +
        "stack's access-log bucket policy names; expected a region opened before August 2022, such as " +
        "us-east-1, us-west-2 or eu-central-1",
    ],
  },
  {
    ids: ["backup-vault-name"],
    raw: { copyRegion: "us-west-2" },
    stackName: "clinic-downtown-family-practice-prod-1",
    problems: [
      'stack name: "clinic-downtown-family-practice-prod-1" makes the AWS Backup vault name ' +
        '"clinic-downtown-family-practice-prod-1-openemr-copy"; expected a vault name of at most 50 letters, ' +
        "digits, '-' and '_' (so a stack name of at most 37 of them)",
    ],
  },
  {
    ids: ["backup-plan-and-selection-names"],
    raw: {},
    stackName: "clinic-downtown-family-practice-prod-east-1",
    problems: [
      'stack name: "clinic-downtown-family-practice-prod-east-1" makes the AWS Backup vault name ' +
        '"clinic-downtown-family-practice-prod-east-1-openemr"; expected a vault name of at most 50 letters, ' +
        "digits, '-' and '_' (so a stack name of at most 42 of them)",
      'stack name: "clinic-downtown-family-practice-prod-east-1" makes the AWS Backup selection name ' +
        '"clinic-downtown-family-practice-prod-east-1-openemr"; ' +
        "expected a selection name of at most 50 letters, digits, '-', '_' and '.'",
    ],
  },
  {
    ids: ["acm-domain-length"],
    raw: { domain: LONG_DOMAIN },
    problems: [
      `openemr:domain: "${LONG_DOMAIN}" is 72 characters long; ` +
        "expected at most 64 (the certificate's Common Name, which ACM limits)",
    ],
  },
  {
    ids: ["kms-alias-name", "waf-web-acl-name", "sns-topic-name", "cloudwatch-dashboard-name"],
    raw: {},
    stackName: "prod.v2",
    problems: [
      'stack name: "prod.v2" makes the KMS alias "alias/openemr-aws/prod.v2/alerts"; ' +
        "expected a stack name of letters, digits, '-' and '_' only (a KMS alias allows no other character)",
      'stack name: "prod.v2" makes the AWS Backup vault name "prod.v2-openemr"; ' +
        "expected a vault name of at most 50 letters, digits, '-' and '_' (so a stack name of at most 42 of them)",
      'stack name: "prod.v2" makes the WAF web ACL name "prod.v2-openemr"; ' +
        "expected a stack name of letters, digits, '-' and '_' only (a web ACL name allows no other character)",
      'stack name: "prod.v2" makes the SNS topic name "prod.v2-openemr-alarms"; ' +
        "expected a stack name of letters, digits, '-' and '_' only (an SNS topic name allows no other character)",
      'stack name: "prod.v2" makes the CloudWatch dashboard name (openemr:dashboard is true) "prod.v2-openemr"; ' +
        "expected a stack name of letters, digits, '-' and '_' only (a dashboard name allows no other character)",
    ],
  },
  {
    ids: ["cloudtrail-trail-name"],
    raw: {},
    stackName: "lab-",
    problems: [
      'stack name: "lab-" makes the CloudTrail trail name (openemr:createCloudTrail is true) "lab--openemr"; ' +
        "expected a stack name that starts with a letter or digit and has no two of '.', '_', '-' side by side, " +
        "nor one at its end",
    ],
  },
  {
    ids: ["resource-tags"],
    raw: { costTags: { "aws:team": "billing", Owner: "Dr. Smith (billing)" } },
    problems: [
      'openemr:costTags: key "aws:team" starts with "aws:"; expected a key without that prefix, which AWS reserves',
      'openemr:costTags["Owner"]: "Dr. Smith (billing)" is not a tag value AWS accepts; ' +
        "expected letters, digits, spaces and _ . : / = + @ - only, not starting with aws:",
    ],
  },
];

/** Constraints the schema already enforces (its bounds lie within AWS's): checked on a config past the schema. */
const schemaGuarded: Array<{ id: string; config: Partial<StackConfig>; problems: string[] }> = [
  {
    id: "load-balancer-zones",
    config: { azCount: 1 },
    problems: ["openemr:azCount: 1 is too few zones; expected at least 2 (a load balancer needs two)"],
  },
  {
    id: "ebs-gp3-size",
    config: { dataVolumeGb: 20000 },
    problems: ["openemr:dataVolumeGb: 20000 is outside gp3's sizes; expected 1 to 16384 GiB"],
  },
  {
    id: "backup-vault-lock-cooling-off",
    config: { backupVaultLock: true, backupVaultLockChangeableDays: 2 },
    problems: [
      "openemr:backupVaultLockChangeableDays: 2 is too short; " +
        "expected at least 3 days (AWS Backup's cooling-off period before the lock holds)",
    ],
  },
  {
    id: "rds-backup-retention",
    config: { backupRetentionDays: 36 },
    problems: ["openemr:backupRetentionDays: 36 is outside RDS's range; expected 1 to 35 days"],
  },
  {
    id: "cloudwatch-log-retention",
    config: { logRetentionDays: 366 },
    problems: [
      "openemr:logRetentionDays: 366 is not a retention CloudWatch Logs accepts; expected one of " +
        "1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ],
  },
];

describe("AWS constraints: each refuses what AWS would, naming the key, the value and what is expected", () => {
  for (const { ids, raw, stackName, problems } of cases) {
    it(`${ids.join(", ")}: ${JSON.stringify(raw)}${stackName ? ` on stack ${stackName}` : ""}`, () => {
      const result = validateConfig(raw, stackName ?? "clinic-prod");
      expect(result.config).toBeUndefined();
      expect(result.problems).toEqual(problems);
    });
  }

  for (const { id, config, problems } of schemaGuarded) {
    it(`${id}: the schema refuses ${JSON.stringify(config)} first; the constraint says why AWS would`, () => {
      expect(validateConfig(config).problems).not.toEqual([]);
      expect(constraint(id).problems({ config: configWith(config), stackName: "clinic-prod" })).toEqual(problems);
    });
  }

  it("every constraint has a case above (a constraint nobody saw fail is not known to work)", () => {
    const covered = new Set([...cases.flatMap((entry) => entry.ids), ...schemaGuarded.map((entry) => entry.id)]);
    expect(awsConstraints.map((entry) => entry.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  it("a problem in a refused key is the schema's line only, and the stack name is checked only when known", () => {
    expect(validateConfig({ dbStorageGb: "lots", dbMaxStorageGb: 20 }).problems).toEqual([
      'openemr:dbStorageGb: "lots" is not a whole number',
    ]);
    expect(validateConfig({}, "clinic.prod").problems).not.toEqual([]);
    expect(validateConfig({}).problems).toEqual([]);
  });

  it("cross-key constraints apply only where their resource exists", () => {
    // No RDS on `single`, no dashboard or trail when they are off.
    expect(validateConfig({ tier: "single", dbInstanceClass: "db.t2.micro", dbMaxStorageGb: 20 }).problems).toEqual([]);
    expect(validateConfig({ createCloudTrail: false }, "lab-").problems).toEqual([]);
    expect(
      validateConfig({ dashboard: false }, "clinic.prod").problems.some((problem) => problem.includes("dashboard")),
    ).toBe(false);
  });

  it("accepts the edges AWS accepts", () => {
    expect(validateConfig({ allowedCidrs: THIRTY_ONE_RANGES.slice(0, 30) }).problems).toEqual([]);
    expect(validateConfig({ domain: `${"a".repeat(52)}.example.org` }).problems).toEqual([]);
    // A certificate the clinic brings is not requested: its names are its own.
    const certificateArn = "arn:aws:acm:us-east-1:111122223333:certificate/01234567-89ab-cdef-0123-456789abcdef";
    expect(validateConfig({ domain: LONG_DOMAIN, certificateArn }).problems).toEqual([]);
    expect(validateConfig({ copyRegion: "us-west-2" }, "a".repeat(37)).problems).toEqual([]);
    expect(validateConfig({}, "a".repeat(42)).problems).toEqual([]);
    expect(validateConfig({ costTags: { CostCenter: "clinic-1", Owner: "Dr. Smith" } }).problems).toEqual([]);
    expect(
      validateConfig({ costTags: Object.fromEntries(Object.entries(FORTY_FIVE_TAGS).slice(0, 44)) }).problems,
    ).toEqual([]);
  });

  it("counts the tags a resource would carry", () => {
    expect(validateConfig({ costTags: FORTY_FIVE_TAGS }).problems).toEqual([
      "openemr:costTags: 45 tags is too many; expected at most 44 (AWS allows 50 a resource)",
    ]);
  });

  it("the defaults and the examples pass every constraint, on the examples' stack names", () => {
    expect(validateConfig({}, "dev").problems).toEqual([]);
    for (const stack of ["single", "standard"]) {
      const { raw } = rawConfigFrom(
        loadStackFile(join(__dirname, "..", "..", "config", "examples", `Pulumi.${stack}.yaml`)),
      );
      expect(validateConfig(raw, stack).problems, stack).toEqual([]);
    }
  });

  it("the program stops on a stack name AWS would refuse before declaring any resource", async () => {
    let caught: unknown;
    const run = await runOffline(
      () => {
        try {
          return createStack(readStackConfig());
        } catch (error) {
          caught = error;
        }
      },
      { stack: "clinic.prod" },
    );
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems[0]).toMatch(/^stack name: "clinic\.prod" makes the KMS alias/);
    expect(run.resources.filter((resource) => resource.custom)).toEqual([]);
  });
});

describe("the constraint list", () => {
  it("gives every constraint an AWS documentation page, a rule and the keys it reads", () => {
    const schemaKeys = Object.keys(configProperties);
    for (const entry of awsConstraints) {
      expect(entry.doc, entry.id).toMatch(/^https:\/\/docs\.aws\.amazon\.com\/\S+$/);
      expect(entry.rule.length, entry.id).toBeGreaterThan(20);
      expect(entry.keys.length, entry.id).toBeGreaterThan(0);
      for (const key of entry.keys) expect([...schemaKeys, STACK_NAME], entry.id).toContain(key);
    }
    expect(new Set(awsConstraints.map((entry) => entry.id)).size).toBe(awsConstraints.length);
  });

  it("the schema's log retentions are all ones CloudWatch Logs accepts", () => {
    for (const days of configProperties.logRetentionDays.enum ?? [])
      expect(CLOUDWATCH_LOG_RETENTION_DAYS).toContain(days);
  });

  it("docs/aws-constraints.md is the one generated from the list", () => {
    expect(
      readFileSync(AWS_CONSTRAINTS_DOC_PATH, "utf8"),
      "docs/aws-constraints.md is stale: run `npm run docs:constraints`",
    ).toBe(awsConstraintsDoc());
  });
});
