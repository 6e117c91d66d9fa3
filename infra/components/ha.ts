// The `ha` tier's shared pieces: `sites/` on EFS and PHP sessions in ElastiCache Valkey, so any
// host of the group serves any request, and the group of hosts itself (docs/ha.md).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import { configDefault } from "../config-defaults";

/** The web server's user and group on Debian (www-data), which owns `sites/`. */
export const webUserId = 33;
/** The directory of the file system the hosts' access point is rooted at. */
export const sharedSitesPath = "/openemr-sites";
/** The ports the shared stores listen on. */
export const NFS_PORT = 2049;
export const VALKEY_PORT = 6379;

/** A store only the host group reaches: its own group admitting one port from the hosts' group. */
function storeSecurityGroup(
  name: string,
  vpcId: pulumi.Input<string>,
  hostSecurityGroupId: pulumi.Input<string>,
  port: number,
  what: string,
  parent: pulumi.Resource,
): { group: aws.ec2.SecurityGroup; hostEgress: aws.vpc.SecurityGroupEgressRule } {
  const group = new aws.ec2.SecurityGroup(
    `${name}-sg`,
    { vpcId, description: `OpenEMR ${what}: port ${port} from the OpenEMR hosts only`, tags: { Name: `${name}-sg` } },
    { parent },
  );
  new aws.vpc.SecurityGroupIngressRule(
    `${name}-from-hosts`,
    {
      securityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: hostSecurityGroupId,
      description: `${what} from the OpenEMR hosts`,
    },
    { parent },
  );
  const hostEgress = new aws.vpc.SecurityGroupEgressRule(
    `${name}-host-egress`,
    {
      securityGroupId: hostSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      referencedSecurityGroupId: group.id,
      description: `${what} to its store`,
    },
    { parent },
  );
  return { group, hostEgress };
}

export interface SharedFilesArgs {
  vpcId: pulumi.Input<string>;
  /** The app subnets, one a zone: a mount target in each. */
  subnetIds: pulumi.Input<string>[];
  /** The hosts' security group: NFS is admitted from it alone. */
  hostSecurityGroupId: pulumi.Input<string>;
  /** Encrypts the file system (the `data` key). */
  dataKeyArn: pulumi.Input<string>;
  /** Defaults to the stack's `efsThroughputMode`, elastic. */
  throughputMode?: "elastic" | "bursting";
  /** Keep the file system on `pulumi destroy`. Defaults to the stack's `retainDataOnDestroy`. */
  retainDataOnDestroy?: boolean;
}

/**
 * OpenEMR's `sites/` on EFS: encrypted with the data key, a mount target per zone, reachable
 * over TLS only (the file system policy), through an access point that makes every access
 * www-data's and roots it at one directory.
 */
export class SharedFiles extends pulumi.ComponentResource {
  public readonly fileSystem: aws.efs.FileSystem;
  public readonly accessPoint: aws.efs.AccessPoint;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** The hosts' NFS egress and the mount targets: a host's first boot mounts through them. */
  public readonly networkReady: pulumi.Resource[];

  constructor(name: string, args: SharedFilesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:ha:SharedFiles", name, {}, opts);
    const parent = { parent: this };
    const retainOnDelete = args.retainDataOnDestroy ?? configDefault("retainDataOnDestroy");
    const { group, hostEgress } = storeSecurityGroup(
      name,
      args.vpcId,
      args.hostSecurityGroupId,
      NFS_PORT,
      "NFS (EFS)",
      this,
    );
    this.securityGroup = group;

    this.fileSystem = new aws.efs.FileSystem(
      `${name}-fs`,
      {
        encrypted: true,
        kmsKeyId: args.dataKeyArn,
        performanceMode: "generalPurpose",
        throughputMode: args.throughputMode ?? configDefault("efsThroughputMode"),
        tags: { Name: `${name}-sites` },
      },
      { ...parent, retainOnDelete },
    );
    const mountTargets = args.subnetIds.map(
      (subnetId, index) =>
        new aws.efs.MountTarget(
          `${name}-mount-${index}`,
          { fileSystemId: this.fileSystem.id, subnetId, securityGroups: [group.id] },
          parent,
        ),
    );
    this.accessPoint = new aws.efs.AccessPoint(
      `${name}-sites`,
      {
        fileSystemId: this.fileSystem.id,
        posixUser: { uid: webUserId, gid: webUserId },
        rootDirectory: {
          path: sharedSitesPath,
          creationInfo: { ownerUid: webUserId, ownerGid: webUserId, permissions: "0750" },
        },
        tags: { Name: `${name}-sites` },
      },
      parent,
    );
    // Clients mount through a mount target; any request without TLS is refused, whoever makes it.
    // https://docs.aws.amazon.com/efs/latest/ug/encryption-in-transit.html
    new aws.efs.FileSystemPolicy(
      `${name}-policy`,
      {
        fileSystemId: this.fileSystem.id,
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "MountThroughMountTargets",
              Effect: "Allow",
              Principal: { AWS: "*" },
              Action: ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
              Resource: this.fileSystem.arn,
              Condition: { Bool: { "elasticfilesystem:AccessedViaMountTarget": "true" } },
            },
            {
              Sid: "DenyWithoutTls",
              Effect: "Deny",
              Principal: { AWS: "*" },
              Action: "*",
              Resource: this.fileSystem.arn,
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ],
        }),
      },
      parent,
    );
    this.networkReady = [hostEgress, ...mountTargets];
    this.registerOutputs({ fileSystemId: this.fileSystem.id, accessPointId: this.accessPoint.id });
  }
}

export interface SessionCacheArgs {
  stackName: string;
  vpcId: pulumi.Input<string>;
  /** The app subnets: the nodes go in two of their zones. */
  subnetIds: pulumi.Input<string>[];
  hostSecurityGroupId: pulumi.Input<string>;
  /** Encrypts the cache at rest and the AUTH token's secret (the `data` key). */
  dataKeyArn: pulumi.Input<string>;
  /** Defaults to the stack's `sessionCacheNodeType`. */
  nodeType?: string;
}

/**
 * PHP sessions in an ElastiCache Valkey replication group: a primary and a replica in two zones
 * with automatic failover, TLS required, AUTH with a generated token kept in Secrets Manager,
 * encrypted at rest with the data key.
 */
export class SessionCache extends pulumi.ComponentResource {
  public readonly replicationGroup: aws.elasticache.ReplicationGroup;
  /** The AUTH token, `{"password": ...}`: the hosts read it. */
  public readonly authSecret: aws.secretsmanager.Secret;
  public readonly securityGroup: aws.ec2.SecurityGroup;
  public readonly networkReady: pulumi.Resource[];

  constructor(name: string, args: SessionCacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:ha:SessionCache", name, {}, opts);
    const parent = { parent: this };
    const { group, hostEgress } = storeSecurityGroup(
      name,
      args.vpcId,
      args.hostSecurityGroupId,
      VALKEY_PORT,
      "Valkey (sessions)",
      this,
    );
    this.securityGroup = group;

    // ElastiCache takes 16 to 128 printable characters but not @, " or /: letters and digits only.
    const token = new random.RandomPassword(`${name}-auth`, { length: 64, special: false }, parent);
    this.authSecret = new aws.secretsmanager.Secret(
      `${name}-auth`,
      {
        name: `openemr-aws/${args.stackName}/session-cache`,
        description: "AUTH token of the OpenEMR session cache (Valkey)",
        kmsKeyId: args.dataKeyArn,
        recoveryWindowInDays: 30,
      },
      parent,
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-auth`,
      { secretId: this.authSecret.id, secretString: pulumi.jsonStringify({ password: token.result }) },
      parent,
    );
    const subnetGroup = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      { description: "OpenEMR session cache: the app subnets", subnetIds: args.subnetIds },
      parent,
    );
    this.replicationGroup = new aws.elasticache.ReplicationGroup(
      `${name}-valkey`,
      {
        description: `OpenEMR PHP sessions (${args.stackName})`,
        engine: "valkey",
        engineVersion: "8.0",
        nodeType: args.nodeType ?? configDefault("sessionCacheNodeType"),
        numCacheClusters: 2,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        port: VALKEY_PORT,
        subnetGroupName: subnetGroup.name,
        securityGroupIds: [group.id],
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        atRestEncryptionEnabled: true,
        kmsKeyId: args.dataKeyArn,
        authToken: token.result,
        autoMinorVersionUpgrade: true,
        // Sessions are short-lived and recreated by a new sign-in: no snapshots to hold them.
        snapshotRetentionLimit: 0,
      },
      parent,
    );
    this.networkReady = [hostEgress];
    this.registerOutputs({
      primaryEndpoint: this.replicationGroup.primaryEndpointAddress,
      authSecretArn: this.authSecret.arn,
    });
  }
}

export interface HostGroupArgs {
  namePrefix: string;
  /** The hosts' launch template (the Host component's, built with `group`). */
  launchTemplateId: pulumi.Input<string>;
  launchTemplateVersion: pulumi.Input<string>;
  /** The app subnets, one a zone, at least two. */
  subnetIds: pulumi.Input<string>[];
  /** The load balancer's target group the hosts register with. */
  targetGroupArn: pulumi.Input<string>;
  /** `<load balancer arnSuffix>/<target group arnSuffix>`, the requests-per-target metric's label. */
  requestCountResourceLabel: pulumi.Input<string>;
  /** Defaults to the stack's `haMinSize`, `haMaxSize` and `haTargetRequestsPerHost`. */
  minSize?: number;
  maxSize?: number;
  targetRequestsPerHost?: number;
}

/**
 * Seconds a new host has before the load balancer's health check counts: the bootstrap installs
 * packages, fetches the release and (on the first host) runs OpenEMR's installer, which takes
 * several minutes; a host counted unhealthy mid-way would be replaced before it could serve.
 */
export const HOST_BOOTSTRAP_GRACE_SECONDS = 1200;

/**
 * The hosts of the `ha` tier: an Auto Scaling group over the app subnets' zones, registered with
 * the load balancer, replaced when the load balancer finds them unhealthy, scaled on requests
 * per host, and rolled by an instance refresh that keeps full capacity and rolls back on failure.
 */
export class HostGroup extends pulumi.ComponentResource {
  public readonly group: aws.autoscaling.Group;

  constructor(name: string, args: HostGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:ha:HostGroup", name, {}, opts);
    const parent = { parent: this };
    const minSize = args.minSize ?? configDefault("haMinSize");
    this.group = new aws.autoscaling.Group(
      `${name}-asg`,
      {
        name: `${args.namePrefix}-openemr`,
        minSize,
        maxSize: args.maxSize ?? configDefault("haMaxSize"),
        vpcZoneIdentifiers: args.subnetIds,
        launchTemplate: { id: args.launchTemplateId, version: args.launchTemplateVersion },
        targetGroupArns: [args.targetGroupArn],
        healthCheckType: "ELB",
        healthCheckGracePeriod: HOST_BOOTSTRAP_GRACE_SECONDS,
        defaultInstanceWarmup: HOST_BOOTSTRAP_GRACE_SECONDS,
        // Capacity metrics, for the in-service alarm and the dashboard.
        enabledMetrics: ["GroupInServiceInstances", "GroupDesiredCapacity", "GroupMinSize", "GroupMaxSize"],
        // A host's first boot takes longer than Pulumi's default 10 minutes to pass the health check.
        waitForCapacityTimeout: "30m",
        instanceRefresh: {
          strategy: "Rolling",
          preferences: {
            // Launch before terminating: full capacity throughout, up to twice the hosts for a while.
            minHealthyPercentage: 100,
            maxHealthyPercentage: 200,
            instanceWarmup: String(HOST_BOOTSTRAP_GRACE_SECONDS),
            autoRollback: true,
            checkpointPercentages: [50, 100],
            checkpointDelay: "600",
          },
        },
        tags: [{ key: "Name", value: `${args.namePrefix}-openemr`, propagateAtLaunch: true }],
      },
      parent,
    );
    new aws.autoscaling.Policy(
      `${name}-requests`,
      {
        autoscalingGroupName: this.group.name,
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          predefinedMetricSpecification: {
            predefinedMetricType: "ALBRequestCountPerTarget",
            resourceLabel: args.requestCountResourceLabel,
          },
          targetValue: args.targetRequestsPerHost ?? configDefault("haTargetRequestsPerHost"),
        },
      },
      parent,
    );
    this.registerOutputs({ groupName: this.group.name, groupArn: this.group.arn });
  }
}
