import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  configProperties,
  loadStackFile,
  rawConfigFrom,
  readStackConfig,
  validateConfig,
} from "../../infra/config";
import { CONFIG_DOC_PATH, configDocWithTable } from "../../config/docs-table";
import { canonicalCidr } from "../../infra/ipv4";
import { runOffline } from "../../infra/offline/run";

const examplesDir = join(__dirname, "..", "..", "config", "examples");
const examples = ["Pulumi.single.yaml", "Pulumi.standard.yaml"];

function problemsOf(raw: Record<string, unknown>): string[] {
  return validateConfig(raw).problems;
}

describe("config defaults", () => {
  it("an empty config is valid and takes every schema default", () => {
    const { config, problems } = validateConfig({});
    expect(problems).toEqual([]);
    for (const [key, property] of Object.entries(configProperties)) {
      if (property.default !== undefined) expect(config?.[key as keyof typeof config], key).toEqual(property.default);
    }
  });

  it("instanceType defaults to Graviton t4g.small on every tier (PHP-FPM and MariaDB sized to it)", () => {
    expect([validateConfig({}).config?.instanceType, validateConfig({ tier: "single" }).config?.instanceType]).toEqual([
      "t4g.small",
      "t4g.small",
    ]);
    expect(validateConfig({ tier: "single", instanceType: "t3.large" }).config?.instanceType).toBe("t3.large");
  });

  it("natGateway defaults by tier: a NAT instance on single, the managed gateway on standard", () => {
    expect([validateConfig({}).config?.natGateway, validateConfig({ tier: "single" }).config?.natGateway]).toEqual([
      "managed",
      "instance",
    ]);
    expect(validateConfig({ tier: "single", natGateway: "managed" }).config?.natGateway).toBe("managed");
  });

  it("the cost levers default to the full controls and no interface endpoints", () => {
    expect(validateConfig({}).config).toMatchObject({
      interfaceEndpoints: "none",
      flowLogTrafficType: "ALL",
      wafSqliAndPhpRules: true,
      dashboard: true,
      dbInstanceClass: "db.t4g.small",
      dbStorageGb: 20,
    });
  });

  it("warns when a cost lever gives up part of a control", () => {
    const { warnings } = validateConfig({ flowLogTrafficType: "REJECT", wafSqliAndPhpRules: false });
    expect(warnings).toEqual(
      expect.arrayContaining([
        "openemr:flowLogTrafficType is REJECT: the flow log keeps no record of accepted connections " +
          "(who the host talked to); set ALL for a complete network record",
        "openemr:wafSqliAndPhpRules is false: the WAF runs no SQL-injection or PHP-exploit rule group " +
          "in front of OpenEMR",
      ]),
    );
    expect(validateConfig({ interfaceEndpoints: "host-zone", dashboard: false }).warnings.join("\n")).not.toMatch(
      /interfaceEndpoints|dashboard/,
    );
  });

  it("refuses an interface endpoint placement or flow-log traffic type it does not know", () => {
    expect(problemsOf({ interfaceEndpoints: "host", flowLogTrafficType: "ACCEPT" })).toEqual([
      'openemr:interfaceEndpoints: "host" is not allowed; expected one of "none", "host-zone", "all-zones"',
      'openemr:flowLogTrafficType: "ACCEPT" is not allowed; expected one of "ALL", "REJECT"',
    ]);
  });

  it("the default tier is standard", () => {
    expect(validateConfig({}).config?.tier).toBe("standard");
  });

  it("warns when nobody receives alarms", () => {
    expect(validateConfig({}).warnings).toContain(
      "openemr:alertEmails is empty: alarms go to an SNS topic nobody is subscribed to; set at least one address",
    );
  });
});

describe("config mistakes: each named with its key, value and expectation", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    [
      "a CIDR that is not a CIDR",
      { vpcCidr: "10.0.0.0/33" },
      'openemr:vpcCidr: "10.0.0.0/33" is not an IPv4 CIDR such as 10.40.0.0/16',
    ],
    [
      "an allowed CIDR that is not a CIDR",
      { allowedCidrs: ["10.0.0.0/8", "office"] },
      'openemr:allowedCidrs[1]: "office" is not an IPv4 CIDR such as 10.40.0.0/16',
    ],
    ["an AZ count of 1", { azCount: 1 }, "openemr:azCount: 1 is too small; expected at least 2"],
    [
      "an e-mail that is not one",
      { alertEmails: ["it-at-clinic"] },
      'openemr:alertEmails[0]: "it-at-clinic" is not an e-mail address such as alerts@example.org',
    ],
    [
      "backup retention under the minimum",
      { backupRetentionDays: 3 },
      "openemr:backupRetentionDays: 3 is too small; expected at least 7",
    ],
    [
      "backup retention over what RDS allows",
      { backupRetentionDays: 90 },
      "openemr:backupRetentionDays: 90 is too large; expected at most 35",
    ],
    [
      "log retention under a year",
      { logRetentionDays: 30 },
      "openemr:logRetentionDays: 30 is not allowed; " +
        "expected one of 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653",
    ],
    [
      "object lock under the minimum",
      { objectLockDays: 1 },
      "openemr:objectLockDays: 1 is too small; expected at least 7",
    ],
    [
      "an unknown key close to a known one",
      { tierr: "single" },
      "openemr:tierr: unknown key; did you mean openemr:tier? (see config/schema.json for the keys)",
    ],
    [
      "an unknown key like nothing known",
      { favouriteColour: "blue" },
      "openemr:favouriteColour: unknown key (see config/schema.json for the keys)",
    ],
    [
      "the ha tier without a standby database",
      { tier: "ha", multiAz: false },
      'openemr:multiAz: false on tier "ha"; expected true (or unset): ' +
        "the ha tier's database keeps a standby in a second zone",
    ],
    [
      "an unknown tier",
      { tier: "large" },
      'openemr:tier: "large" is not allowed; expected one of "single", "standard", "ha"',
    ],
    ["a count that is not a number", { azCount: "two" }, 'openemr:azCount: "two" is not a whole number'],
    ["a flag that is not a boolean", { multiAz: "yes" }, 'openemr:multiAz: "yes" is not a boolean'],
    ["a malformed region", { region: "US East" }, 'openemr:region: "US East" is not an AWS region such as us-east-1'],
    [
      "a malformed sha256",
      { openemrSha256: "abc" },
      'openemr:openemrSha256: "abc" is not a sha256 digest: 64 lowercase hex digits',
    ],
    [
      "a bad cost tag key",
      { costTags: { "bad key!": "x" } },
      'openemr:costTags: key "bad key!" is not a tag key of 1 to 128 letters, digits, spaces or _ . : / = + @ -',
    ],
    [
      "a domain that is not a host name",
      { domain: "https://emr.example.org" },
      'openemr:domain: "https://emr.example.org" is not a DNS host name such as emr.example.org',
    ],
    [
      "a VPC CIDR with host bits set",
      { vpcCidr: "10.40.1.0/16" },
      'openemr:vpcCidr: "10.40.1.0/16" has host bits set; did you mean "10.40.0.0/16"?',
    ],
    [
      "an allowed CIDR with host bits set",
      { allowedCidrs: ["203.0.113.7/24"] },
      'openemr:allowedCidrs[0]: "203.0.113.7/24" has host bits set; did you mean "203.0.113.0/24"?',
    ],
    [
      "a VPC too small for its subnets",
      { vpcCidr: "10.40.0.0/24" },
      'openemr:vpcCidr: "10.40.0.0/24" is a /24; ' +
        "expected a /16 to /22 (AWS allows /16 at most, and three subnets a zone need room)",
    ],
    [
      "a public VPC range",
      { vpcCidr: "8.8.0.0/16" },
      'openemr:vpcCidr: "8.8.0.0/16" is not a private range; ' +
        "expected a range inside 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10",
    ],
    [
      "a storage ceiling under the storage",
      { dbStorageGb: 100, dbMaxStorageGb: 50 },
      "openemr:dbMaxStorageGb: 50 is less than 10% above openemr:dbStorageGb (100); " +
        "expected at least 110 (RDS refuses a storage autoscaling ceiling closer to the storage)",
    ],
    [
      "a storage ceiling under 10% above the storage",
      { dbStorageGb: 21, dbMaxStorageGb: 23 },
      "openemr:dbMaxStorageGb: 23 is less than 10% above openemr:dbStorageGb (21); " +
        "expected at least 24 (RDS refuses a storage autoscaling ceiling closer to the storage)",
    ],
    [
      "backups that expire while locked",
      { objectLockDays: 400, backupExpiryDays: 365 },
      "openemr:backupExpiryDays: 365 is below openemr:objectLockDays (400); a backup cannot expire while it is locked",
    ],
    [
      "a zone without a domain",
      { hostedZoneId: "Z0123456789ABCDEFGHIJ" },
      'openemr:hostedZoneId: "Z0123456789ABCDEFGHIJ" is set without openemr:domain; ' +
        "expected openemr:domain too (the name to certify in that zone)",
    ],
    [
      "an OpenEMR older than 8",
      { openemrVersion: "7.0.3" },
      'openemr:openemrVersion: "7.0.3" is too old; expected 8.0.0 or later (health endpoints, PHP 8.4 on Debian 13)',
    ],
  ];

  for (const [what, raw, message] of cases) {
    it(`rejects ${what}`, () => {
      const { config, problems } = validateConfig(raw);
      expect(config).toBeUndefined();
      expect(problems).toContain(message);
    });
  }

  it("reports every problem at once, one line each", () => {
    const problems = problemsOf({
      vpcCidr: "nope",
      azCount: 1,
      alertEmails: ["x"],
      backupRetentionDays: 1,
      tierr: "single",
    });
    expect(problems).toHaveLength(5);
    for (const problem of problems) expect(problem).not.toContain("\n");
  });

  it("accepts a storage ceiling exactly 10% above the storage (RDS's own example: 1000 -> 1100)", () => {
    expect(problemsOf({ dbStorageGb: 1000, dbMaxStorageGb: 1100 })).toEqual([]);
  });

  it.each(["t4g.small", "t4g.medium", "m7g.large", "c7gn.xlarge"])("accepts the Graviton (arm64) type %s", (type) => {
    expect(problemsOf({ instanceType: type })).toEqual([]);
  });
  it("accepts an x86_64 GPU type despite the g in its name", () => {
    expect(problemsOf({ instanceType: "g4dn.xlarge" })).toEqual([]);
  });

  it("canonicalCidr clears host bits", () => {
    expect(canonicalCidr("192.168.17.9/20")).toBe("192.168.16.0/20");
  });
});

describe("engine-style config", () => {
  it("converts strings by the schema's types", () => {
    const { raw, problems } = rawConfigFrom({
      "openemr:azCount": "3",
      "openemr:multiAz": "true",
      "openemr:alertEmails": '["a@example.org"]',
      "openemr:tier": "single",
      "openemr:region": "eu-west-1",
      "aws:region": "eu-west-1",
    });
    expect(problems).toEqual([]);
    expect(raw).toEqual({
      azCount: 3,
      multiAz: true,
      alertEmails: ["a@example.org"],
      tier: "single",
      region: "eu-west-1",
    });
  });

  it("names a key set in the project's namespace instead of openemr:", () => {
    expect(rawConfigFrom({ "openemr-aws:tier": "single" }).problems).toEqual([
      "openemr-aws:tier: set in the project's namespace; did you mean openemr:tier?",
    ]);
  });

  it("readStackConfig throws a ConfigError, a RunError that Pulumi prints without a stack trace", async () => {
    let caught: unknown;
    await runOffline(
      () => {
        try {
          readStackConfig();
        } catch (error) {
          caught = error;
        }
      },
      { config: { "openemr:azCount": "1", "openemr:tier": "large" } },
    );
    expect(caught).toBeInstanceOf(ConfigError);
    expect(pulumi.RunError.isInstance(caught)).toBe(true);
    expect((caught as ConfigError).problems).toHaveLength(2);
    expect((caught as Error).message).toContain("invalid stack configuration:\n  - ");
  });

  it("readStackConfig returns typed values from the engine's strings", async () => {
    let tier: string | undefined;
    let azCount: number | undefined;
    await runOffline(
      () => {
        const config = readStackConfig();
        tier = config.tier;
        azCount = config.azCount;
      },
      { config: { "openemr:tier": "single", "openemr:azCount": "3" } },
    );
    expect(tier).toBe("single");
    expect(azCount).toBe(3);
  });
});

describe("stack files", () => {
  for (const example of examples) {
    it(`${example} is valid`, () => {
      const { raw, problems: namespaceProblems } = rawConfigFrom(loadStackFile(join(examplesDir, example)));
      expect(namespaceProblems).toEqual([]);
      expect(validateConfig(raw).problems).toEqual([]);
    });

    it(`${example} mentions every key of the schema`, () => {
      const text = readFileSync(join(examplesDir, example), "utf8");
      for (const key of Object.keys(configProperties)) expect(text, key).toContain(`openemr:${key}`);
    });
  }

  it("each example sets its own tier", () => {
    expect(loadStackFile(join(examplesDir, "Pulumi.single.yaml"))["openemr:tier"]).toBe("single");
    expect(loadStackFile(join(examplesDir, "Pulumi.standard.yaml"))["openemr:tier"]).toBe("standard");
  });

  it("a missing stack file is a ConfigError naming the file", () => {
    expect(() => loadStackFile("/nonexistent/Pulumi.x.yaml")).toThrowError(
      /\/nonexistent\/Pulumi\.x\.yaml: no such file/,
    );
  });
});

describe("docs/configuration.md", () => {
  it("its configuration table is the one generated from config/schema.json", () => {
    const page = readFileSync(CONFIG_DOC_PATH, "utf8");
    expect(page, "docs/configuration.md is stale: run `npm run docs:config`").toBe(configDocWithTable(page));
  });
});

describe("config mistakes a newcomer makes, all in one run", () => {
  it("lists schema and cross-key problems together, not the second batch after the first is fixed", () => {
    expect(problemsOf({ azCount: 1, vpcCidr: "10.0.0.1/16", dbStorageGb: 100, dbMaxStorageGb: 100 })).toEqual([
      "openemr:azCount: 1 is too small; expected at least 2",
      'openemr:vpcCidr: "10.0.0.1/16" has host bits set; did you mean "10.0.0.0/16"?',
      "openemr:dbMaxStorageGb: 100 is less than 10% above openemr:dbStorageGb (100); expected at least 110 " +
        "(RDS refuses a storage autoscaling ceiling closer to the storage)",
    ]);
  });

  it("does not repeat a refused key in a cross-key problem", () => {
    const problems = problemsOf({ dbStorageGb: "lots", dbMaxStorageGb: 20 });
    expect(problems).toEqual(['openemr:dbStorageGb: "lots" is not a whole number']);
  });

  it("suggests the value an enum typo meant", () => {
    expect(problemsOf({ tier: "standrad" })).toEqual([
      'openemr:tier: "standrad" is not allowed; expected one of "single", "standard", "ha"; did you mean "standard"?',
    ]);
  });

  it("warns about keys the chosen tier does not use", () => {
    expect(validateConfig({ tier: "single", multiAz: true, dbInstanceClass: "db.t4g.small" }).warnings).toEqual(
      expect.arrayContaining([
        "openemr:multiAz is set, but tier single does not use it (it applies to standard and ha); " +
          "remove it, or set openemr:tier",
        "openemr:dbInstanceClass is set, but tier single does not use it (it applies to standard and ha); " +
          "remove it, or set openemr:tier",
      ]),
    );
    expect(validateConfig({ tier: "standard", dbInstanceClass: "db.t4g.small" }).warnings.join("\n")).not.toContain(
      "does not use it",
    );
  });

  it("refuses an aws:region that disagrees with openemr:region, naming both", () => {
    expect(rawConfigFrom({ "aws:region": "eu-west-1", "openemr:region": "us-east-1" }).problems).toEqual([
      'aws:region: "eu-west-1" disagrees with openemr:region ("us-east-1"); the stack deploys to openemr:region: ' +
        'set it to "eu-west-1", or remove aws:region',
    ]);
    expect(rawConfigFrom({ "aws:region": "eu-west-1" }).problems).toEqual([
      'aws:region: "eu-west-1" disagrees with openemr:region ("us-east-1", its default); the stack deploys to ' +
        'openemr:region: set it to "eu-west-1", or remove aws:region',
    ]);
    expect(rawConfigFrom({ "aws:region": "eu-west-1", "openemr:region": "eu-west-1" }).problems).toEqual([]);
  });

  function stackFile(name: string, text: string): string {
    const dir = mkdtempSync(join(tmpdir(), "stack-file-"));
    const file = join(dir, name);
    writeFileSync(file, text);
    return file;
  }

  function problemsOfFile(file: string): string[] {
    try {
      loadStackFile(file);
    } catch (error) {
      return (error as ConfigError).problems;
    }
    return [];
  }

  it("refuses an empty stack file, and one whose keys are not under config:, saying what it should hold", () => {
    const shape = 'expected "config:" with openemr:* keys indented under it (see config/examples/)';
    const empty = stackFile("Pulumi.empty.yaml", "");
    expect(problemsOfFile(empty)).toEqual([`${empty}: the file is empty; ${shape}`]);
    const flat = stackFile("Pulumi.flat.yaml", "openemr:tier: single\nopenemr:region: us-east-1\n");
    expect(problemsOfFile(flat)).toEqual([
      `${flat}: no "config:" map (found openemr:tier, openemr:region at the top level); ${shape}`,
    ]);
    const bare = stackFile("Pulumi.bare.yaml", "config: {}\n");
    expect(problemsOfFile(bare)).toEqual([`${bare}: "config:" is empty; ${shape}`]);
  });

  it("names the file, line and column of a YAML syntax error on one line", () => {
    const broken = stackFile("Pulumi.broken.yaml", "config:\n  openemr:tier: single\n openemr:region: [us-east-1\n");
    const [problem] = problemsOfFile(broken);
    expect(problem).toMatch(new RegExp(`^${broken.replace(/[.]/g, "\\.")}:\\d+:\\d+: \\S.*[^:]$`));
    expect(problem).not.toContain("\n");
  });
});

describe("docs/configuration.md: the config mistakes example", () => {
  it("shows what the plan prints for that stack file", () => {
    const page = readFileSync(CONFIG_DOC_PATH, "utf8");
    const block = page.split("<!-- config-mistakes:start")[1].split("<!-- config-mistakes:end")[0];
    const shown = block.split("```")[1].trim().split("\n");
    const dir = mkdtempSync(join(tmpdir(), "config-mistakes-example-"));
    const file = join(dir, "Pulumi.clinic.yaml");
    writeFileSync(
      file,
      "config:\n  openemr:tierr: single\n  openemr:azCount: 1\n  openemr:allowedCidrs:\n    - 1.2.3.4/24\n",
    );
    const { raw, problems: namespaceProblems } = rawConfigFrom(loadStackFile(file));
    expect(shown).toEqual([
      "plan clinic: invalid stack configuration:",
      ...namespaceProblems,
      ...validateConfig(raw).problems,
    ]);
  });
});
