// Database rules on real RDS declarations: a compliant instance (the stack's settings) and, in
// each rule's test, an instance breaking that rule's property.
import * as aws from "@pulumi/aws";
import { describe, expect, it } from "vitest";
import { evaluate } from "../../../policies/engine";
import {
  rdsBackupRetention,
  rdsCmk,
  rdsDeletionProtection,
  rdsEnhancedMonitoring,
  rdsLogExports,
  rdsMinorUpgrade,
  rdsMultiAz,
  rdsNoStatementLogs,
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
    enabledCloudwatchLogsExports: ["audit", "error", "general"],
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

/** The data key, a TLS-requiring parameter group and one database: the stack's, but for `overrides`. */
function databaseWith(name: string, overrides: Partial<aws.rds.InstanceArgs> = {}): () => void {
  return () => {
    const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
    database(name, key, tlsParameters("tls-required", "1"), overrides);
  };
}

const compliantDatabase = databaseWith("compliant-db");

describe("database rules", () => {
  it("rds-storage-encrypted", async () => {
    expectPasses(rdsStorageEncrypted, await declared(compliantDatabase));
    const plain = await declared(databaseWith("plain-db", { storageEncrypted: false, kmsKeyId: undefined }));
    expectFails(rdsStorageEncrypted, plain, "plain-db", "storageEncrypted");
  });

  it("rds-cmk: a customer key; not applicable when storage is unencrypted", async () => {
    expectPasses(rdsCmk, await declared(compliantDatabase));
    expectFails(
      rdsCmk,
      await declared(databaseWith("aws-key-db", { kmsKeyId: "alias/aws/rds" })),
      "aws-key-db",
      "kmsKeyId",
    );
    const unencrypted = await declared(databaseWith("plain-db", { storageEncrypted: false, kmsKeyId: undefined }));
    const plain = evaluate([rdsCmk], unencrypted).find((result) => result.resourceName === "plain-db");
    expect(plain?.status).toBe("not-applicable");
  });

  it("rds-not-public", async () => {
    expectPasses(rdsNotPublic, await declared(compliantDatabase));
    const exposed = await declared(databaseWith("public-db", { publiclyAccessible: true }));
    expectFails(rdsNotPublic, exposed, "public-db", "publiclyAccessible");
  });

  it("rds-backup-retention follows minBackupRetentionDays", async () => {
    const compliant = await declared(compliantDatabase);
    expectPasses(rdsBackupRetention, compliant);
    const shortBackups = await declared(databaseWith("short-backups-db", { backupRetentionPeriod: 1 }));
    expectFails(rdsBackupRetention, shortBackups, "short-backups-db", "backupRetentionPeriod");
    expectFails(rdsBackupRetention, compliant, "compliant-db", "backupRetentionPeriod", { minBackupRetentionDays: 36 });
  });

  it("rds-multi-az: fails single-AZ; mandatory on ha only", async () => {
    expectPasses(rdsMultiAz, await declared(compliantDatabase));
    const singleAz = await declared(databaseWith("single-az-db", { multiAz: false }));
    expectFails(rdsMultiAz, singleAz, "single-az-db", "multiAz");
    const enforcementOn = (tier: string) =>
      evaluate([rdsMultiAz], singleAz, { settings: { tier } }).find((result) => result.resourceName === "single-az-db");
    expect(enforcementOn("standard")).toMatchObject({ enforcement: "advisory", blocking: false });
    expect(enforcementOn("ha")).toMatchObject({ enforcement: "mandatory", blocking: true });
  });

  it("rds-deletion-protection", async () => {
    expectPasses(rdsDeletionProtection, await declared(compliantDatabase));
    const unprotected = await declared(databaseWith("unprotected-db", { deletionProtection: false }));
    expectFails(rdsDeletionProtection, unprotected, "unprotected-db", "deletionProtection");
  });

  it("rds-log-exports names the missing logs", async () => {
    expectPasses(rdsLogExports, await declared(compliantDatabase));
    const quiet = await declared(databaseWith("quiet-db", { enabledCloudwatchLogsExports: ["error"] }));
    const message = expectFails(rdsLogExports, quiet, "quiet-db", "enabledCloudwatchLogsExports");
    expect(message).toContain("audit, general");
  });

  it("rds-enhanced-monitoring", async () => {
    expectPasses(rdsEnhancedMonitoring, await declared(compliantDatabase));
    const unmonitored = await declared(databaseWith("unmonitored-db", { monitoringInterval: 0 }));
    expectFails(rdsEnhancedMonitoring, unmonitored, "unmonitored-db", "monitoringInterval");
  });

  it("rds-minor-upgrade", async () => {
    expectPasses(rdsMinorUpgrade, await declared(compliantDatabase));
    const pinned = await declared(databaseWith("pinned-db", { autoMinorVersionUpgrade: false }));
    expectFails(rdsMinorUpgrade, pinned, "pinned-db", "autoMinorVersionUpgrade");
  });

  it("rds-require-tls joins the instance to its parameter group", async () => {
    expectPasses(rdsRequireTls, await declared(compliantDatabase));
    const plaintext = await declared(() => {
      const key = new aws.kms.Key("data-key", { enableKeyRotation: true });
      database("plaintext-db", key, tlsParameters("tls-optional", "0"));
    });
    expectFails(rdsRequireTls, plaintext, "tls-optional", "parameters[0].value");
  });

  it("rds-pi-cmk", async () => {
    expectPasses(rdsPiCmk, await declared(compliantDatabase));
    const piAwsKey = await declared(databaseWith("pi-aws-key-db", { performanceInsightsKmsKeyId: undefined }));
    expectFails(rdsPiCmk, piAwsKey, "pi-aws-key-db", "performanceInsightsKmsKeyId");
  });
});

describe("rds-no-statement-logs", () => {
  const withLogs = (slow: string, general: string) => () => {
    new aws.rds.ParameterGroup("logged-params", {
      family: "mysql8.4",
      parameters: [
        { name: "slow_query_log", value: slow },
        { name: "general_log", value: general },
      ],
    });
  };

  it("both off passes, and a group that does not set them (MySQL's default is off)", async () => {
    expectPasses(rdsNoStatementLogs, await declared(withLogs("0", "0")));
    expectPasses(rdsNoStatementLogs, await declared(() => tlsParameters("tls-only", "1")));
  });

  it("the slow query log on fails (it writes each slow statement's text, PHI included)", async () => {
    const message = expectFails(
      rdsNoStatementLogs,
      await declared(withLogs("1", "0")),
      "logged-params",
      "parameters[0]",
    );
    expect(message).toContain("slow_query_log");
  });

  it("the general log on fails", async () => {
    expectFails(rdsNoStatementLogs, await declared(withLogs("0", "ON")), "logged-params", "parameters[1]");
  });
});
