// The real stack against the whole pack. Every tier, with the defaults and with each example
// stack file, has no blocking failure (waivers applied as the audit applies them). Then, for
// every rule, one mutation on a copy of the captured stack breaks one property that rule
// guards, and exactly that rule, and no other, starts failing.
import { readdirSync } from "fs";
import * as path from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStackFile } from "../../infra/config";
import { planStack } from "../../infra/plan/plan";
import { defaultSettings, evaluate, toRuleResources, type Evaluation } from "../../policies/engine";
import { allRules } from "../../policies/rules";
import { valueAt } from "../../policies/rules/outcomes";
import type { RuleResource } from "../../policies/rules/types";
import { loadWaivers } from "../../policies/waivers";

const examplesDir = path.join(__dirname, "..", "..", "config", "examples");
const waivers = loadWaivers();

function audit(resources: RuleResource[], tier: string): Evaluation[] {
  return evaluate(allRules, resources, { settings: { ...defaultSettings, tier }, waivers });
}

/** A copy of a captured stack that mutations edit: inputs and state together, as the engine holds both. */
class StackCopy {
  resources: RuleResource[];
  constructor(resources: RuleResource[]) {
    this.resources = structuredClone(resources);
  }

  find(type: string, name: string): RuleResource {
    const found = this.resources.find((resource) => resource.type.endsWith(type) && resource.name === name);
    if (!found) throw new Error(`mutation: no ${type} "${name}" in the stack`);
    return found;
  }

  /** Sets `path` (dots, numeric parts index arrays) in the resource's inputs and state; undefined removes it. */
  set(type: string, name: string, propertyPath: string, value: unknown): void {
    const resource = this.find(type, name);
    for (const holder of [resource.props, resource.outputs]) {
      if (!holder) continue;
      const keys = propertyPath.split(".");
      const parent = keys.slice(0, -1).reduce<any>((node, key) => node[key], holder);
      if (value === undefined) delete parent[keys[keys.length - 1]];
      else parent[keys[keys.length - 1]] = structuredClone(value);
    }
  }

  /** Rewrites a JSON policy document property. */
  editDocument(type: string, name: string, property: string, edit: (document: any) => void): void {
    const resource = this.find(type, name);
    const document = JSON.parse(resource.props[property]);
    edit(document);
    this.set(type, name, property, JSON.stringify(document));
  }

  remove(predicate: (resource: RuleResource) => boolean): void {
    const before = this.resources.length;
    this.resources = this.resources.filter((resource) => !predicate(resource));
    if (this.resources.length === before) throw new Error("mutation: removed nothing");
  }

  idOf(type: string, name: string): string {
    return this.find(type, name).outputs?.id;
  }

  arnOf(type: string, name: string): string {
    return this.find(type, name).outputs?.arn;
  }
}

interface Mutation {
  /** What the mutation breaks, in words. */
  breaks: string;
  /** Stack to mutate (default `standard`). */
  tier?: "standard" | "single" | "ha";
  /** A compliant change made first, where the captured stack already reports the rule (advisory). */
  given?: (stack: StackCopy) => void;
  apply: (stack: StackCopy) => void;
}

const statement = (document: any, sid: string) => document.Statement.find((item: any) => item.Sid === sid);

/** A whole replication rule for the backups (what a copy region declares). */
const replicationRules = [
  {
    id: "all",
    status: "Enabled",
    sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
    destination: {
      bucket: "arn:aws:s3:::replica",
      encryptionConfiguration: { replicaKmsKeyId: "arn:aws:kms:us-west-2:111122223333:key/replica" },
    },
  },
];

/** One mutation per rule, keyed by rule id. */
const mutations: Record<string, Mutation> = {
  "vpc-endpoint-policies": {
    breaks: "the S3 endpoint allows any bucket of any account",
    apply: (s) =>
      s.editDocument("ec2/vpcEndpoint:VpcEndpoint", "network-s3", "policy", (document) => {
        delete statement(document, "ThisAccountsBucketsOnly").Condition;
      }),
  },
  "vpc-flow-logs": {
    breaks: "the flow log points at another VPC",
    apply: (s) => s.set("FlowLog", "network-flow-logs", "vpcId", "vpc-0another"),
  },
  "vpc-default-sg-closed": {
    breaks: "the default group gets an allow-all egress rule",
    apply: (s) =>
      s.set("DefaultSecurityGroup", "network-default-sg", "egress", [
        { protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] },
      ]),
  },
  "subnet-no-auto-public-ip": {
    breaks: "an app subnet maps public IPs",
    apply: (s) => s.set("Subnet", "network-app-1", "mapPublicIpOnLaunch", true),
  },
  "route-no-open-igw": {
    breaks: "the app subnets' default route goes to the internet gateway",
    apply: (s) => {
      s.set("Route", "network-app-nat", "natGatewayId", undefined);
      s.set("Route", "network-app-nat", "gatewayId", s.idOf("InternetGateway", "network-igw"));
    },
  },
  "sg-no-public-ssh": {
    breaks: "the load balancer's world-open rule opens 22",
    apply: (s) =>
      ["fromPort", "toPort"].forEach((port) =>
        s.set("SecurityGroupIngressRule", "security-groups-alb-https-0", port, 22),
      ),
  },
  "sg-restricted-common-ports": {
    breaks: "the load balancer's world-open rule opens 3389",
    apply: (s) =>
      ["fromPort", "toPort"].forEach((port) =>
        s.set("SecurityGroupIngressRule", "security-groups-alb-https-0", port, 3389),
      ),
  },
  "sg-public-only-on-alb": {
    breaks: "the host's 443 ingress comes from the world instead of the load balancer's group",
    apply: (s) => {
      s.set("SecurityGroupIngressRule", "security-groups-host-from-alb", "referencedSecurityGroupId", undefined);
      s.set("SecurityGroupIngressRule", "security-groups-host-from-alb", "cidrIpv4", "0.0.0.0/0");
    },
  },
  "ec2-no-public-ip": {
    breaks: "the host asks for a public IP",
    apply: (s) => s.set("Instance", "host-instance", "associatePublicIpAddress", true),
  },
  "ec2-imdsv2": {
    breaks: "IMDSv1 allowed",
    apply: (s) => s.set("Instance", "host-instance", "metadataOptions.httpTokens", "optional"),
  },
  "ec2-instance-profile": {
    breaks: "the host has no instance profile",
    apply: (s) => s.set("Instance", "host-instance", "iamInstanceProfile", undefined),
  },
  "ec2-in-vpc": {
    breaks: "the host has no subnet",
    apply: (s) => s.set("Instance", "host-instance", "subnetId", undefined),
  },
  "ec2-detailed-monitoring": {
    breaks: "basic monitoring only",
    apply: (s) => s.set("Instance", "host-instance", "monitoring", false),
  },
  "ec2-ebs-optimized": {
    breaks: "not EBS-optimized",
    apply: (s) => s.set("Instance", "host-instance", "ebsOptimized", false),
  },
  "ec2-volumes-encrypted": {
    breaks: "the data volume uses the AWS managed key",
    tier: "single",
    apply: (s) => s.set("ebs/volume:Volume", "host-data", "kmsKeyId", "alias/aws/ebs"),
  },
  "ebs-encryption-default": {
    breaks: "account EBS encryption by default off",
    apply: (s) => s.set("EncryptionByDefault", "audit-ebs-encryption-by-default", "enabled", false),
  },
  "ec2-userdata-no-secrets": {
    breaks: "the app database password is written into user-data",
    apply: (s) => {
      const password = JSON.parse(s.find("SecretVersion", "host-db-app").props.secretString).password;
      s.set(
        "Instance",
        "host-instance",
        "userData",
        `${s.find("Instance", "host-instance").props.userData}\nDB_PASSWORD=${password}\n`,
      );
    },
  },
  "ec2-ssm-managed": {
    breaks: "the host's SSM policy loses the agent's registration",
    apply: (s) =>
      s.editDocument(
        "iam/policy:Policy",
        "host-ssm",
        "policy",
        (document) => (statement(document, "SsmAgentCore").Action = ["ssmmessages:OpenDataChannel"]),
      ),
  },
  "no-ssh-keypair": {
    breaks: "the host gets a key pair",
    apply: (s) => s.set("Instance", "host-instance", "keyName", "ops"),
  },
  "rds-storage-encrypted": {
    breaks: "RDS storage unencrypted",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "storageEncrypted", false),
  },
  "rds-cmk": {
    breaks: "RDS falls back to the AWS managed key",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "kmsKeyId", undefined),
  },
  "rds-not-public": {
    breaks: "RDS publicly accessible",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "publiclyAccessible", true),
  },
  "rds-backup-retention": {
    breaks: "one day of RDS backups",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "backupRetentionPeriod", 1),
  },
  "asg-multi-az-elb-health": {
    breaks: "the host group replaces only hosts EC2 finds stopped, not those the load balancer finds unhealthy",
    tier: "ha",
    apply: (s) => s.set("autoscaling/group:Group", "host-group-asg", "healthCheckType", "EC2"),
  },
  "elasticache-tls-auth-encrypted": {
    breaks: "the session cache also admits clients without TLS",
    tier: "ha",
    apply: (s) => s.set("ReplicationGroup", "session-cache-valkey", "transitEncryptionMode", "preferred"),
  },
  "efs-encrypted-cmk": {
    breaks: "sites/ on EFS encrypted with AWS's key, not the stack's",
    tier: "ha",
    apply: (s) => s.set("efs/fileSystem:FileSystem", "shared-files-fs", "kmsKeyId", undefined),
  },
  "rds-multi-az": {
    breaks: "Multi-AZ switched off again",
    given: (s) => s.set("rds/instance:Instance", "database-instance", "multiAz", true),
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "multiAz", false),
  },
  "rds-deletion-protection": {
    breaks: "deletion protection off",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "deletionProtection", false),
  },
  "rds-log-exports": {
    breaks: "only the error log exported",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "enabledCloudwatchLogsExports", ["error"]),
  },
  "rds-enhanced-monitoring": {
    breaks: "enhanced monitoring off",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "monitoringInterval", 0),
  },
  "rds-minor-upgrade": {
    breaks: "minor upgrades off",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "autoMinorVersionUpgrade", false),
  },
  "rds-require-tls": {
    breaks: "require_secure_transport off",
    apply: (s) => {
      const parameters = s
        .find("ParameterGroup", "database-params")
        .props.parameters.map((parameter: any) =>
          parameter.name === "require_secure_transport" ? { ...parameter, value: "0" } : parameter,
        );
      s.set("ParameterGroup", "database-params", "parameters", parameters);
    },
  },
  "rds-pi-cmk": {
    breaks: "Performance Insights with the AWS managed key",
    // The default db.t4g.small runs no Performance Insights: on as on db.t4g.medium, with the data key.
    given: (s) => {
      s.set("rds/instance:Instance", "database-instance", "performanceInsightsEnabled", true);
      s.set(
        "rds/instance:Instance",
        "database-instance",
        "performanceInsightsKmsKeyId",
        s.arnOf("kms/key:Key", "keys-data"),
      );
    },
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "performanceInsightsKmsKeyId", undefined),
  },
  "in-backup-plan": {
    breaks: "the database left out of the backup selection",
    apply: (s) =>
      s.set("Selection", "snapshots-selection", "resources", [s.arnOf("ec2/instance:Instance", "host-instance")]),
  },
  "backup-plan-retention": {
    breaks: "snapshots kept one day",
    apply: (s) => s.set("Plan", "snapshots-plan", "rules.0.lifecycle.deleteAfter", 1),
  },
  "backup-vault-lock": {
    breaks: "the vault lock's minimum above the plan's retention (every snapshot job would fail)",
    given: (s) => {
      const vault = s.find("backup/vault:Vault", "snapshots-vault");
      const lock = { backupVaultName: vault.outputs?.name, minRetentionDays: 35, maxRetentionDays: 365 };
      s.resources.push({
        urn: vault.urn.replace(
          /aws:backup\/vault:Vault::snapshots-vault$/,
          "aws:backup/vaultLockConfiguration:VaultLockConfiguration::snapshots-vault-lock",
        ),
        type: "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
        name: "snapshots-vault-lock",
        props: { ...lock, changeableForDays: 3 },
        outputs: { ...lock, changeableForDays: 3, id: vault.outputs?.name },
        provider: vault.provider,
      });
    },
    apply: (s) => s.set("VaultLockConfiguration", "snapshots-vault-lock", "minRetentionDays", 40),
  },
  "s3-public-access-block": {
    breaks: "public bucket policies allowed on the backups",
    apply: (s) => s.set("BucketPublicAccessBlock", "backup-storage-backups-public-access", "blockPublicPolicy", false),
  },
  "s3-no-public-acl": {
    breaks: "ACLs re-enabled on the backups",
    apply: (s) =>
      s.set("BucketOwnershipControls", "backup-storage-backups-ownership", "rule.objectOwnership", "ObjectWriter"),
  },
  "s3-sse-kms": {
    breaks: "backups encrypted with SSE-S3",
    apply: (s) =>
      s.set(
        "BucketServerSideEncryptionConfiguration",
        "backup-storage-backups-encryption",
        "rules.0.applyServerSideEncryptionByDefault",
        { sseAlgorithm: "AES256" },
      ),
  },
  "s3-ssl-only": {
    breaks: "the TLS-only deny removed from the backup bucket policy",
    apply: (s) =>
      s.editDocument(
        "BucketPolicy",
        "backup-storage-backups-policy",
        "policy",
        (document) =>
          (document.Statement = document.Statement.filter((item: any) => item.Sid !== "DenyInsecureTransport")),
      ),
  },
  "s3-versioning": {
    breaks: "versioning suspended on the backups",
    apply: (s) =>
      s.set("BucketVersioning", "backup-storage-backups-versioning", "versioningConfiguration.status", "Suspended"),
  },
  "s3-access-logging": {
    breaks: "the backups' access logging removed",
    apply: (s) => s.remove((resource) => resource.name === "backup-storage-backups-logging"),
  },
  "s3-replication": {
    breaks: "the backups' replication rule disabled",
    given: (s) => {
      const bucket = s.find("s3/bucket:Bucket", "backup-storage-backups");
      s.resources.push({
        urn: bucket.urn.replace(
          /aws:s3\/bucket:Bucket::backup-storage-backups$/,
          "aws:s3/bucketReplicationConfig:BucketReplicationConfig::backup-storage-backups-replication",
        ),
        type: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        name: "backup-storage-backups-replication",
        props: {
          bucket: bucket.outputs?.id,
          rules: replicationRules,
        },
        outputs: {
          id: bucket.outputs?.id,
          bucket: bucket.outputs?.id,
          rules: replicationRules,
        },
        provider: bucket.provider,
      });
    },
    apply: (s) => s.set("BucketReplicationConfig", "backup-storage-backups-replication", "rules.0.status", "Disabled"),
  },
  "s3-policy-break-glass": {
    breaks: "the break-glass deny excepts nobody (only the root user could change the policy)",
    given: (s) =>
      s.editDocument("BucketPolicy", "backup-storage-backups-policy", "policy", (document) =>
        document.Statement.push({
          Sid: "DenyPolicyChangesExceptBreakGlass",
          Effect: "Deny",
          Principal: "*",
          Action: ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"],
          Resource: statement(document, "DenyWeakeningRetention").Resource,
          Condition: { ArnNotEquals: { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/break-glass" } },
        }),
      ),
    apply: (s) =>
      s.editDocument("BucketPolicy", "backup-storage-backups-policy", "policy", (document) => {
        delete statement(document, "DenyPolicyChangesExceptBreakGlass").Condition;
      }),
  },
  "s3-object-lock": {
    breaks: "Object Lock off on the backups",
    apply: (s) => s.set("s3/bucket:Bucket", "backup-storage-backups", "objectLockEnabled", false),
  },
  "s3-lifecycle": {
    breaks: "noncurrent versions of backups never expire",
    apply: (s) =>
      s.set(
        "BucketLifecycleConfiguration",
        "backup-storage-backups-lifecycle",
        "rules.0.noncurrentVersionExpiration",
        undefined,
      ),
  },
  "kms-rotation": {
    breaks: "data key rotation off",
    apply: (s) => s.set("kms/key:Key", "keys-data", "enableKeyRotation", false),
  },
  "kms-deletion-window": {
    breaks: "a 7-day deletion window",
    apply: (s) => s.set("kms/key:Key", "keys-data", "deletionWindowInDays", 7),
  },
  "kms-key-admin-separated": {
    breaks: "the data key's administrator may also use it (kms:*)",
    apply: (s) =>
      s.editDocument(
        "kms/key:Key",
        "keys-data",
        "policy",
        (document) => (statement(document, "KeyAdministration").Action = "kms:*"),
      ),
  },
  "kms-policy-no-wildcard": {
    breaks: "the alerts key lets anyone publish",
    apply: (s) =>
      s.editDocument(
        "kms/key:Key",
        "keys-alerts",
        "policy",
        (document) => (statement(document, "EventBridgePublishes").Principal = "*"),
      ),
  },
  "log-group-kms": {
    breaks: "a host log group unencrypted",
    apply: (s) => s.set("LogGroup", "host-system", "kmsKeyId", undefined),
  },
  "log-group-retention": {
    breaks: "a host log group kept 30 days",
    apply: (s) => s.set("LogGroup", "host-system", "retentionInDays", 30),
  },
  "alarm-has-actions": {
    breaks: "the host CPU alarm notifies nobody",
    apply: (s) => s.set("MetricAlarm", "monitoring-host-cpu", "alarmActions", []),
  },
  "required-alarms": {
    breaks: "every database alarm removed",
    apply: (s) =>
      s.remove((resource) => resource.type.endsWith("MetricAlarm") && resource.props.namespace === "AWS/RDS"),
  },
  "sns-kms": {
    breaks: "the alert topic unencrypted",
    apply: (s) => s.set("Topic", "monitoring-alarms", "kmsMasterKeyId", undefined),
  },
  "iam-no-admin": {
    breaks: "the flow logs' delivery role gets AdministratorAccess",
    apply: (s) =>
      s.set("RolePolicyAttachment", "network-flow-logs", "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
  },
  "host-role-no-aws-managed-policies": {
    breaks: "the host's SSM policy swapped for AmazonSSMManagedInstanceCore",
    apply: (s) =>
      s.set(
        "RolePolicyAttachment",
        "host-policy-1",
        "policyArn",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      ),
  },
  "service-trust-confused-deputy": {
    breaks: "RDS enhanced monitoring may assume its role for any account's database",
    apply: (s) =>
      s.editDocument("iam/role:Role", "database-monitoring", "assumeRolePolicy", (document) => {
        delete document.Statement[0].Condition;
      }),
  },
  "iam-no-service-wildcard": {
    breaks: "the host may use every KMS action on its key",
    apply: (s) =>
      s.editDocument(
        "iam/policy:Policy",
        "host-access",
        "policy",
        (document) => (statement(document, "UseDataKey").Action = "kms:*"),
      ),
  },
  "iam-no-inline-policy": {
    breaks: "the host role gets an inline policy",
    apply: (s) =>
      s.set("iam/role:Role", "host-role", "inlinePolicies", [
        {
          name: "extra",
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::backups/*" }],
          }),
        },
      ]),
  },
  "iam-trust-restricted": {
    breaks: "anyone may assume the host role",
    apply: (s) =>
      s.editDocument(
        "iam/role:Role",
        "host-role",
        "assumeRolePolicy",
        (document) => (document.Statement[0].Principal = { AWS: "*" }),
      ),
  },
  "iam-no-kms-decrypt-star": {
    breaks: "the host may decrypt with any key",
    apply: (s) =>
      s.editDocument(
        "iam/policy:Policy",
        "host-access",
        "policy",
        (document) => (statement(document, "UseDataKey").Resource = "*"),
      ),
  },
  "iam-scoped-writes": {
    breaks: "the host may write any object anywhere",
    apply: (s) =>
      s.editDocument(
        "iam/policy:Policy",
        "host-access",
        "policy",
        (document) => (statement(document, "ReadWriteOwnBackups").Resource = "*"),
      ),
  },
  "secret-cmk": {
    breaks: "the app secret with the AWS managed key",
    apply: (s) => s.set("Secret", "host-db-app", "kmsKeyId", undefined),
  },
  "master-secret-not-on-ec2": {
    breaks: "the host may read the RDS master secret again",
    apply: (s) => {
      const master = s.find("rds/instance:Instance", "database-instance").outputs?.masterUserSecrets[0].secretArn;
      s.editDocument("iam/policy:Policy", "host-access", "policy", (document) =>
        statement(document, "ReadOwnSecrets").Resource.push(master),
      );
    },
  },
  "secret-rotation": {
    breaks: "the RDS master password no longer managed (and rotated) by RDS",
    apply: (s) => s.set("rds/instance:Instance", "database-instance", "manageMasterUserPassword", false),
  },
  "trail-enabled": {
    breaks: "the trail records one region only",
    apply: (s) => s.set("Trail", "audit-trail", "isMultiRegionTrail", false),
  },
  "trail-kms": { breaks: "trail logs with SSE-S3", apply: (s) => s.set("Trail", "audit-trail", "kmsKeyId", undefined) },
  "trail-log-validation": {
    breaks: "log file validation off",
    apply: (s) => s.set("Trail", "audit-trail", "enableLogFileValidation", false),
  },
  "trail-cloudwatch": {
    breaks: "the trail no longer delivers to CloudWatch Logs",
    apply: (s) => s.set("Trail", "audit-trail", "cloudWatchLogsGroupArn", undefined),
  },
  "cloudtrail-metric-alarms": {
    breaks: "the root-use metric filter removed",
    apply: (s) =>
      s.remove(
        (resource) => resource.type.endsWith("LogMetricFilter") && resource.name === "detection-root-account-usage",
      ),
  },
  "audit-log-retention": {
    breaks: "the flow log kept one year",
    apply: (s) => s.set("LogGroup", "network-flow-logs", "retentionInDays", 365),
  },
  "rds-no-statement-logs": {
    breaks: "the slow query log on",
    apply: (s) => {
      const parameters: any[] = s.find("ParameterGroup", "database-params").props.parameters;
      const index = parameters.findIndex((parameter) => parameter.name === "slow_query_log");
      s.set("ParameterGroup", "database-params", `parameters.${index}.value`, "1");
    },
  },
  "alb-https-redirect": {
    breaks: "port 80 redirects to plain HTTP",
    apply: (s) => s.set("Listener", "edge-http-redirect", "defaultActions.0.redirect.protocol", "HTTP"),
  },
  "alb-tls12-policy": {
    breaks: "the HTTPS listener allows TLS 1.0",
    // A TLS 1.2+ policy with CBC suites first (alb-tls-gcm-only's finding), so only the floor is new.
    given: (s) => s.set("Listener", "edge-https", "sslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06"),
    apply: (s) => s.set("Listener", "edge-https", "sslPolicy", "ELBSecurityPolicy-2016-08"),
  },
  "alb-tls-gcm-only": {
    breaks: "the HTTPS listener also offers ChaCha20-Poly1305 (TLS 1.3, not FIPS)",
    apply: (s) => s.set("Listener", "edge-https", "sslPolicy", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"),
  },
  "alb-trusted-certificate": {
    breaks: "the listener's certificate is the self-signed one",
    given: (s) => s.set("acm/certificate:Certificate", "edge-certificate", "certificateBody", undefined),
    apply: (s) =>
      s.set(
        "acm/certificate:Certificate",
        "edge-certificate",
        "certificateBody",
        s.find("selfSignedCert:SelfSignedCert", "edge-self-signed").outputs?.certPem,
      ),
  },
  "alb-open-without-auth": {
    breaks: "the whole internet reaches a load balancer that signs no one in",
    given: (s) => {
      s.set("SecurityGroupIngressRule", "security-groups-alb-https-0", "cidrIpv4", "203.0.113.0/24");
      s.set("SecurityGroupIngressRule", "security-groups-alb-http-0", "cidrIpv4", "203.0.113.0/24");
    },
    apply: (s) => s.set("SecurityGroupIngressRule", "security-groups-alb-https-0", "cidrIpv4", "0.0.0.0/0"),
  },
  "alb-acm-cert": {
    breaks: "an IAM server certificate on the listener",
    apply: (s) =>
      s.set("Listener", "edge-https", "certificateArn", "arn:aws:iam::111122223333:server-certificate/legacy"),
  },
  "alb-drop-invalid-headers": {
    breaks: "invalid headers passed through",
    apply: (s) => s.set("LoadBalancer", "edge-alb", "dropInvalidHeaderFields", false),
  },
  "alb-access-logs": {
    breaks: "ALB access logs off",
    apply: (s) => s.set("LoadBalancer", "edge-alb", "accessLogs.enabled", false),
  },
  "alb-deletion-protection": {
    breaks: "ALB deletion protection off",
    apply: (s) => s.set("LoadBalancer", "edge-alb", "enableDeletionProtection", false),
  },
  "alb-waf": {
    breaks: "the web ACL associated with something else",
    apply: (s) =>
      s.set(
        "WebAclAssociation",
        "edge-waf",
        "resourceArn",
        "arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/app/other/0",
      ),
  },
  "waf-logging": {
    breaks: "WAF logging removed",
    apply: (s) => s.remove((resource) => resource.type.endsWith("WebAclLoggingConfiguration")),
  },
  "waf-managed-rules": {
    breaks: "the known-bad-inputs group only counts",
    apply: (s) => {
      const rules = s
        .find("wafv2/webAcl:WebAcl", "edge-waf")
        .props.rules.map((rule: any) =>
          rule.statement?.managedRuleGroupStatement?.name === "AWSManagedRulesKnownBadInputsRuleSet"
            ? { ...rule, overrideAction: { count: {} } }
            : rule,
        );
      s.set("wafv2/webAcl:WebAcl", "edge-waf", "rules", rules);
    },
  },
  "phi-tagged": {
    breaks: "the host's tag overridden",
    apply: (s) => s.set("Instance", "host-instance", "tags", { Name: "host", DataClassification: "public" }),
  },
};

/** `rule::urn` of every failing evaluation. */
function failures(evaluations: Evaluation[]): Set<string> {
  return new Set(
    evaluations
      .filter((evaluation) => evaluation.status === "fail")
      .map((evaluation) => `${evaluation.rule.id}::${evaluation.urn}`),
  );
}

describe("the stack against the pack", () => {
  const stacks: Record<string, { resources: RuleResource[]; tier: string }> = {};

  beforeAll(async () => {
    for (const tier of ["standard", "single", "ha"]) {
      stacks[`defaults (${tier})`] = {
        resources: toRuleResources(
          await planStack({ config: { "openemr:tier": tier }, stackName: `defaults-${tier}` }),
        ),
        tier,
      };
    }
    for (const file of readdirSync(examplesDir).filter((name) => /^Pulumi\..+\.ya?ml$/.test(name))) {
      const config = loadStackFile(path.join(examplesDir, file));
      const tier = config["openemr:tier"] ?? defaultSettings.tier;
      stacks[file] = {
        resources: toRuleResources(await planStack({ config, stackName: file.replace(/^Pulumi\.|\.ya?ml$/g, "") })),
        tier,
      };
    }
  }, 300_000);

  it("plans every tier and example", () => {
    expect(Object.keys(stacks).length).toBeGreaterThanOrEqual(4);
  });

  it("has no blocking failure on any tier or example, waivers applied", () => {
    for (const [name, { resources, tier }] of Object.entries(stacks)) {
      const blocking = audit(resources, tier)
        .filter((evaluation) => evaluation.blocking || evaluation.status === "unknown")
        .map(({ rule, outcome }) => {
          const detail =
            outcome.status === "fail" ? outcome.message : outcome.status === "not-applicable" ? outcome.reason : "";
          return `${rule.id}: ${detail}`;
        });
      expect(blocking, name).toEqual([]);
    }
  });

  it("gives every decided outcome its evidence, and every failure names its resource", () => {
    for (const [name, { resources, tier }] of Object.entries(stacks)) {
      for (const evaluation of audit(resources, tier)) {
        if (evaluation.outcome.status === "not-applicable") continue;
        expect(
          Object.keys(evaluation.outcome.evidence).length,
          `${name}: ${evaluation.rule.id} on ${evaluation.resourceName}`,
        ).toBeGreaterThan(0);
        if (evaluation.outcome.status === "fail") expect(evaluation.outcome.message).toMatch(/^\S+ "[^"]+": /);
      }
    }
  });

  it("has one mutation for every rule", () => {
    expect(Object.keys(mutations).sort()).toEqual(allRules.map((rule) => rule.id).sort());
  });

  for (const rule of allRules) {
    it(`${rule.id}: breaking it fails exactly ${rule.id}`, () => {
      const mutation = mutations[rule.id];
      expect(mutation, `a mutation for ${rule.id}`).toBeDefined();
      const tier = mutation.tier ?? "standard";
      const stack = new StackCopy(stacks[`defaults (${tier})`].resources);
      mutation.given?.(stack);
      const before = failures(audit(stack.resources, tier));
      mutation.apply(stack);
      const after = failures(audit(stack.resources, tier));
      const newlyFailing = [...after].filter((key) => !before.has(key));
      expect(newlyFailing.length, `${rule.id}: ${mutation.breaks} makes something fail`).toBeGreaterThan(0);
      expect([...new Set(newlyFailing.map((key) => key.split("::")[0]))], mutation.breaks).toEqual([rule.id]);
    });
  }

  it("the mutation helper reads what it wrote", () => {
    const stack = new StackCopy(stacks["defaults (standard)"].resources);
    stack.set("Instance", "host-instance", "metadataOptions.httpTokens", "optional");
    expect(valueAt(stack.find("Instance", "host-instance").outputs, "metadataOptions.httpTokens")).toBe("optional");
    expect(
      valueAt(
        stacks["defaults (standard)"].resources.find((resource) => resource.name === "host-instance")?.props,
        "metadataOptions.httpTokens",
      ),
    ).toBe("required");
  });
});
