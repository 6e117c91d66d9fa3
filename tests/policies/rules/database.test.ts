// Database rules on real RDS declarations: a compliant instance (the stack's settings) and one
// instance per broken property.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, expect, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import { evaluate } from "../../../policies/engine";
import {
  rdsBackupRetention,
  rdsCmk,
  rdsDeletionProtection,
  rdsEnhancedMonitoring,
  rdsLogExports,
  rdsMinorUpgrade,
  rdsMultiAz,
  rdsNotPublic,
  rdsPiCmk,
  rdsRequireTls,
  rdsStorageEncrypted,
} from "../../../policies/rules/database";
import { declared, expectFails, expectPasses } from "./harness";

function database(
  name: string,
  key: aws.kms.Key,
  parameterGroup: aws.rds.ParameterGroup,
  overrides: Partial<aws.rds.InstanceArgs> = {},
): aws.rds.Instance {
  return new aws.rds.Instance(name, {
    identifier: name,
    engine: "mysql",
    engineVersion: "8.4",
    instanceClass: "db.t4g.medium",
    allocatedStorage: 50,
    storageEncrypted: true,
    kmsKeyId: key.arn,
    publiclyAccessible: false,
    multiAz: true,
    parameterGroupName: parameterGroup.name,
    username: "dbadmin",
    manageMasterUserPassword: true,
    masterUserSecretKmsKeyId: key.arn,
    deletionProtection: true,
    backupRetentionPeriod: 35,
    autoMinorVersionUpgrade: true,
    enabledCloudwatchLogsExports: ["audit", "error", "general", "slowquery"],
    monitoringInterval: 60,
    performanceInsightsEnabled: true,
    performanceInsightsKmsKeyId: key.arn,
    ...overrides,
  });
}

function tlsParameters(name: string, value: string): aws.rds.ParameterGroup {
  return new aws.rds.ParameterGroup(name, {
    name,
    family: "mysql8.4",
    parameters: [{ name: "require_secure_transport", value }],
  });
}

function databases(): void {
  const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
  const tls = tlsParameters("tls-required", "1");
  database("compliant-db", key, tls);
  database("plain-db", key, tls, { storageEncrypted: false, kmsKeyId: undefined });
  database("aws-key-db", key, tls, { kmsKeyId: "alias/aws/rds" });
  database("public-db", key, tls, { publiclyAccessible: true });
  database("short-backups-db", key, tls, { backupRetentionPeriod: 1 });
  database("single-az-db", key, tls, { multiAz: false });
  database("unprotected-db", key, tls, { deletionProtection: false });
  database("quiet-db", key, tls, { enabledCloudwatchLogsExports: ["error"] });
  database("unmonitored-db", key, tls, { monitoringInterval: 0 });
  database("pinned-db", key, tls, { autoMinorVersionUpgrade: false });
  database("plaintext-db", key, tlsParameters("tls-optional", "0"));
  database("pi-aws-key-db", key, tls, { performanceInsightsKmsKeyId: undefined });
}

describe("database rules", () => {
  let resources: RuleResource[];
  let compliant: RuleResource[];
  beforeAll(async () => {
    resources = await declared(databases);
    compliant = resources.filter(
      (resource) => resource.type !== "aws:rds/instance:Instance" || resource.name === "compliant-db",
    );
  });

  it("rds-storage-encrypted", () => {
    expectPasses(rdsStorageEncrypted, compliant);
    expectFails(rdsStorageEncrypted, resources, "plain-db", "storageEncrypted");
  });

  it("rds-cmk: a customer key; not applicable when storage is unencrypted", () => {
    expectPasses(rdsCmk, compliant);
    expectFails(rdsCmk, resources, "aws-key-db", "kmsKeyId");
    const plain = evaluate([rdsCmk], resources).find((result) => result.resourceName === "plain-db");
    expect(plain?.status).toBe("not-applicable");
  });

  it("rds-not-public", () => {
    expectPasses(rdsNotPublic, compliant);
    expectFails(rdsNotPublic, resources, "public-db", "publiclyAccessible");
  });

  it("rds-backup-retention follows minBackupRetentionDays", () => {
    expectPasses(rdsBackupRetention, compliant);
    expectFails(rdsBackupRetention, resources, "short-backups-db", "backupRetentionPeriod");
    expectFails(rdsBackupRetention, compliant, "compliant-db", "backupRetentionPeriod", { minBackupRetentionDays: 36 });
  });

  it("rds-multi-az: fails single-AZ; mandatory on ha only", () => {
    expectPasses(rdsMultiAz, compliant);
    expectFails(rdsMultiAz, resources, "single-az-db", "multiAz");
    const enforcementOn = (tier: string) =>
      evaluate([rdsMultiAz], resources, { settings: { tier } }).find(
        (result) => result.resourceName === "single-az-db",
      );
    expect(enforcementOn("standard")).toMatchObject({ enforcement: "advisory", blocking: false });
    expect(enforcementOn("ha")).toMatchObject({ enforcement: "mandatory", blocking: true });
  });

  it("rds-deletion-protection", () => {
    expectPasses(rdsDeletionProtection, compliant);
    expectFails(rdsDeletionProtection, resources, "unprotected-db", "deletionProtection");
  });

  it("rds-log-exports names the missing logs", () => {
    expectPasses(rdsLogExports, compliant);
    const message = expectFails(rdsLogExports, resources, "quiet-db", "enabledCloudwatchLogsExports");
    expect(message).toContain("audit, general, slowquery");
  });

  it("rds-enhanced-monitoring", () => {
    expectPasses(rdsEnhancedMonitoring, compliant);
    expectFails(rdsEnhancedMonitoring, resources, "unmonitored-db", "monitoringInterval");
  });

  it("rds-minor-upgrade", () => {
    expectPasses(rdsMinorUpgrade, compliant);
    expectFails(rdsMinorUpgrade, resources, "pinned-db", "autoMinorVersionUpgrade");
  });

  it("rds-require-tls joins the instance to its parameter group", () => {
    expectPasses(rdsRequireTls, compliant);
    expectFails(rdsRequireTls, resources, "tls-optional", "parameters[0].value");
  });

  it("rds-pi-cmk", () => {
    expectPasses(rdsPiCmk, compliant);
    expectFails(rdsPiCmk, resources, "pi-aws-key-db", "performanceInsightsKmsKeyId");
  });
});
