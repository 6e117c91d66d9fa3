// Customer-managed KMS keys, one per purpose, so each key policy names only the services
// that purpose needs and a reviewer can read who may use what.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import { type AwsConstraint, derivedNameProblem, STACK_NAME } from "../constraint";

export interface KeysArgs {
  /** Stack name, used in the key aliases. */
  stackName: string;
  /**
   * Region the keys live in (CloudWatch Logs' service principal is regional). Defaults to the
   * provider's region, the one the keys are created in.
   */
  region?: pulumi.Input<string>;
  /**
   * Keep the keys (and so the data they encrypt) readable after `pulumi destroy`. Defaults to the
   * stack's `retainDataOnDestroy`, which keeps them: a key deleted with the stack would make every
   * backup encrypted with it unreadable.
   */
  retainDataOnDestroy?: boolean;
  /**
   * The role that alone administers the keys (policy, rotation, deletion). Defaults to the stack's
   * `keyAdminRoleArn`, empty: the account administers them through its IAM policies.
   */
  keyAdminRoleArn?: string;
}

type KeyPurpose = "data" | "logs" | "alerts";

/** The alias of the stack's key for `purpose` (the copy region's data key has the same alias there). */
export function keyAliasName(stackName: string, purpose: KeyPurpose): string {
  return `alias/openemr-aws/${stackName}/${purpose}`;
}

export const keyConstraints: AwsConstraint[] = [
  {
    id: "kms-alias-name",
    keys: [STACK_NAME],
    rule:
      "A KMS alias is 1 to 256 letters, digits, `/`, `_` and `-`, and not under `alias/aws/`; " +
      "the stack's keys are `alias/openemr-aws/<stack>/<purpose>`.",
    doc: "https://docs.aws.amazon.com/kms/latest/developerguide/alias-create.html",
    problems: ({ stackName }) => {
      const alias = keyAliasName(stackName, "alerts");
      return derivedNameProblem(
        stackName,
        "KMS alias",
        alias,
        /^alias\/[A-Za-z0-9/_-]+$/.test(alias) && alias.length <= 256,
        "a stack name of letters, digits, '-' and '_' only (a KMS alias allows no other character)",
      );
    },
  },
  {
    id: "copy-region-differs",
    keys: ["copyRegion", "region"],
    rule:
      "A KMS alias is unique in its account and region; the copy region's data key takes the alias of the " +
      "stack's data key there, so `copyRegion` must be another region than `region`.",
    doc: "https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html",
    problems: ({ config }) =>
      config.copyRegion === config.region
        ? [
            `openemr:copyRegion: "${config.copyRegion}" is openemr:region itself; ` +
              "expected another region (a copy in the same region survives no regional outage), or empty for none",
          ]
        : [],
  },
];

const descriptions: Record<KeyPurpose, string> = {
  data: "OpenEMR data: EBS volumes, RDS storage and Performance Insights, secrets, backups",
  logs: "OpenEMR logs: CloudWatch Logs groups and CloudTrail",
  alerts: "OpenEMR alerts: the SNS alarm topic",
};

export class Keys extends pulumi.ComponentResource {
  /** EBS, RDS storage and Performance Insights, Secrets Manager, the backup bucket and vault. */
  public readonly data: aws.kms.Key;
  /** CloudWatch Logs groups and the CloudTrail trail. */
  public readonly logs: aws.kms.Key;
  /** The SNS alarm topic. */
  public readonly alerts: aws.kms.Key;

  constructor(name: string, args: KeysArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:keys:Keys", name, {}, opts);
    const region = args.region ?? aws.getRegionOutput({}, { parent: this }).region;
    const retainOnDelete = args.retainDataOnDestroy ?? configDefault("retainDataOnDestroy");
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    const accountId = identity.accountId;

    const ownerStatements = keyOwnerStatements(
      partition.partition,
      accountId,
      "encrypt",
      args.keyAdminRoleArn ?? configDefault("keyAdminRoleArn"),
    );

    const logGroupArns = pulumi.interpolate`arn:${partition.partition}:logs:${region}:${accountId}:log-group:*`;
    const trailArns = pulumi.interpolate`arn:${partition.partition}:cloudtrail:*:${accountId}:trail/*`;
    const serviceStatements: Record<KeyPurpose, pulumi.Input<any>[]> = {
      // EBS, RDS, Secrets Manager, S3 and AWS Backup use the key on a principal's behalf
      // (kms:ViaService grants), which the root statement delegates to IAM: no service statement.
      data: [],
      logs: [
        {
          Sid: "CloudWatchLogsEncryptsLogGroups",
          Effect: "Allow",
          Principal: { Service: pulumi.interpolate`logs.${region}.amazonaws.com` },
          Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
          Resource: "*",
          Condition: {
            ArnLike: {
              "kms:EncryptionContext:aws:logs:arn": logGroupArns,
            },
          },
        },
        {
          Sid: "CloudTrailEncryptsTrailLogs",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "kms:GenerateDataKey*",
          Resource: "*",
          Condition: {
            StringLike: {
              "kms:EncryptionContext:aws:cloudtrail:arn": trailArns,
            },
            StringEquals: { "aws:SourceAccount": accountId },
          },
        },
        {
          Sid: "CloudTrailDescribesKey",
          Effect: "Allow",
          Principal: { Service: "cloudtrail.amazonaws.com" },
          Action: "kms:DescribeKey",
          Resource: "*",
          Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
      ],
      // The services that publish to the encrypted alarm topic, as SNS documents them:
      // https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
      alerts: [
        {
          Sid: "CloudWatchAlarmsPublish",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
          Resource: "*",
          Condition: {
            StringEquals: { "aws:SourceAccount": accountId },
            ArnLike: {
              "aws:SourceArn": pulumi.interpolate`arn:${partition.partition}:cloudwatch:${region}:${accountId}:alarm:*`,
            },
          },
        },
        {
          Sid: "BackupVaultNotificationsPublish",
          Effect: "Allow",
          Principal: { Service: "backup.amazonaws.com" },
          Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
          Resource: "*",
          Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
        {
          // EventBridge publishes AWS Backup job failures to the topic. It sends neither
          // aws:SourceAccount nor aws:SourceArn with this request (SNS's page above), so a condition
          // on either would drop every notification: the topic policy limits who may publish.
          Sid: "EventBridgePublishes",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
          Resource: "*",
        },
      ],
    };

    const makeKey = (purpose: KeyPurpose): aws.kms.Key =>
      customerKey(this, `${name}-${purpose}`, {
        description: descriptions[purpose],
        statements: [...ownerStatements, ...serviceStatements[purpose]],
        alias: keyAliasName(args.stackName, purpose),
        purpose,
        retainOnDelete,
      });

    this.data = makeKey("data");
    this.logs = makeKey("logs");
    this.alerts = makeKey("alerts");
    this.registerOutputs({ dataKeyArn: this.data.arn, logsKeyArn: this.logs.arn, alertsKeyArn: this.alerts.arn });
  }
}

/**
 * What a key administrator may do: AWS's "key administrators" statement spelled out, less
 * kms:CreateGrant (a grant is a way to use the key) and every cryptographic operation:
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators
 */
export const KEY_ADMIN_ACTIONS = [
  "kms:DescribeKey",
  "kms:GetKeyPolicy",
  "kms:GetKeyRotationStatus",
  "kms:ListGrants",
  "kms:ListKeyPolicies",
  "kms:ListKeyRotations",
  "kms:ListResourceTags",
  "kms:PutKeyPolicy",
  "kms:UpdateKeyDescription",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:EnableKeyRotation",
  "kms:DisableKeyRotation",
  "kms:RotateKeyOnDemand",
  "kms:TagResource",
  "kms:UntagResource",
  "kms:RevokeGrant",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
];

/** What using a key means: an encryption key's data-key operations, or a signing key's signatures. */
const KEY_USE_ACTIONS = {
  encrypt: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
  sign: ["kms:Sign", "kms:Verify", "kms:GetPublicKey", "kms:DescribeKey"],
};

/**
 * The statements every key starts with, administration apart from use: the administrator (the
 * `adminRoleArn` role, or else the account through its IAM policies) manages the key and cannot
 * use it by this policy; the account's IAM policies grant its use (the host's, with kms:ViaService
 * where a service calls KMS for it), and AWS services attach it to resources through grants.
 * The key is created and changed by `pulumi up`: KMS refuses a policy its caller could not put
 * again, so with `adminRoleArn` the stack is deployed as that role.
 * https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
 */
export function keyOwnerStatements(
  partition: pulumi.Input<string>,
  accountId: pulumi.Input<string>,
  usage: keyof typeof KEY_USE_ACTIONS,
  adminRoleArn = "",
) {
  const account = pulumi.interpolate`arn:${partition}:iam::${accountId}:root`;
  return [
    {
      Sid: "KeyAdministration",
      Effect: "Allow",
      Principal: { AWS: adminRoleArn || account },
      Action: KEY_ADMIN_ACTIONS,
      Resource: "*",
    },
    {
      Sid: "KeyUseGrantedByIam",
      Effect: "Allow",
      Principal: { AWS: account },
      Action: KEY_USE_ACTIONS[usage],
      Resource: "*",
    },
    ...(usage === "encrypt"
      ? [
          {
            Sid: "AwsResourcesUseKeyThroughGrants",
            Effect: "Allow",
            Principal: { AWS: account },
            Action: ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            Resource: "*",
            Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } },
          },
        ]
      : []),
  ];
}

/** A rotating customer key with a 30-day deletion window and its alias, a child of `parent`. */
function customerKey(
  parent: pulumi.Resource,
  name: string,
  spec: {
    description: string;
    statements: pulumi.Input<any>[];
    alias: string;
    purpose: string;
    retainOnDelete: boolean;
  },
): aws.kms.Key {
  const key = new aws.kms.Key(
    name,
    {
      description: spec.description,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: pulumi.jsonStringify({ Version: "2012-10-17", Statement: spec.statements }),
      tags: { Purpose: spec.purpose },
    },
    { parent, retainOnDelete: spec.retainOnDelete },
  );
  new aws.kms.Alias(name, { name: spec.alias, targetKeyId: key.keyId }, { parent });
  return key;
}

export interface CopyRegionKeyArgs {
  /** Stack name, used in the key's alias (`alias/openemr-aws/<stack>/data`, in the copy region). */
  stackName: string;
  /** Keep the key after `pulumi destroy`. Defaults to the stack's `retainDataOnDestroy`. */
  retainDataOnDestroy?: boolean;
  /** The role that alone administers the key. Defaults to the stack's `keyAdminRoleArn`: the account. */
  keyAdminRoleArn?: string;
}

/**
 * The data key of the copy region: KMS keys never leave their region, so the second copy of the
 * backups (the replica bucket and the copy vault there) is encrypted by a key of its own, made
 * with the provider of that region (pass it in `opts.provider` or `opts.providers`).
 */
export class CopyRegionKey extends pulumi.ComponentResource {
  public readonly key: aws.kms.Key;

  constructor(name: string, args: CopyRegionKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:keys:CopyRegionKey", name, {}, opts);
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const partition = aws.getPartitionOutput({}, { parent: this });
    this.key = customerKey(this, `${name}-data`, {
      description: "OpenEMR data, copy region: the replica of the logical backups and the copied snapshots",
      statements: keyOwnerStatements(
        partition.partition,
        identity.accountId,
        "encrypt",
        args.keyAdminRoleArn ?? configDefault("keyAdminRoleArn"),
      ),
      alias: keyAliasName(args.stackName, "data"),
      purpose: "data",
      retainOnDelete: args.retainDataOnDestroy ?? configDefault("retainDataOnDestroy"),
    });
    this.registerOutputs({ keyArn: this.key.arn });
  }
}
