// The whole stack for one config: an explicit provider carrying the region and the tags every
// resource inherits, then each component in dependency order. Returns the stack outputs
// (docs/host-interface.md lists them).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config";
import type { AwsConstraint } from "./constraint";
import type { EdgeAuthentication } from "./components/edge";
import {
  Audit,
  BackupStorage,
  CopyRegionKey,
  Database,
  DatabaseUsers,
  Detection,
  Edge,
  Host,
  HostGroup,
  Keys,
  Monitoring,
  Network,
  SecurityGroups,
  SessionCache,
  SharedFiles,
  SnapshotBackups,
  snapshotVaultName,
  tierNetmask,
} from "./components";

/** Tags every resource carries through the provider's `defaultTags`. */
export function stackTags(config: StackConfig, stackName: string): Record<string, string> {
  return {
    ...config.costTags,
    Project: "openemr-aws",
    Stack: stackName,
    DataClassification: "PHI",
    ManagedBy: "pulumi",
  };
}

export function createStack(config: StackConfig): Record<string, pulumi.Input<unknown>> {
  const stackName = pulumi.getStack();
  const provider = new aws.Provider("aws", {
    region: config.region as aws.Region,
    defaultTags: { tags: stackTags(config, stackName) },
  });
  const opts: pulumi.ComponentResourceOptions = { providers: { aws: provider } };
  const logGroupPrefix = `/openemr-aws/${stackName}`;

  const keys = new Keys(
    "keys",
    {
      stackName,
      region: config.region,
      retainDataOnDestroy: config.retainDataOnDestroy,
      keyAdminRoleArn: config.keyAdminRoleArn,
    },
    opts,
  );
  const network = new Network(
    "network",
    {
      vpcCidr: config.vpcCidr,
      azCount: config.azCount,
      logsKeyArn: keys.logs.arn,
      // The flow log is an audit record.
      logRetentionDays: config.auditLogRetentionDays,
      logGroupPrefix,
      region: config.region,
      retainDataOnDestroy: config.retainDataOnDestroy,
      interfaceEndpoints: config.interfaceEndpoints,
      flowLogTrafficType: config.flowLogTrafficType,
      dnsFirewall: config.dnsFirewall,
      natGateway: config.natGateway,
      natInstanceKeyArn: keys.data.arn,
    },
    opts,
  );
  const securityGroups = new SecurityGroups(
    "security-groups",
    {
      vpcId: network.vpc.id,
      allowedCidrs: config.allowedCidrs,
      tier: config.tier,
      endpointSecurityGroupId: network.endpointSecurityGroup.id,
    },
    opts,
  );

  // The second copy of the backups (openemr:copyRegion): a provider and a data key in that region.
  const copy = config.copyRegion
    ? (() => {
        const copyProvider = new aws.Provider("aws-copy", {
          region: config.copyRegion as aws.Region,
          defaultTags: { tags: stackTags(config, stackName) },
        });
        const key = new CopyRegionKey(
          "copy-keys",
          { stackName, retainDataOnDestroy: config.retainDataOnDestroy, keyAdminRoleArn: config.keyAdminRoleArn },
          { providers: { aws: copyProvider } },
        );
        return { region: config.copyRegion, provider: copyProvider, keyArn: key.key.arn };
      })()
    : undefined;

  const backupStorage = new BackupStorage(
    "backup-storage",
    {
      dataKeyArn: keys.data.arn,
      objectLockDays: config.objectLockDays,
      objectLockMode: config.objectLockMode === "compliance" ? "COMPLIANCE" : "GOVERNANCE",
      breakGlassRoleArn: config.breakGlassRoleArn,
      backupExpiryDays: config.backupExpiryDays,
      logRetentionDays: config.logRetentionDays,
      retainOnDelete: config.retainDataOnDestroy,
      copy,
    },
    opts,
  );
  // RDS on `standard` and `ha` (Multi-AZ there); `single` runs MariaDB on the host.
  const database =
    config.tier !== "single"
      ? new Database(
          "database",
          {
            stackName,
            subnetIds: network.dbSubnetIds,
            securityGroupId: securityGroups.db!.id,
            dataKeyArn: keys.data.arn,
            logsKeyArn: keys.logs.arn,
            logRetentionDays: config.logRetentionDays,
            auditLogRetentionDays: config.auditLogRetentionDays,
            instanceClass: config.dbInstanceClass,
            storageGb: config.dbStorageGb,
            maxStorageGb: config.dbMaxStorageGb,
            multiAz: config.multiAz,
            backupRetentionDays: config.backupRetentionDays,
            retainDataOnDestroy: config.retainDataOnDestroy,
          },
          opts,
        )
      : undefined;
  // `ha`: what every host of the group shares, `sites/` and the PHP sessions (docs/ha.md).
  const shared =
    config.tier === "ha"
      ? {
          files: new SharedFiles(
            "shared-files",
            {
              vpcId: network.vpc.id,
              subnetIds: network.appSubnetIds,
              hostSecurityGroupId: securityGroups.host.id,
              dataKeyArn: keys.data.arn,
              throughputMode: config.efsThroughputMode,
              retainDataOnDestroy: config.retainDataOnDestroy,
            },
            opts,
          ),
          sessions: new SessionCache(
            "session-cache",
            {
              stackName,
              vpcId: network.vpc.id,
              subnetIds: network.appSubnetIds,
              hostSecurityGroupId: securityGroups.host.id,
              dataKeyArn: keys.data.arn,
              nodeType: config.sessionCacheNodeType,
            },
            opts,
          ),
        }
      : undefined;
  const host = new Host(
    "host",
    {
      stackName,
      region: config.region,
      instanceType: config.instanceType,
      rootVolumeGb: config.rootVolumeGb,
      dataVolumeGb: config.dataVolumeGb,
      subnetId: network.appSubnetIds[0],
      availabilityZone: network.appSubnetZones[0],
      securityGroupId: securityGroups.host.id,
      dataKeyArn: keys.data.arn,
      logsKeyArn: keys.logs.arn,
      logRetentionDays: config.logRetentionDays,
      auditLogRetentionDays: config.auditLogRetentionDays,
      logGroupPrefix,
      backupBucketName: backupStorage.bucketName,
      backupBucketArn: backupStorage.bucketArn,
      database: database && {
        address: database.instance.address,
        port: database.instance.port,
        appUserHost: tierNetmask(config.vpcCidr, "app"),
      },
      openemrVersion: config.openemrVersion,
      openemrSha256: config.openemrSha256,
      domain: config.domain,
      uploadMaxMb: config.uploadMaxMb,
      dbPasswordRotationDays: config.dbPasswordRotationDays,
      retainDataOnDestroy: config.retainDataOnDestroy,
      keyAdminRoleArn: config.keyAdminRoleArn,
      // The load balancer's nodes take addresses in the VPC's public subnets.
      trustedProxyCidr: config.vpcCidr,
      networkReady: [
        ...network.hostEgressPath,
        ...securityGroups.hostEgressRules,
        ...(shared ? [...shared.files.networkReady, ...shared.sessions.networkReady] : []),
      ],
      group: shared && {
        fileSystemId: shared.files.fileSystem.id,
        accessPointId: shared.files.accessPoint.id,
        sessionCacheHost: shared.sessions.replicationGroup.primaryEndpointAddress,
        sessionCacheSecretArn: shared.sessions.authSecret.arn,
      },
    },
    opts,
  );

  // The database's accounts, made by a function that alone reads the master secret.
  if (database) {
    new DatabaseUsers(
      "database-users",
      {
        stackName,
        database: {
          address: database.instance.address,
          port: database.instance.port,
          masterSecretArn: database.masterSecretArn,
          resourceId: database.instance.resourceId,
        },
        databaseName: "openemr",
        accountHost: tierNetmask(config.vpcCidr, "app"),
        accountSecretArns: {
          app: host.appDbSecret.arn,
          backup: host.backupDbSecret.arn,
          restore: host.restoreDbSecret.arn,
        },
        secretsKeyArn: keys.data.arn,
        subnetIds: network.appSubnetIds,
        securityGroupId: securityGroups.dbUsers!.id,
        logsKeyArn: keys.logs.arn,
        logRetentionDays: config.logRetentionDays,
        retainLogsOnDestroy: config.retainDataOnDestroy,
        networkReady: [...network.hostEgressPath, ...securityGroups.dbUsersRules],
      },
      opts,
    );
  }

  const edge = new Edge(
    "edge",
    {
      namePrefix: stackName,
      vpcId: network.vpc.id,
      publicSubnetIds: network.publicSubnetIds,
      albSecurityGroupId: securityGroups.alb.id,
      hostInstanceId: host.instance?.id,
      accessLogBucket: backupStorage.logBucketName,
      logsKeyArn: keys.logs.arn,
      logRetentionDays: config.logRetentionDays,
      domain: config.domain,
      hostedZoneId: config.hostedZoneId,
      certificateArn: config.certificateArn || undefined,
      authentication: config.authentication as EdgeAuthentication,
      retainLogsOnDestroy: config.retainDataOnDestroy,
      wafSqliAndPhpRules: config.wafSqliAndPhpRules,
    },
    // The ALB checks at creation that it may write its access logs: the log bucket's policy first.
    { ...opts, dependsOn: [backupStorage] },
  );
  const hostGroup = host.launchTemplate
    ? new HostGroup(
        "host-group",
        {
          namePrefix: stackName,
          launchTemplateId: host.launchTemplate.id,
          launchTemplateVersion: host.launchTemplate.latestVersion.apply(String),
          subnetIds: network.appSubnetIds,
          targetGroupArn: edge.targetGroup.arn,
          requestCountResourceLabel: pulumi.interpolate`${edge.loadBalancer.arnSuffix}/${edge.targetGroup.arnSuffix}`,
          minSize: config.haMinSize,
          maxSize: config.haMaxSize,
          targetRequestsPerHost: config.haTargetRequestsPerHost,
        },
        opts,
      )
    : undefined;
  const monitoring = new Monitoring(
    "monitoring",
    {
      namePrefix: stackName,
      region: config.region,
      alertsKeyArn: keys.alerts.arn,
      alertEmails: config.alertEmails,
      hostInstanceId: host.instance?.id,
      hostGroup: hostGroup && { name: hostGroup.group.name, minSize: config.haMinSize },
      sharedFiles: shared && {
        fileSystemId: shared.files.fileSystem.id,
        throughputMode: config.efsThroughputMode,
      },
      natInstanceId: network.natInstance?.instance.id,
      database: database && {
        identifier: database.identifier,
        allocatedStorageGb: config.dbStorageGb,
        ...(config.tier === "ha" ? { multiAz: true } : {}),
      },
      loadBalancerArnSuffix: edge.loadBalancer.arnSuffix,
      targetGroupArnSuffix: edge.targetGroup.arnSuffix,
      certificateArn: edge.certificateArn,
      backupVaultName: snapshotVaultName(stackName),
      dashboard: config.dashboard,
    },
    opts,
  );
  new SnapshotBackups(
    "snapshots",
    {
      namePrefix: stackName,
      dataKeyArn: keys.data.arn,
      backupRetentionDays: config.backupRetentionDays,
      hostInstanceArn: host.instance?.arn,
      fileSystemArn: shared?.files.fileSystem.arn,
      dbInstanceArn: database?.instance.arn,
      notificationTopicArn: monitoring.topicArn,
      copy,
      vaultLock: config.backupVaultLock
        ? {
            changeableForDays: config.backupVaultLockChangeableDays,
            maxRetentionDays: Math.max(config.backupRetentionDays, config.backupExpiryDays),
          }
        : undefined,
    },
    opts,
  );
  const audit = new Audit(
    "audit",
    {
      namePrefix: stackName,
      region: config.region,
      createCloudTrail: config.createCloudTrail,
      logsKeyArn: keys.logs.arn,
      logRetentionDays: config.auditLogRetentionDays,
      objectLockMode: config.objectLockMode === "compliance" ? "COMPLIANCE" : "GOVERNANCE",
      logGroupPrefix,
      accessLogBucket: backupStorage.logBucketName,
      retainOnDelete: config.retainDataOnDestroy,
    },
    opts,
  );
  new Detection(
    "detection",
    {
      namePrefix: stackName,
      trailLogGroupName: audit.trailLogGroupName,
      alarmTopicArn: monitoring.topicArn,
      logsKeyArn: keys.logs.arn,
      accessLogBucket: backupStorage.logBucketName,
      auditLogRetentionDays: config.auditLogRetentionDays,
      guardDuty: config.guardDuty,
      securityHub: config.securityHub,
      awsConfig: config.awsConfig,
      retainOnDelete: config.retainDataOnDestroy,
    },
    opts,
  );

  return {
    url: edge.url,
    region: config.region,
    tier: config.tier,
    logGroupPrefix,
    adminPasswordSecretArn: host.adminSecret.arn,
    ...(host.instance ? { hostInstanceId: host.instance.id } : {}),
    ...(hostGroup && shared
      ? {
          hostGroupName: hostGroup.group.name,
          efsFileSystemId: shared.files.fileSystem.id,
          sessionCacheEndpoint: shared.sessions.replicationGroup.primaryEndpointAddress,
        }
      : {}),
    dbEndpoint: database ? database.instance.endpoint : "localhost:3306",
    ...(database ? { dbInstanceIdentifier: database.identifier } : {}),
    backupBucket: backupStorage.bucketName,
    backupPrefix: host.backupPrefix,
    ...(copy ? { copyRegion: copy.region, replicaBackupBucket: backupStorage.replicaBucketName } : {}),
    bootstrapDocumentName: host.bootstrapDocument.name,
    sessionDocumentName: audit.sessionDocumentName,
    alarmTopicArn: monitoring.topicArn,
    dashboardName: monitoring.dashboardName,
    // The front door as deployed, for `provision` and the plan to state (infra/front-door.ts).
    certificateKind: edge.certificateKind,
    ...(edge.certificateKind === "acm-dns-manual" ? { certificateValidationRecords: edge.validationRecords } : {}),
    allowedCidrs: config.allowedCidrs,
    loadBalancerAuthentication: config.authentication.type,
    ...(edge.userPool ? { userPoolId: edge.userPool.id } : {}),
  };
}

/** Tags one resource may carry (those AWS itself adds, under `aws:`, do not count). */
const TAGS_PER_RESOURCE = 50;
/** The most tags a component puts on a resource of its own (a subnet's Name and Tier). */
const COMPONENT_TAGS_MAX = 2;
/** What tag values may hold in every service the stack tags (IAM's is the narrowest set). */
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+@-]*$/u;

export const tagConstraints: AwsConstraint[] = [
  {
    id: "resource-tags",
    keys: ["costTags"],
    rule:
      "A resource carries at most 50 tags; keys and values may not start with `aws:` (AWS's own), and values " +
      "hold letters, digits, spaces and `_ . : / = + @ -` only. With the stack's four tags and up to two of a " +
      "component's own, `costTags` adds at most 44.",
    doc: "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
    problems: ({ config }) => {
      const ownKeys = Object.keys(stackTags({ ...config, costTags: {} }, "stack"));
      const added = Object.keys(config.costTags).filter((key) => !ownKeys.includes(key));
      const most = TAGS_PER_RESOURCE - ownKeys.length - COMPONENT_TAGS_MAX;
      return [
        ...(added.length > most
          ? [`openemr:costTags: ${added.length} tags is too many; expected at most ${most} (AWS allows 50 a resource)`]
          : []),
        ...Object.entries(config.costTags).flatMap(([key, value]) => [
          ...(/^aws:/i.test(key)
            ? [
                `openemr:costTags: key ${JSON.stringify(key)} starts with "aws:"; ` +
                  "expected a key without that prefix, which AWS reserves",
              ]
            : []),
          ...(/^aws:/i.test(value) || !TAG_VALUE.test(value)
            ? [
                `openemr:costTags[${JSON.stringify(key)}]: ${JSON.stringify(value)} is not a tag value AWS accepts; ` +
                  "expected letters, digits, spaces and _ . : / = + @ - only, not starting with aws:",
              ]
            : []),
        ]),
      ];
    },
  },
];
