// Customer-managed KMS keys, one per purpose, so each key policy names only the services
// that purpose needs and a reviewer can read who may use what.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";

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
}

type KeyPurpose = "data" | "logs" | "alerts";

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

    const rootStatement = {
      Sid: "AccountAdministersKey",
      Effect: "Allow",
      Principal: { AWS: pulumi.interpolate`arn:${partition.partition}:iam::${accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    };

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
      alerts: [
        {
          Sid: "AlarmAndBackupServicesPublish",
          Effect: "Allow",
          // EventBridge publishes AWS Backup job failures to the encrypted alarm topic.
          Principal: { Service: ["cloudwatch.amazonaws.com", "backup.amazonaws.com", "events.amazonaws.com"] },
          Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
          Resource: "*",
        },
      ],
    };

    const makeKey = (purpose: KeyPurpose): aws.kms.Key => {
      const key = new aws.kms.Key(
        `${name}-${purpose}`,
        {
          description: descriptions[purpose],
          enableKeyRotation: true,
          deletionWindowInDays: 30,
          policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [rootStatement, ...serviceStatements[purpose]],
          }),
          tags: { Purpose: purpose },
        },
        { parent: this, retainOnDelete },
      );
      new aws.kms.Alias(
        `${name}-${purpose}`,
        { name: `alias/openemr-aws/${args.stackName}/${purpose}`, targetKeyId: key.keyId },
        { parent: this },
      );
      return key;
    };

    this.data = makeKey("data");
    this.logs = makeKey("logs");
    this.alerts = makeKey("alerts");
    this.registerOutputs({ dataKeyArn: this.data.arn, logsKeyArn: this.logs.arn, alertsKeyArn: this.alerts.arn });
  }
}
