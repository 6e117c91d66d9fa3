// The OpenEMR host: one Debian 13 instance in a private subnet, reachable only through the
// load balancer and SSM, with its own secrets, log groups and a least-privilege role. Its
// software arrives as the checksummed host bundle (infra/delivery) and is installed by the
// bootstrap in infra/host.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { buildHostBundle } from "../delivery/bundle";
import { configDefault } from "../config-defaults";
import type { AwsConstraint } from "../constraint";
import { debianArchitecture, defaultInstanceType, instanceArchitecture } from "../instance-architecture";
import type { Tier } from "../config";
import { renderDeliveryDocument, renderUserData } from "../delivery/user-data";
import { assumableByService } from "./trust-policy";
import { keyOwnerStatements } from "./keys";
import { hostAuditLogGroupNames, hostLogGroupNames } from "../host-log-groups";

export interface HostDatabase {
  /** The RDS endpoint's host name and port. */
  address: pulumi.Input<string>;
  port: pulumi.Input<number>;
  /**
   * `DB_APP_HOST`: the host part of the app DB user, the block the host connects from, e.g.
   * `10.40.64.0/255.255.192.0` (network.ts's `tierNetmask` of the app subnets).
   */
  appUserHost: string;
}

export interface HostArgs {
  stackName: string;
  /**
   * Region of the host's AWS API calls (secrets, logs, backups). Defaults to the provider's
   * region, the host's own.
   */
  region?: pulumi.Input<string>;
  /**
   * EC2 instance type, x86_64 or arm64 (Graviton): Debian's image of the same architecture is used.
   * Defaults to the stack's `instanceType` (the `standard` tier's default; the `single` tier's,
   * with MariaDB beside PHP-FPM, is larger: see config/schema.json).
   */
  instanceType?: string;
  /** Root volume in GB. Defaults to the stack's `rootVolumeGb`: the system and local logs, with room for updates. */
  rootVolumeGb?: number;
  /**
   * Without `database`: size in GB of the separate data volume (MariaDB's data and the web tree
   * with `sites/`). Defaults to the stack's `dataVolumeGb`; EBS grows a volume in place later.
   */
  dataVolumeGb?: number;
  /** The private app subnet and its availability zone (the data volume must share it). */
  subnetId: pulumi.Input<string>;
  availabilityZone: pulumi.Input<string>;
  securityGroupId: pulumi.Input<string>;
  /** Encrypts the volumes, the host's secrets and its backup objects. */
  dataKeyArn: pulumi.Input<string>;
  /** Encrypts the host's log groups. */
  logsKeyArn: pulumi.Input<string>;
  /**
   * Days the host's log groups keep logs. Defaults to the stack's `logRetentionDays`, the
   * shortest retention the stack allows for an audit record.
   */
  logRetentionDays?: number;
  /**
   * Days the host's audit log group (auditd's record) keeps logs. Defaults to the stack's
   * `auditLogRetentionDays`, six years.
   */
  auditLogRetentionDays?: number;
  logGroupPrefix: string;
  /** The backup bucket: holds the host bundle and the host's backups. */
  backupBucketName: pulumi.Input<string>;
  backupBucketArn: pulumi.Input<string>;
  /**
   * The RDS database (the `standard` tier). Without it the host runs MariaDB itself on a data
   * volume of its own (the `single` tier).
   */
  database?: HostDatabase;
  /**
   * OpenEMR release to install. Defaults to the stack's `openemrVersion`: a pinned release, so a
   * replaced host installs the same code.
   */
  openemrVersion?: string;
  /** Pinned sha256 of the release tarball; without it the host checks the `.sha256` published beside it. */
  openemrSha256?: string;
  /** Public host name OpenEMR is served under; without it, the load balancer's. */
  domain?: string;
  /**
   * Largest upload OpenEMR accepts, in MB. Defaults to the stack's `uploadMaxMb`, the limit
   * OpenEMR's install guide recommends.
   */
  uploadMaxMb?: number;
  /**
   * Days between the host's rotations of the app database password, 0 for none. Defaults to the
   * stack's `dbPasswordRotationDays`.
   */
  dbPasswordRotationDays?: number;
  /**
   * Keep the data volume and the host's log groups on `pulumi destroy`. Defaults to the stack's
   * `retainDataOnDestroy`, which keeps them: the data volume holds the `single` tier's records.
   */
  retainDataOnDestroy?: boolean;
  /**
   * The role that alone administers the backup signing key. Defaults to the stack's
   * `keyAdminRoleArn`, empty: the account administers it through its IAM policies.
   */
  keyAdminRoleArn?: string;
  /**
   * Address range of the proxies in front of the host (the load balancer's: the VPC's range).
   * Apache believes `X-Forwarded-For` from it alone, so its log and OpenEMR's audit log name
   * the client. Defaults to none: the header is ignored and the proxy's address is logged.
   */
  trustedProxyCidr?: string;
  /**
   * What the first boot needs in place before the instance starts (routes, endpoints, egress
   * rules): cloud-init runs the delivery once, and a host that boots before its network is whole
   * only has the delivery's retries to fall back on. Defaults to none.
   */
  networkReady?: pulumi.Resource[];
  /**
   * The `ha` tier: the host is a launch template for an Auto Scaling group (HostGroup), not one
   * instance, with `sites/` on shared EFS and PHP sessions in Valkey. Requires `database`.
   */
  group?: HostGroupStores;
}

/** What every host of the `ha` group shares (docs/host-interface.md's EFS_* and SESSION_*). */
export interface HostGroupStores {
  fileSystemId: pulumi.Input<string>;
  accessPointId: pulumi.Input<string>;
  /** The Valkey primary endpoint's host name. */
  sessionCacheHost: pulumi.Input<string>;
  /** The AUTH token's secret, which the hosts read. */
  sessionCacheSecretArn: pulumi.Input<string>;
}

/** Debian's AWS account, the publisher of the official Debian AMIs. */
export const debianAmiOwner = "136693071363";

/** The newest Debian 13 image for the instance type's CPU: Debian publishes trixie for amd64 and arm64. */
export function debianAmi(instanceType: string, opts: pulumi.InvokeOutputOptions): pulumi.Output<aws.ec2.GetAmiResult> {
  const architecture = instanceArchitecture(instanceType);
  return aws.ec2.getAmiOutput(
    {
      owners: [debianAmiOwner],
      mostRecent: true,
      filters: [
        { name: "name", values: [`debian-13-${debianArchitecture(architecture)}-*`] },
        { name: "architecture", values: [architecture] },
        { name: "virtualization-type", values: ["hvm"] },
      ],
    },
    opts,
  );
}

// Session Manager and Run Command, as AWS's minimal instance profile for them lists: the agent
// registers and opens its channels. AmazonSSMManagedInstanceCore adds ssm:GetParameter(s) on every
// parameter of the account, documents, associations, inventory and patching; the stack's instances
// read no parameter and use none of the others. These actions take no resource (Service
// Authorization Reference), hence "*".
// https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html
// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonSSMManagedInstanceCore.html
export const ssmAgentCoreStatement = {
  Sid: "SsmAgentCore",
  Effect: "Allow",
  Action: [
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ec2messages:AcknowledgeMessage",
    "ec2messages:DeleteMessage",
    "ec2messages:FailMessage",
    "ec2messages:GetEndpoint",
    "ec2messages:GetMessages",
    "ec2messages:SendReply",
  ],
  Resource: "*",
};
export const openemrSite = "default";
/** `single`: where the host mounts its data volume (the bootstrap's DATA_DIR). */
export const dataMount = "/srv/openemr-data";
/**
 * Special characters generated passwords may hold: none of `=`, space or quotes (OpenEMR's
 * installer splits its arguments on `=`).
 */
export const passwordSpecialCharacters = "!#%*+,-.:;<>?@^_~";
/**
 * The CloudWatch namespaces the host publishes metrics to: the agent's (conf/cloudwatch's
 * `namespace`) and the backup scripts' (monitoring.ts's BACKUP_METRICS_NAMESPACE).
 */
export const hostMetricNamespaces = ["CWAgent", "OpenEMR"];
/** Instance metadata: IMDSv2 only, one hop (a container on the host cannot reach it), no tags. */
export const hostMetadataOptions = {
  httpEndpoint: "enabled",
  httpTokens: "required",
  httpPutResponseHopLimit: 1,
  instanceMetadataTags: "disabled",
};

export class Host extends pulumi.ComponentResource {
  /** The host, on `single` and `standard`. */
  public readonly instance?: aws.ec2.Instance;
  /** With `group` (`ha`): the template every host of the group is launched from. */
  public readonly launchTemplate?: aws.ec2.LaunchTemplate;
  public readonly role: aws.iam.Role;
  public readonly adminSecret: aws.secretsmanager.Secret;
  public readonly appDbSecret: aws.secretsmanager.Secret;
  /** The backup's database user: what a consistent dump needs, on OpenEMR's database only. */
  public readonly backupDbSecret: aws.secretsmanager.Secret;
  /** The restore's database user: OpenEMR's database and its scratch and kept copies only. */
  public readonly restoreDbSecret: aws.secretsmanager.Secret;
  /**
   * Signs each backup's manifest (ECC P-256, SIGN_VERIFY): the private half never leaves KMS,
   * so a manifest written by anyone else who can write to the bucket is refused at restore.
   */
  public readonly backupSigningKey: aws.kms.Key;
  public readonly dataVolume?: aws.ebs.Volume;
  public readonly bootstrapDocument: aws.ssm.Document;
  public readonly backupPrefix: string;
  public readonly bundleKey: string;
  public readonly bundleSha256: string;

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:host:Host", name, {}, opts);
    const parent = { parent: this };
    this.backupPrefix = `backups/${openemrSite}`;
    const tier: Tier = args.group ? "ha" : args.database ? "standard" : "single";
    const region = args.region ?? aws.getRegionOutput({}, parent).region;
    const logRetentionDays = args.logRetentionDays ?? configDefault("logRetentionDays");
    const retainOnDelete = args.retainDataOnDestroy ?? configDefault("retainDataOnDestroy");

    const secret = (purpose: string, username: string, description: string) => {
      const password = new random.RandomPassword(
        `${name}-${purpose}`,
        {
          length: 32,
          special: true,
          overrideSpecial: passwordSpecialCharacters,
          minLower: 2,
          minUpper: 2,
          minNumeric: 2,
        },
        parent,
      );
      const stored = new aws.secretsmanager.Secret(
        `${name}-${purpose}`,
        {
          name: `openemr-aws/${args.stackName}/${purpose}`,
          description,
          kmsKeyId: args.dataKeyArn,
          recoveryWindowInDays: 30,
        },
        parent,
      );
      new aws.secretsmanager.SecretVersion(
        `${name}-${purpose}`,
        { secretId: stored.id, secretString: pulumi.jsonStringify({ username, password: password.result }) },
        parent,
      );
      return stored;
    };
    this.appDbSecret = secret("db-app", "openemr_app", "OpenEMR's least-privilege database user");
    this.backupDbSecret = secret("db-backup", "openemr_backup", "The on-host backup's read-only database user");
    this.restoreDbSecret = secret("db-restore", "openemr_restore", "The on-host restore's database user");
    this.adminSecret = secret("admin", "admin", "OpenEMR's initial administrator");

    for (const logName of hostLogGroupNames) {
      new aws.cloudwatch.LogGroup(
        `${name}-${logName}`,
        {
          name: `${args.logGroupPrefix}/${logName}`,
          kmsKeyId: args.logsKeyArn,
          retentionInDays: hostAuditLogGroupNames.includes(logName)
            ? (args.auditLogRetentionDays ?? configDefault("auditLogRetentionDays"))
            : logRetentionDays,
        },
        { parent: this, retainOnDelete },
      );
    }

    const bundle = buildHostBundle();
    this.bundleKey = bundle.key;
    this.bundleSha256 = bundle.sha256;
    const bundleObject = new aws.s3.BucketObjectv2(
      `${name}-bundle`,
      {
        bucket: args.backupBucketName,
        key: bundle.key,
        contentBase64: bundle.content.toString("base64"),
        contentType: "application/gzip",
        // The bucket's default Object Lock retention makes S3 refuse a PutObject with neither
        // Content-MD5 nor a checksum header: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
        checksumAlgorithm: "CRC32",
        serverSideEncryption: "aws:kms",
        kmsKeyId: args.dataKeyArn,
      },
      // The backup bucket locks objects and denies deleting them: a replaced bundle stays behind.
      { ...parent, retainOnDelete: true },
    );

    const identity = aws.getCallerIdentityOutput({}, parent);
    const partition = aws.getPartitionOutput({}, parent);
    this.backupSigningKey = new aws.kms.Key(
      `${name}-backup-signing`,
      {
        description: `OpenEMR backup manifest signing (${args.stackName})`,
        keyUsage: "SIGN_VERIFY",
        customerMasterKeySpec: "ECC_NIST_P256",
        // AWS rotates symmetric keys only; a new signing key is a new key, not a rotation.
        enableKeyRotation: false,
        deletionWindowInDays: 30,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: keyOwnerStatements(
            partition.partition,
            identity.accountId,
            "sign",
            args.keyAdminRoleArn ?? configDefault("keyAdminRoleArn"),
          ),
        }),
        tags: { Purpose: "backup-signing" },
      },
      { ...parent, retainOnDelete },
    );

    this.role = new aws.iam.Role(
      `${name}-role`,
      {
        description: "OpenEMR host: SSM, CloudWatch agent, its own secrets and backup prefix",
        assumeRolePolicy: assumableByService("ec2.amazonaws.com"),
      },
      parent,
    );
    const secretArns: pulumi.Input<string>[] = [
      this.appDbSecret.arn,
      this.backupDbSecret.arn,
      this.restoreDbSecret.arn,
      this.adminSecret.arn,
      ...(args.group ? [args.group.sessionCacheSecretArn] : []),
    ];
    const hostPolicy = new aws.iam.Policy(
      `${name}-access`,
      {
        description:
          "OpenEMR host: read its own secrets, use the data key, read and write (never delete) its backup prefix, " +
          "read the host bundle",
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Sid: "ReadOwnSecrets", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArns },
            {
              // openemr-rotate-db-password stages the app account's new password and promotes
              // it; reading it is ReadOwnSecrets'. No other secret can be written.
              Sid: "RotateAppDbSecret",
              Effect: "Allow",
              Action: ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
              Resource: this.appDbSecret.arn,
            },
            {
              // Only as Secrets Manager and S3 call KMS for the host (its secrets, its backup
              // objects): a stolen credential cannot decrypt with the data key directly.
              // https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
              Sid: "UseDataKey",
              Effect: "Allow",
              Action: ["kms:Decrypt", "kms:GenerateDataKey"],
              Resource: args.dataKeyArn,
              Condition: {
                StringEquals: {
                  "kms:ViaService": [
                    pulumi.interpolate`secretsmanager.${region}.amazonaws.com`,
                    pulumi.interpolate`s3.${region}.amazonaws.com`,
                  ],
                },
              },
            },
            {
              // The signature is made by KMS for the host itself (`aws kms sign`), no service between.
              Sid: "SignBackups",
              Effect: "Allow",
              Action: ["kms:Sign", "kms:GetPublicKey"],
              Resource: this.backupSigningKey.arn,
            },
            {
              Sid: "ReadWriteOwnBackups",
              Effect: "Allow",
              Action: ["s3:PutObject", "s3:GetObject"],
              Resource: pulumi.interpolate`${args.backupBucketArn}/${this.backupPrefix}/*`,
            },
            {
              Sid: "ListOwnBackups",
              Effect: "Allow",
              Action: "s3:ListBucket",
              Resource: args.backupBucketArn,
              Condition: { StringLike: { "s3:prefix": [`${this.backupPrefix}/`, `${this.backupPrefix}/*`] } },
            },
            {
              Sid: "ReadHostBundle",
              Effect: "Allow",
              Action: "s3:GetObject",
              Resource: pulumi.interpolate`${args.backupBucketArn}/host-bundle/*`,
            },
          ],
        }),
      },
      parent,
    );
    const ssmPolicy = new aws.iam.Policy(
      `${name}-ssm`,
      {
        description: "OpenEMR host: the SSM agent's Session Manager and Run Command channels, no parameters",
        policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: [ssmAgentCoreStatement] }),
      },
      parent,
    );
    // The CloudWatch agent and the backup scripts, less than CloudWatchAgentServerPolicy: streams
    // and events in the stack's own host log groups only (they exist, encrypted and with their
    // retention: no logs:CreateLogGroup or PutRetentionPolicy), metrics in the host's namespaces
    // only. No ec2:DescribeVolumes, and ec2:DescribeTags on `ha` only, where the agent appends the
    // instance's Auto Scaling group, a tag it reads through that call (elsewhere it appends only
    // the instance id, from instance metadata). No ssm:GetParameter (its config is a local file).
    // https://docs.aws.amazon.com/aws-managed-policy/latest/reference/CloudWatchAgentServerPolicy.html
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
    const logGroupArns = pulumi
      .all([partition.partition, region, identity.accountId])
      .apply(([partitionName, regionName, accountId]) =>
        hostLogGroupNames.flatMap((logName) => {
          const group = `${args.logGroupPrefix}/${logName}`;
          const arn = `arn:${partitionName}:logs:${regionName}:${accountId}:log-group:${group}`;
          return [arn, `${arn}:log-stream:*`];
        }),
      );
    const cloudWatchAgentPolicy = new aws.iam.Policy(
      `${name}-cloudwatch-agent`,
      {
        description: "OpenEMR host: ship its logs to its own log groups, publish metrics in its own namespaces",
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ShipHostLogs",
              Effect: "Allow",
              Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
              Resource: logGroupArns,
            },
            {
              // The SSM agent checks that the session log group is encrypted before it streams a
              // session there (the instance profile page above, logging to CloudWatch Logs). It
              // lists groups, so takes no single group's ARN; it reads names and settings, no events.
              Sid: "FindHostLogGroups",
              Effect: "Allow",
              Action: "logs:DescribeLogGroups",
              Resource: "*",
            },
            {
              Sid: "PublishOwnMetrics",
              Effect: "Allow",
              Action: "cloudwatch:PutMetricData",
              Resource: "*",
              Condition: { StringEquals: { "cloudwatch:namespace": hostMetricNamespaces } },
            },
            // The agent publishes nothing until it has read the tag. DescribeTags takes no resource.
            ...(tier === "ha"
              ? [{ Sid: "ReadOwnGroupTag", Effect: "Allow", Action: "ec2:DescribeTags", Resource: "*" }]
              : []),
          ],
        }),
      },
      parent,
    );
    const policyArns = [hostPolicy.arn, ssmPolicy.arn, cloudWatchAgentPolicy.arn];
    const attachments = policyArns.map(
      (policyArn, index) =>
        new aws.iam.RolePolicyAttachment(`${name}-policy-${index}`, { role: this.role.name, policyArn }, parent),
    );
    const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: this.role.name }, parent);

    if (!args.database) {
      this.dataVolume = new aws.ebs.Volume(
        `${name}-data`,
        {
          availabilityZone: args.availabilityZone,
          size: args.dataVolumeGb ?? configDefault("dataVolumeGb"),
          type: "gp3",
          encrypted: true,
          kmsKeyId: args.dataKeyArn,
          finalSnapshot: true,
          tags: { Name: `${args.stackName}-openemr-data` },
        },
        { parent: this, retainOnDelete },
      );
    }

    const settings: Record<string, pulumi.Input<string>> = {
      OPENEMR_MODE: "ec2",
      OPENEMR_STACK: args.stackName,
      OPENEMR_TIER: tier,
      OPENEMR_SITE: openemrSite,
      OPENEMR_VERSION: args.openemrVersion ?? configDefault("openemrVersion"),
      OPENEMR_SHA256: args.openemrSha256 ?? "",
      OPENEMR_RELEASE_URL: "",
      OPENEMR_DOMAIN: args.domain ?? "",
      OPENEMR_UPLOAD_MAX_MB: String(args.uploadMaxMb ?? configDefault("uploadMaxMb")),
      DB_PASSWORD_ROTATION_DAYS: String(args.dbPasswordRotationDays ?? configDefault("dbPasswordRotationDays")),
      TRUSTED_PROXY_CIDR: args.trustedProxyCidr ?? "",
      DB_HOST: args.database ? args.database.address : "localhost",
      DB_PORT: args.database ? pulumi.output(args.database.port).apply(String) : "3306",
      DB_NAME: "openemr",
      DB_APP_USER: "openemr_app",
      DB_APP_HOST: args.database ? args.database.appUserHost : "localhost",
      DB_CA_FILE: args.database ? "/etc/openemr-aws/rds-ca.pem" : "",
      // The host never holds the master credential: on RDS the DatabaseUsers function makes the
      // accounts; on `single` the bootstrap is root on the local socket.
      SECRET_DB_MASTER: "",
      SECRET_DB_APP: this.appDbSecret.arn,
      SECRET_DB_BACKUP: this.backupDbSecret.arn,
      SECRET_DB_RESTORE: this.restoreDbSecret.arn,
      BACKUP_SIGNING_KEY_ID: this.backupSigningKey.arn,
      SECRET_ADMIN: this.adminSecret.arn,
      AWS_REGION: region,
      BACKUP_BUCKET: args.backupBucketName,
      BACKUP_PREFIX: this.backupPrefix,
      BACKUP_KMS_KEY_ID: args.dataKeyArn,
      LOG_GROUP_PREFIX: args.logGroupPrefix,
      ...(this.dataVolume ? { DATA_VOLUME_ID: this.dataVolume.id, DATA_DIR: dataMount } : {}),
      ...(args.group
        ? {
            EFS_FILE_SYSTEM_ID: args.group.fileSystemId,
            EFS_ACCESS_POINT_ID: args.group.accessPointId,
            SESSION_CACHE_HOST: args.group.sessionCacheHost,
            SECRET_SESSION_CACHE: args.group.sessionCacheSecretArn,
          }
        : {}),
    };
    const resolvedSettings = pulumi.output(settings);
    const bundleLocation = pulumi
      .output(args.backupBucketName)
      .apply((bucket) => ({ bucket, key: bundle.key, sha256: bundle.sha256 }));

    // Without `database`, MariaDB runs beside PHP-FPM: the `single` tier's default.
    const instanceType = args.instanceType ?? defaultInstanceType(args.database ? "standard" : "single");
    const ami = debianAmi(instanceType, parent);

    // One definition of a host, launched as one instance or from the group's template.
    const userData = pulumi
      .all([resolvedSettings, bundleLocation])
      .apply(([values, location]) => renderUserData(values, location));
    const rootVolume = {
      volumeType: "gp3",
      volumeSize: args.rootVolumeGb ?? configDefault("rootVolumeGb"),
      kmsKeyId: args.dataKeyArn,
    };
    const bootDependencies = [bundleObject, ...attachments, ...(args.networkReady ?? [])];
    if (args.group) {
      this.launchTemplate = new aws.ec2.LaunchTemplate(
        `${name}-template`,
        {
          description: `OpenEMR host (${args.stackName})`,
          imageId: ami.id,
          instanceType,
          iamInstanceProfile: { arn: profile.arn },
          networkInterfaces: [
            {
              associatePublicIpAddress: "false",
              securityGroups: [args.securityGroupId],
              deleteOnTermination: "true",
            },
          ],
          metadataOptions: hostMetadataOptions,
          monitoring: { enabled: true },
          ebsOptimized: "true",
          blockDeviceMappings: [
            {
              deviceName: ami.rootDeviceName,
              ebs: { ...rootVolume, encrypted: "true", deleteOnTermination: "true" },
            },
          ],
          // Launch templates carry user-data base64-encoded.
          userData: userData.apply((text) => Buffer.from(text).toString("base64")),
          tagSpecifications: [
            { resourceType: "instance", tags: { Name: `${args.stackName}-openemr` } },
            { resourceType: "volume", tags: { Name: `${args.stackName}-openemr-root` } },
          ],
          updateDefaultVersion: true,
        },
        { parent: this, dependsOn: bootDependencies },
      );
    } else {
      this.instance = new aws.ec2.Instance(
        `${name}-instance`,
        {
          ami: ami.id,
          instanceType,
          subnetId: args.subnetId,
          vpcSecurityGroupIds: [args.securityGroupId],
          associatePublicIpAddress: false,
          iamInstanceProfile: profile.name,
          metadataOptions: hostMetadataOptions,
          monitoring: true,
          ebsOptimized: true,
          maintenanceOptions: { autoRecovery: "default" },
          rootBlockDevice: { ...rootVolume, encrypted: true, deleteOnTermination: true },
          userData,
          tags: { Name: `${args.stackName}-openemr` },
        },
        // A newer Debian AMI or changed user-data must not replace or restart a running host:
        // cloud-init reads user-data on first boot only, and later deliveries go through SSM.
        { parent: this, dependsOn: bootDependencies, ignoreChanges: ["ami", "userData"] },
      );
    }

    if (this.dataVolume && this.instance) {
      new aws.ec2.VolumeAttachment(
        `${name}-data`,
        {
          instanceId: this.instance.id,
          volumeId: this.dataVolume.id,
          deviceName: "/dev/sdf",
          stopInstanceBeforeDetaching: true,
        },
        parent,
      );
    }

    this.bootstrapDocument = new aws.ssm.Document(
      `${name}-deliver`,
      {
        name: `openemr-aws-${args.stackName}-deliver`,
        documentType: "Command",
        documentFormat: "JSON",
        targetType: "/AWS::EC2::Instance",
        content: pulumi
          .all([resolvedSettings, bundleLocation])
          .apply(([values, location]) => renderDeliveryDocument(values, location)),
      },
      parent,
    );

    this.registerOutputs({
      instanceId: this.instance?.id,
      launchTemplateId: this.launchTemplate?.id,
      adminSecretArn: this.adminSecret.arn,
      bootstrapDocumentName: this.bootstrapDocument.name,
    });
  }
}

/** Instance families with no EBS optimization at all: an instance launched with `ebsOptimized` fails. */
const NOT_EBS_OPTIMIZABLE = ["t1", "t2"];
/** The largest gp3 volume, in GiB (16 TiB). */
const GP3_MAX_GB = 16384;

export const hostConstraints: AwsConstraint[] = [
  {
    id: "ec2-ebs-optimized",
    keys: ["instanceType"],
    rule:
      "The host is launched EBS-optimized; T1 and T2 instances do not support EBS optimization, so " +
      "`instanceType` is of another family.",
    doc: "https://docs.aws.amazon.com/ebs/latest/userguide/ebs-optimized.html",
    problems: ({ config }) => {
      const family = config.instanceType.split(".")[0];
      return NOT_EBS_OPTIMIZABLE.includes(family)
        ? [
            `openemr:instanceType: "${config.instanceType}" is a ${family} type, which cannot be EBS-optimized; ` +
              "expected another family such as t3.small, t3.medium or t4g.small",
          ]
        : [];
    },
  },
  {
    id: "aws-partition",
    keys: ["region", "copyRegion"],
    rule:
      "The program names AWS managed policies by `arn:aws:` ARNs and looks up Debian's AMIs under Debian's " +
      "account in the commercial partition, so `region` and `copyRegion` are commercial (`aws`) regions, " +
      "not AWS GovCloud (US) (`us-gov-*`) or China (`cn-*`).",
    doc: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html",
    problems: ({ config }) =>
      (["region", "copyRegion"] as const).flatMap((key) =>
        /^(us-gov|cn)-/.test(config[key])
          ? [
              `openemr:${key}: "${config[key]}" is outside AWS's commercial partition; ` +
                "expected a commercial region such as us-east-1 (GovCloud and China regions are not supported)",
            ]
          : [],
      ),
  },
  {
    id: "ebs-gp3-size",
    keys: ["rootVolumeGb", "dataVolumeGb"],
    rule: "A gp3 volume holds 1 GiB to 16 TiB (16,384 GiB).",
    doc: "https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html#gp3-ebs-volume-type",
    problems: ({ config }) =>
      (["rootVolumeGb", "dataVolumeGb"] as const).flatMap((key) =>
        config[key] < 1 || config[key] > GP3_MAX_GB
          ? [`openemr:${key}: ${config[key]} is outside gp3's sizes; expected 1 to ${GP3_MAX_GB} GiB`]
          : [],
      ),
  },
];
