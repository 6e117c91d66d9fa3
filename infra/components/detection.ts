// Detection on top of the audit record: CloudWatch metric filters and alarms on the CloudTrail
// log group for the events the CIS AWS Foundations Benchmark names (root use, denied calls,
// console sign-in without MFA, IAM, CloudTrail, KMS, S3 policy, Config and network changes),
// and the opt-in account services (GuardDuty, Security Hub, AWS Config with the HIPAA
// conformance pack) whose findings reach the same alarm topic through EventBridge.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { configDefault } from "../config-defaults";
import { SecureBucket } from "./secure-bucket";
import { assumableByService } from "./trust-policy";

/** Namespace of the metrics the trail's metric filters publish. */
export const TRAIL_METRICS_NAMESPACE = "OpenEMR/CloudTrail";

/** One CIS CloudTrail event class: the filter on the trail's log group and its alarm. */
export interface TrailEventAlarm {
  /** Suffix of the metric, filter and alarm names. */
  id: string;
  /** The CIS AWS Foundations Benchmark v1.4.0 recommendation. */
  cis: string;
  /** The Security Hub control that checks the same filter. */
  securityHubControl: string;
  description: string;
  /** CloudWatch Logs filter pattern over CloudTrail's JSON events. */
  pattern: string;
  /** Matching events in five minutes that raise the alarm. */
  threshold: number;
}

/**
 * The filter patterns are the CIS AWS Foundations Benchmark's, as AWS prints them in the
 * remediation of Security Hub's CloudWatch.1-14 controls:
 * https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html
 * Numbered as CIS v1.4.0 section 4 (v1.2.0 had them as 3.1-3.14).
 */
export const trailEventAlarms: TrailEventAlarm[] = [
  {
    id: "unauthorized-api-calls",
    cis: "4.1",
    securityHubControl: "CloudWatch.2",
    description: "API calls refused as unauthorized or access denied",
    pattern: '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    // The console's read-only pages probe optional permissions and are refused now and then; a
    // burst, not a single refusal, is what a credential being tried looks like.
    threshold: 5,
  },
  {
    id: "console-signin-without-mfa",
    cis: "4.2",
    securityHubControl: "CloudWatch.3",
    description: "Successful console sign-in by an IAM user without MFA",
    pattern:
      '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ' +
      '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    threshold: 1,
  },
  {
    id: "root-account-usage",
    cis: "4.3",
    securityHubControl: "CloudWatch.1",
    description: "The account's root user was used",
    pattern:
      '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }',
    threshold: 1,
  },
  {
    id: "iam-policy-changes",
    cis: "4.4",
    securityHubControl: "CloudWatch.4",
    description: "An IAM policy was created, changed, attached or detached",
    pattern:
      "{ ($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || " +
      "($.eventName = DeleteUserPolicy) || " +
      "($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || " +
      "($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || " +
      "($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || " +
      "($.eventName = DetachRolePolicy) || " +
      "($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || " +
      "($.eventName = DetachGroupPolicy) }",
    threshold: 1,
  },
  {
    id: "cloudtrail-changes",
    cis: "4.5",
    securityHubControl: "CloudWatch.5",
    description: "A CloudTrail trail was created, changed, deleted, started or stopped",
    pattern:
      "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || " +
      "($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    threshold: 1,
  },
  {
    id: "console-authentication-failures",
    cis: "4.6",
    securityHubControl: "CloudWatch.6",
    description: "Console sign-in failed",
    pattern: '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }',
    threshold: 1,
  },
  {
    id: "kms-key-disabled-or-deleted",
    cis: "4.7",
    securityHubControl: "CloudWatch.7",
    description: "A KMS customer key was disabled or scheduled for deletion",
    pattern:
      "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
    threshold: 1,
  },
  {
    id: "s3-bucket-policy-changes",
    cis: "4.8",
    securityHubControl: "CloudWatch.8",
    description: "An S3 bucket's policy, ACL, CORS, lifecycle or replication changed",
    pattern:
      "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || " +
      "($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || " +
      "($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || " +
      "($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || " +
      "($.eventName = DeleteBucketReplication)) }",
    threshold: 1,
  },
  {
    id: "config-changes",
    cis: "4.9",
    securityHubControl: "CloudWatch.9",
    description: "AWS Config's recorder or delivery channel was changed or stopped",
    pattern:
      "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || " +
      "($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || " +
      "($.eventName = PutConfigurationRecorder)) }",
    threshold: 1,
  },
  {
    id: "security-group-changes",
    cis: "4.10",
    securityHubControl: "CloudWatch.10",
    description: "A security group or one of its rules was created, changed or deleted",
    pattern:
      "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || " +
      "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || " +
      "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    threshold: 1,
  },
  {
    id: "network-acl-changes",
    cis: "4.11",
    securityHubControl: "CloudWatch.11",
    description: "A network ACL or one of its entries was created, changed or deleted",
    pattern:
      "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || " +
      "($.eventName = DeleteNetworkAcl) || " +
      "($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || " +
      "($.eventName = ReplaceNetworkAclAssociation) }",
    threshold: 1,
  },
  {
    id: "network-gateway-changes",
    cis: "4.12",
    securityHubControl: "CloudWatch.12",
    description: "An internet or customer gateway was created, attached, detached or deleted",
    pattern:
      "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || " +
      "($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || " +
      "($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    threshold: 1,
  },
  {
    id: "route-table-changes",
    cis: "4.13",
    securityHubControl: "CloudWatch.13",
    description: "A route or route table was created, replaced, disassociated or deleted",
    pattern:
      "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || " +
      "($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || " +
      "($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    threshold: 1,
  },
  {
    id: "vpc-changes",
    cis: "4.14",
    securityHubControl: "CloudWatch.14",
    description: "A VPC, its attributes or a peering connection was created, changed or deleted",
    pattern:
      "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || " +
      "($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || " +
      "($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || " +
      "($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || " +
      "($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    threshold: 1,
  },
];

/**
 * Security Hub has no HIPAA standard. These two are its closest: AWS's own baseline, and NIST SP
 * 800-53 Rev. 5, to which NIST SP 800-66r2 maps the HIPAA Security Rule. ARN format
 * `arn:<partition>:securityhub:<region>::standards/<name>/v/<version>`, as DescribeStandards lists
 * them (https://docs.aws.amazon.com/securityhub/latest/userguide/standards-reference.html and the
 * table in @pulumi/aws's securityhub.StandardsSubscription).
 */
export const securityHubStandards = ["aws-foundational-security-best-practices/v/1.0.0", "nist-800-53/v/5.0.0"];

/**
 * AWS's sample "Operational Best Practices for HIPAA Security" conformance pack, as the AWS-owned
 * SSM document AWS Config deploys it from (the template behind
 * https://docs.aws.amazon.com/config/latest/developerguide/operational-best-practices-for-hipaa_security.html).
 */
export const HIPAA_CONFORMANCE_PACK_DOCUMENT = "AWSConformancePacks-OperationalBestPracticesforHIPAASecurity";

export interface DetectionArgs {
  /** Prefix of the metric, alarm, rule and service names (the stack name). */
  namePrefix: string;
  /**
   * The CloudTrail trail's CloudWatch Logs group, where the metric filters run. Without it (the
   * account logs through an organisation trail) no filter is declared: the organisation's log
   * group is where they belong.
   */
  trailLogGroupName?: pulumi.Input<string>;
  /** SNS topic the alarms and the services' findings go to (the Monitoring component's). */
  alarmTopicArn: pulumi.Input<string>;
  /** Customer KMS key ARN (the `logs` key) for AWS Config's delivery bucket. */
  logsKeyArn: pulumi.Input<string>;
  /** Bucket receiving the Config bucket's S3 server access logs. */
  accessLogBucket: pulumi.Input<string>;
  /** Days AWS Config's snapshots and history files are kept. Defaults to the stack's `auditLogRetentionDays`. */
  auditLogRetentionDays?: number;
  /** Turn on a GuardDuty detector. Defaults to the stack's `guardDuty`, off: account-wide. */
  guardDuty?: boolean;
  /** Turn on Security Hub with `securityHubStandards`. Defaults to the stack's `securityHub`, off: account-wide. */
  securityHub?: boolean;
  /** Turn on AWS Config and the HIPAA conformance pack. Defaults to the stack's `awsConfig`, off: account-wide. */
  awsConfig?: boolean;
  /** Keep the Config bucket and its contents on destroy. Defaults to the stack's `retainDataOnDestroy`. */
  retainOnDelete?: boolean;
}

export class Detection extends pulumi.ComponentResource {
  /** Names of the CloudTrail event alarms; empty without `trailLogGroupName`. */
  public readonly trailAlarmNames: pulumi.Output<string>[];
  /** The GuardDuty detector's id, when turned on. */
  public readonly guardDutyDetectorId?: pulumi.Output<string>;
  /** AWS Config's delivery bucket, when turned on. */
  public readonly configBucketName?: pulumi.Output<string>;

  constructor(name: string, args: DetectionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:detection:Detection", name, {}, opts);
    const child = { parent: this };

    this.trailAlarmNames = args.trailLogGroupName
      ? this.trailAlarms(name, args.namePrefix, args.trailLogGroupName, args.alarmTopicArn)
      : [];

    if (args.guardDuty ?? configDefault("guardDuty")) {
      const detector = new aws.guardduty.Detector(
        `${name}-guardduty`,
        { enable: true, findingPublishingFrequency: "FIFTEEN_MINUTES" },
        child,
      );
      this.guardDutyDetectorId = detector.id;
      // GuardDuty's severities: 4.0-6.9 medium, 7.0-8.9 high, 9.0+ critical. Low findings stay in
      // the console. https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html
      this.findingsToTopic(name, "guardduty", args, "GuardDuty findings of medium severity and above", {
        source: ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        detail: { severity: [{ numeric: [">=", 4] }] },
      });
    }

    if (args.securityHub ?? configDefault("securityHub")) {
      const hub = new aws.securityhub.Account(
        `${name}-securityhub`,
        // Only the standards below; the automatic CIS v1.2.0 and FSBP set would be a second choice.
        { enableDefaultStandards: false, autoEnableControls: true },
        child,
      );
      const region = aws.getRegionOutput({}, child).region;
      const partition = aws.getPartitionOutput({}, child).partition;
      for (const standard of securityHubStandards) {
        new aws.securityhub.StandardsSubscription(
          `${name}-securityhub-${standard.split("/")[0]}`,
          { standardsArn: pulumi.interpolate`arn:${partition}:securityhub:${region}::standards/${standard}` },
          { ...child, dependsOn: [hub] },
        );
      }
      this.findingsToTopic(name, "securityhub", args, "New high and critical Security Hub findings", {
        source: ["aws.securityhub"],
        "detail-type": ["Security Hub Findings - Imported"],
        detail: {
          findings: {
            Severity: { Label: ["HIGH", "CRITICAL"] },
            Workflow: { Status: ["NEW"] },
            RecordState: ["ACTIVE"],
          },
        },
      });
    }

    if (args.awsConfig ?? configDefault("awsConfig")) {
      this.configBucketName = this.awsConfig(name, args);
    }

    this.registerOutputs({
      trailAlarmNames: this.trailAlarmNames,
      guardDutyDetectorId: this.guardDutyDetectorId,
      configBucketName: this.configBucketName,
    });
  }

  private trailAlarms(
    name: string,
    namePrefix: string,
    logGroupName: pulumi.Input<string>,
    topicArn: pulumi.Input<string>,
  ): pulumi.Output<string>[] {
    const child = { parent: this };
    return trailEventAlarms.map((spec) => {
      const metricName = `${namePrefix}-${spec.id}`;
      const filter = new aws.cloudwatch.LogMetricFilter(
        `${name}-${spec.id}`,
        {
          name: `${namePrefix}-openemr-${spec.id}`,
          logGroupName,
          pattern: spec.pattern,
          // No default value: the metric has data only when a matching event arrives.
          metricTransformation: { name: metricName, namespace: TRAIL_METRICS_NAMESPACE, value: "1" },
        },
        child,
      );
      return new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.id}`,
        {
          name: `${namePrefix}-openemr-${spec.id}`,
          alarmDescription:
            `${spec.description} (CIS AWS Foundations ${spec.cis}, Security Hub ${spec.securityHubControl}); ` +
            "see CloudTrail for who and from where",
          namespace: TRAIL_METRICS_NAMESPACE,
          metricName,
          statistic: "Sum",
          period: 300,
          evaluationPeriods: 1,
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          threshold: spec.threshold,
          // No event is the normal state, not a failure to report.
          treatMissingData: "notBreaching",
          alarmActions: [topicArn],
        },
        { ...child, dependsOn: [filter] },
      ).name;
    });
  }

  /** An EventBridge rule sending `pattern`'s events to the alarm topic. */
  private findingsToTopic(
    name: string,
    service: string,
    args: DetectionArgs,
    description: string,
    pattern: Record<string, unknown>,
  ): void {
    const child = { parent: this };
    const rule = new aws.cloudwatch.EventRule(
      `${name}-${service}-findings`,
      {
        name: `${args.namePrefix}-openemr-${service}-findings`,
        description: `${description} to the OpenEMR alarm topic`,
        eventPattern: JSON.stringify(pattern),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(`${name}-${service}-findings`, { rule: rule.name, arn: args.alarmTopicArn }, child);
  }

  /** Recorder, delivery channel and the HIPAA conformance pack; returns the delivery bucket's name. */
  private awsConfig(name: string, args: DetectionArgs): pulumi.Output<string> {
    const child = { parent: this };
    const retentionDays = args.auditLogRetentionDays ?? configDefault("auditLogRetentionDays");
    const accountId = aws.getCallerIdentityOutput({}, child).accountId;

    const bucket = new SecureBucket(
      `${name}-config`,
      {
        kmsKeyArn: args.logsKeyArn,
        accessLogBucket: args.accessLogBucket,
        retainOnDelete: args.retainOnDelete ?? configDefault("retainDataOnDestroy"),
        lifecycleRules: [
          {
            id: "config-history-to-colder-storage-then-expire",
            status: "Enabled",
            filter: {},
            transitions: [{ days: 90, storageClass: "GLACIER_IR" }],
            expiration: { days: retentionDays },
            noncurrentVersionExpiration: { noncurrentDays: 30 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
          },
        ],
      },
      child,
    );
    // AWS Config delivers with the recorder's role (no bucket policy for the service needed):
    // https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html
    // Trusted as that page shows the role: for this account only (aws:SourceAccount, the page's
    // confused-deputy condition), without aws:SourceArn (Config documents no ARN to name before the
    // recorder exists); the role may write only to this stack's bucket.
    const role = new aws.iam.Role(
      `${name}-config`,
      {
        description: "AWS Config records this account's resources and delivers to the OpenEMR stack's bucket",
        assumeRolePolicy: assumableByService("config.amazonaws.com", undefined, accountId),
      },
      child,
    );
    const recordingPolicy = new aws.iam.RolePolicyAttachment(
      `${name}-config-recording`,
      // AWS's policy for the recorder: read-only describe rights over every supported type,
      // which only AWS keeps current as types are added.
      { role: role.name, policyArn: "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole" },
      child,
    );
    const deliveryPolicy = new aws.iam.Policy(
      `${name}-config-delivery`,
      {
        description: "AWS Config writes snapshots and history into the stack's Config bucket, encrypted",
        policy: pulumi.jsonStringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "s3:GetBucketAcl", Resource: bucket.arn },
            {
              Effect: "Allow",
              Action: "s3:PutObject",
              Resource: pulumi.interpolate`${bucket.arn}/AWSLogs/${accountId}/*`,
              Condition: { StringEquals: { "s3:x-amz-acl": "bucket-owner-full-control" } },
            },
            { Effect: "Allow", Action: "kms:GenerateDataKey", Resource: args.logsKeyArn },
          ],
        }),
      },
      child,
    );
    const delivery = new aws.iam.RolePolicyAttachment(
      `${name}-config-delivery`,
      { role: role.name, policyArn: deliveryPolicy.arn },
      child,
    );
    const recorder = new aws.cfg.Recorder(
      `${name}-config`,
      {
        name: `${args.namePrefix}-openemr`,
        roleArn: role.arn,
        recordingGroup: { allSupported: true, includeGlobalResourceTypes: true },
      },
      { ...child, dependsOn: [recordingPolicy] },
    );
    const channel = new aws.cfg.DeliveryChannel(
      `${name}-config`,
      {
        name: `${args.namePrefix}-openemr`,
        s3BucketName: bucket.bucketName,
        s3KmsKeyArn: args.logsKeyArn,
        snapshotDeliveryProperties: { deliveryFrequency: "TwentyFour_Hours" },
      },
      { ...child, dependsOn: [recorder, bucket, delivery] },
    );
    const recording = new aws.cfg.RecorderStatus(
      `${name}-config`,
      { name: recorder.name, isEnabled: true },
      { ...child, dependsOn: [channel] },
    );
    // Pulumi's ConformancePack takes a template body or S3 URI only; CloudFormation's resource
    // also takes the AWS-owned SSM document, so AWS's current template is the one deployed.
    new aws.cloudformation.Stack(
      `${name}-hipaa-conformance-pack`,
      {
        name: `${args.namePrefix}-openemr-hipaa-conformance-pack`,
        templateBody: JSON.stringify({
          Resources: {
            HipaaConformancePack: {
              Type: "AWS::Config::ConformancePack",
              Properties: {
                ConformancePackName: `${args.namePrefix}-openemr-hipaa-security`,
                TemplateSSMDocumentDetails: { DocumentName: HIPAA_CONFORMANCE_PACK_DOCUMENT },
              },
            },
          },
        }),
      },
      { ...child, dependsOn: [recording] },
    );
    this.findingsToTopic(name, "config", args, "AWS Config rules turning non-compliant", {
      source: ["aws.config"],
      "detail-type": ["Config Rules Compliance Change"],
      detail: { newEvaluationResult: { complianceType: ["NON_COMPLIANT"] } },
    });
    return bucket.bucketName;
  }
}
