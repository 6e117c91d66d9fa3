// The `standard` tier's database: RDS MySQL 8.4 in the isolated subnets, encrypted with the
// data key, TLS required, audited through the MariaDB audit plugin, its logs exported to
// groups this component creates encrypted and with a retention. No log that copies statement
// text (general, slow query) is written: statements carry patient data.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import type { AwsConstraint } from "../constraint";
import { assumableByService } from "./trust-policy";

export interface DatabaseArgs {
  stackName: string;
  /** The isolated database subnets (no route out). */
  subnetIds: pulumi.Input<string>[];
  securityGroupId: pulumi.Input<string>;
  /** Encrypts storage, Performance Insights and the RDS-managed master secret. */
  dataKeyArn: pulumi.Input<string>;
  /** Encrypts the exported log groups. */
  logsKeyArn: pulumi.Input<string>;
  /**
   * Days the exported error and general log groups keep logs. Defaults to the stack's
   * `logRetentionDays`.
   */
  logRetentionDays?: number;
  /**
   * Days the exported audit log group keeps logs. Defaults to the stack's `auditLogRetentionDays`,
   * six years: it is the record of who connected and who changed users, grants and schema.
   */
  auditLogRetentionDays?: number;
  /**
   * RDS instance class. Defaults to the stack's `dbInstanceClass`, the smallest class Performance
   * Insights runs on; on a smaller one (micro, small) Performance Insights is left off.
   */
  instanceClass?: string;
  /** Initial gp3 storage in GB. Defaults to the stack's `dbStorageGb`; autoscaling grows it to `maxStorageGb`. */
  storageGb?: number;
  /**
   * Ceiling of storage autoscaling in GB. Defaults to the stack's `dbMaxStorageGb`: growth without
   * a page, with a bound on the bill.
   */
  maxStorageGb?: number;
  /**
   * Keep a standby in a second zone. Defaults to the stack's `multiAz`, off: it about doubles the
   * database's cost, and snapshots with point-in-time recovery already protect the data.
   */
  multiAz?: boolean;
  /**
   * Days automated backups are kept. Defaults to the stack's `backupRetentionDays`, the most RDS
   * allows: the longest window for a point-in-time restore.
   */
  backupRetentionDays?: number;
  /**
   * Leave the instance and its log groups in place (out of the stack) on `pulumi destroy`.
   * Defaults to the stack's `retainDataOnDestroy`, which keeps them: they hold the patient record.
   */
  retainDataOnDestroy?: boolean;
}

/**
 * The database logs RDS exports to CloudWatch Logs. The slow query log is not among them, and is
 * off: it records each slow statement's full text, literals included, so patient names and
 * notes would reach CloudWatch Logs, readable by anyone who may read the stack's logs. Slow
 * queries are found with Performance Insights' statement digests instead (literals replaced by
 * `?`), on the classes that run it.
 */
export const exportedLogTypes = ["audit", "error", "general"] as const;

/**
 * Whether RDS for MySQL runs Performance Insights on `instanceClass`: every class but db.t2, db.t3
 * and db.t4g micro and small. AWS is folding Performance Insights into CloudWatch Database
 * Insights (its console and paid tiers end in 2026; the API and the 7-day free tier stay), which
 * has the same class restrictions.
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PerfInsights.Overview.Engines.html
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DatabaseInsights.Engines.html
 */
export function performanceInsightsSupported(instanceClass: string): boolean {
  return !/^db\.t(2|3|4g)\.(micro|small)$/.test(instanceClass);
}

/** RDS identifiers: lower-case letters, digits and single hyphens, starting with a letter, at most 63 characters. */
export function dbInstanceIdentifier(stackName: string): string {
  const cleaned = `openemr-${stackName}`
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/-+$/, "");
  return cleaned.slice(0, 63).replace(/-+$/, "");
}

export class Database extends pulumi.ComponentResource {
  public readonly instance: aws.rds.Instance;
  /** ARN of the master credentials RDS manages in Secrets Manager. */
  public readonly masterSecretArn: pulumi.Output<string>;
  public readonly identifier: string;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:database:Database", name, {}, opts);
    const parent = { parent: this };
    this.identifier = dbInstanceIdentifier(args.stackName);
    const logRetentionDays = args.logRetentionDays ?? configDefault("logRetentionDays");
    const retainOnDelete = args.retainDataOnDestroy ?? configDefault("retainDataOnDestroy");

    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { description: "OpenEMR database: isolated subnets", subnetIds: args.subnetIds },
      parent,
    );
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        family: "mysql8.4",
        description: "OpenEMR: TLS required, LOCAL INFILE for code-set imports, utf8mb4",
        parameters: [
          { name: "require_secure_transport", value: "1" },
          { name: "local_infile", value: "1" },
          { name: "character_set_server", value: "utf8mb4" },
          { name: "collation_server", value: "utf8mb4_general_ci" },
          // Statement text is PHI: see exportedLogTypes.
          { name: "slow_query_log", value: "0" },
          // RDS exports the slow and general logs to CloudWatch Logs only when they are written to files.
          // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_LogAccess.MySQLDB.PublishtoCloudWatchLogs.html
          { name: "log_output", value: "FILE" },
          // The general log would copy every statement, PHI included, into CloudWatch; the audit
          // plugin records connections, DDL and DCL instead.
          { name: "general_log", value: "0" },
        ],
      },
      parent,
    );
    const optionGroup = new aws.rds.OptionGroup(
      `${name}-options`,
      {
        engineName: "mysql",
        majorEngineVersion: "8.4",
        optionGroupDescription: "OpenEMR: MariaDB audit plugin (connections, DDL, DCL)",
        options: [
          {
            optionName: "MARIADB_AUDIT_PLUGIN",
            optionSettings: [{ name: "SERVER_AUDIT_EVENTS", value: "CONNECT,QUERY_DDL,QUERY_DCL" }],
          },
        ],
      },
      parent,
    );

    // Created before the instance so RDS writes into encrypted groups with a retention rather
    // than creating its own, unencrypted and kept forever.
    const logGroups = exportedLogTypes.map(
      (logType) =>
        new aws.cloudwatch.LogGroup(
          `${name}-${logType}`,
          {
            name: `/aws/rds/instance/${this.identifier}/${logType}`,
            kmsKeyId: args.logsKeyArn,
            retentionInDays:
              logType === "audit"
                ? (args.auditLogRetentionDays ?? configDefault("auditLogRetentionDays"))
                : logRetentionDays,
          },
          { parent: this, retainOnDelete },
        ),
    );

    // RDS sends aws:SourceArn and aws:SourceAccount when it assumes this role; AWS's example in
    // "Protecting against the confused deputy problem" limits the trust to the one DB instance:
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html
    const accountId = aws.getCallerIdentityOutput({}, parent).accountId;
    const monitoredInstance = pulumi.interpolate`arn:${aws.getPartitionOutput({}, parent).partition}:rds:${
      aws.getRegionOutput({}, parent).region
    }:${accountId}:db:${this.identifier}`;
    const monitoringRole = new aws.iam.Role(
      `${name}-monitoring`,
      {
        description: "RDS enhanced monitoring publishes OS metrics",
        assumeRolePolicy: assumableByService("monitoring.rds.amazonaws.com", monitoredInstance, accountId),
      },
      parent,
    );
    const monitoringPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-monitoring`,
      { role: monitoringRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" },
      parent,
    );

    const instanceClass = args.instanceClass ?? configDefault("dbInstanceClass");
    const performanceInsights = performanceInsightsSupported(instanceClass);

    this.instance = new aws.rds.Instance(
      `${name}-instance`,
      {
        identifier: this.identifier,
        engine: "mysql",
        engineVersion: "8.4",
        instanceClass,
        allocatedStorage: args.storageGb ?? configDefault("dbStorageGb"),
        maxAllocatedStorage: args.maxStorageGb ?? configDefault("dbMaxStorageGb"),
        storageType: "gp3",
        storageEncrypted: true,
        kmsKeyId: args.dataKeyArn,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [args.securityGroupId],
        publiclyAccessible: false,
        multiAz: args.multiAz ?? configDefault("multiAz"),
        parameterGroupName: parameterGroup.name,
        optionGroupName: optionGroup.name,
        caCertIdentifier: "rds-ca-rsa2048-g1",
        username: "dbadmin",
        manageMasterUserPassword: true,
        masterUserSecretKmsKeyId: args.dataKeyArn,
        deletionProtection: true,
        backupRetentionPeriod: args.backupRetentionDays ?? configDefault("backupRetentionDays"),
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: `${this.identifier}-final`,
        copyTagsToSnapshot: true,
        autoMinorVersionUpgrade: true,
        enabledCloudwatchLogsExports: [...exportedLogTypes],
        monitoringInterval: 60,
        monitoringRoleArn: monitoringRole.arn,
        performanceInsightsEnabled: performanceInsights,
        performanceInsightsKmsKeyId: performanceInsights ? args.dataKeyArn : undefined,
        performanceInsightsRetentionPeriod: performanceInsights ? 7 : undefined,
      },
      { parent: this, dependsOn: [...logGroups, monitoringPolicy], retainOnDelete },
    );
    this.masterSecretArn = this.instance.masterUserSecrets.apply((secrets) => secrets[0].secretArn);
    this.registerOutputs({ endpoint: this.instance.endpoint, masterSecretArn: this.masterSecretArn });
  }
}

/**
 * RDS instance class families of earlier generations that RDS for MySQL 8.4 does not run on (RDS
 * has ended support for them).
 */
const RETIRED_CLASS_FAMILIES = ["t1", "t2", "m1", "m2", "m3", "m4", "r3", "r4"];

export const databaseConstraints: AwsConstraint[] = [
  {
    id: "rds-max-storage-headroom",
    keys: ["dbMaxStorageGb", "dbStorageGb"],
    rule:
      "With storage autoscaling, the maximum storage threshold is at least 10% above the allocated storage " +
      "(1000 GiB allows 1100 or more).",
    doc: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_PIOPS.Autoscaling.html",
    problems: ({ config }) => {
      const least = Math.ceil((config.dbStorageGb * 11) / 10);
      return config.tier === "standard" && config.dbMaxStorageGb < least
        ? [
            `openemr:dbMaxStorageGb: ${config.dbMaxStorageGb} is less than 10% above openemr:dbStorageGb ` +
              `(${config.dbStorageGb}); expected at least ${least} ` +
              "(RDS refuses a storage autoscaling ceiling closer to the storage)",
          ]
        : [];
    },
  },
  {
    id: "rds-mysql-instance-class",
    keys: ["dbInstanceClass"],
    rule:
      "RDS for MySQL 8.4 runs on current instance classes only: not on db.t2, db.m4, db.r4 or the classes " +
      "before them (db.t1, db.m1-m3, db.r3).",
    doc: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html",
    problems: ({ config }) => {
      const family = config.dbInstanceClass.split(".")[1];
      return config.tier === "standard" && RETIRED_CLASS_FAMILIES.includes(family)
        ? [
            `openemr:dbInstanceClass: "${config.dbInstanceClass}" is a db.${family} class, which RDS for MySQL 8.4 ` +
              "does not run on; expected a current class such as db.t4g.small, db.t4g.medium or db.m7g.large",
          ]
        : [];
    },
  },
  {
    id: "rds-backup-retention",
    keys: ["backupRetentionDays"],
    rule: "RDS keeps automated backups 0 to 35 days (0 turns them off, which the stack never wants).",
    doc: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.BackupRetention.html",
    problems: ({ config }) =>
      config.backupRetentionDays < 1 || config.backupRetentionDays > 35
        ? [
            `openemr:backupRetentionDays: ${config.backupRetentionDays} is outside RDS's range; ` +
              "expected 1 to 35 days",
          ]
        : [],
  },
];
