// The `standard` stack's RDS instance as RDS describes it, and an RDS that restores it to a
// point in time: the new instance is first not found, then creating, backing-up, available.
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  DescribeDBInstancesCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
} from "@aws-sdk/client-rds";
import { awsError, DB_ID, type mockStack } from "./stack";

export const DATA_KEY = "arn:aws:kms:us-east-1:111122223333:key/data";

export function sourceInstance(): DBInstance {
  return {
    DBInstanceIdentifier: DB_ID,
    DbiResourceId: "db-SOURCE",
    DBInstanceStatus: "available",
    DBInstanceClass: "db.t4g.medium",
    Engine: "mysql",
    EngineVersion: "8.4.3",
    Endpoint: { Address: `${DB_ID}.cabc.us-east-1.rds.amazonaws.com`, Port: 3306 },
    DBSubnetGroup: { DBSubnetGroupName: "clinic-prod-db-subnets" },
    VpcSecurityGroups: [{ VpcSecurityGroupId: "sg-0db", Status: "active" }],
    DBParameterGroups: [{ DBParameterGroupName: "clinic-prod-db-params", ParameterApplyStatus: "in-sync" }],
    OptionGroupMemberships: [{ OptionGroupName: "clinic-prod-db-options", Status: "in-sync" }],
    CACertificateIdentifier: "rds-ca-rsa2048-g1",
    StorageEncrypted: true,
    KmsKeyId: DATA_KEY,
    DeletionProtection: true,
    PubliclyAccessible: false,
    MultiAZ: false,
    StorageType: "gp3",
    Iops: 3000,
    MaxAllocatedStorage: 200,
    AutoMinorVersionUpgrade: true,
    CopyTagsToSnapshot: true,
    BackupRetentionPeriod: 35,
    EnabledCloudwatchLogsExports: ["error", "slowquery"],
    IAMDatabaseAuthenticationEnabled: false,
    LatestRestorableTime: new Date(Date.now() - 4 * 60_000),
    TagList: [
      { Key: "openemr-aws:stack", Value: "clinic-prod" },
      { Key: "aws:cloudformation:stack-name", Value: "x" },
    ],
  };
}

export interface PitrMock {
  source: DBInstance;
  /** What DescribeDBInstances answers for the new instance, call after call (the last repeats). */
  targetStates: (DBInstance | "missing")[];
}

export function mockPointInTimeRestore(stack: ReturnType<typeof mockStack>): PitrMock {
  const source = sourceInstance();
  const restored = {
    ...sourceInstance(),
    DbiResourceId: "db-NEW",
    DBInstanceStatus: "available",
    LatestRestorableTime: undefined,
    TagList: [],
  };
  const targetStates: (DBInstance | "missing")[] = [
    "missing",
    "missing",
    { DBInstanceStatus: "creating" },
    { DBInstanceStatus: "backing-up" },
    { DBInstanceStatus: "available" },
  ];
  stack.mocks.rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    if (input.DBInstanceIdentifier === DB_ID) return { DBInstances: [source] };
    const state = targetStates.length > 1 ? targetStates.shift()! : targetStates[0];
    if (state === "missing")
      throw awsError("DBInstanceNotFoundFault", `DBInstance ${input.DBInstanceIdentifier} not found`);
    const id = input.DBInstanceIdentifier;
    const merged = state.DBInstanceStatus === "available" ? { ...restored, ...state } : state;
    return {
      DBInstances: [
        {
          ...merged,
          DBInstanceIdentifier: id,
          Endpoint:
            merged.DBInstanceStatus === "available"
              ? { Address: `${id}.cabc.us-east-1.rds.amazonaws.com`, Port: 3306 }
              : undefined,
        },
      ],
    };
  });
  stack.mocks.rds.on(DescribeDBInstanceAutomatedBackupsCommand).resolves({
    DBInstanceAutomatedBackups: [
      {
        DBInstanceIdentifier: DB_ID,
        DbiResourceId: "db-SOURCE",
        Status: "active",
        RestoreWindow: { EarliestTime: new Date(Date.now() - 35 * 86_400_000), LatestTime: new Date() },
      },
    ],
  });
  stack.mocks.rds.on(RestoreDBInstanceToPointInTimeCommand).resolves({ DBInstance: { DBInstanceStatus: "creating" } });
  return { source, targetStates };
}
