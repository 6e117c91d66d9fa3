// Detection and evidence over the offline plan, for each tier: the CIS CloudTrail metric filters
// and alarms, the opt-in account services and their EventBridge routes, the Session Manager
// document, audit-class retention and the trail bucket's Object Lock, and no statement-text log.
import { readFileSync } from "fs";
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun, PlannedResource } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { named, ofType, policyStatements } from "./helpers";

const SIX_YEARS = 2192;
const base = { "openemr:alertEmails": JSON.stringify(["ops@example.org"]) };

let single: OfflineRun;
let standard: OfflineRun;
let noTrail: OfflineRun;
let services: OfflineRun;
// The offline runs share the Pulumi runtime's mocks: one at a time.
beforeAll(async () => {
  single = await planStack({ config: { ...base, "openemr:tier": "single" }, stackName: "clinic-small" });
  standard = await planStack({ config: { ...base, "openemr:logRetentionDays": "400" }, stackName: "clinic-prod" });
  noTrail = await planStack({ config: { ...base, "openemr:createCloudTrail": "false" }, stackName: "org-trail" });
  services = await planStack({
    config: {
      ...base,
      "openemr:guardDuty": "true",
      "openemr:securityHub": "true",
      "openemr:awsConfig": "true",
      "openemr:auditLogRetentionDays": "2557",
    },
    stackName: "clinic-all",
  });
}, 240_000);

const tierNames = ["single", "standard"] as const;
const runOf = (tier: (typeof tierNames)[number]) => (tier === "single" ? single : standard);
const topicArn = (run: OfflineRun) => named(run, "aws:sns/topic:Topic", "monitoring-alarms").state.arn;
const logGroup = (run: OfflineRun, name: string) =>
  ofType(run, "aws:cloudwatch/logGroup:LogGroup").find((group) => group.inputs.name === name);
const filters = (run: OfflineRun) => ofType(run, "aws:cloudwatch/logMetricFilter:LogMetricFilter");
/** The CloudTrail event names a pattern matches on, in order. */
const eventNames = (pattern: string) => [...pattern.matchAll(/\$\.eventName\s*=\s*"?([A-Za-z]+)"?/g)].map((m) => m[1]);

/** What each CIS AWS Foundations v1.4.0 4.x filter must look for (AWS Security Hub CloudWatch.1-14). */
const cisFilters: Record<string, (pattern: string) => boolean> = {
  "unauthorized-api-calls": (p) => p.includes('$.errorCode = "*UnauthorizedOperation"') && p.includes("AccessDenied*"),
  "console-signin-without-mfa": (p) =>
    p.includes('$.eventName = "ConsoleLogin"') && p.includes('$.additionalEventData.MFAUsed != "Yes"'),
  "root-account-usage": (p) =>
    p.includes('$.userIdentity.type = "Root"') &&
    p.includes("$.userIdentity.invokedBy NOT EXISTS") &&
    p.includes('$.eventType != "AwsServiceEvent"'),
  "iam-policy-changes": (p) => eventNames(p).length === 16 && eventNames(p).includes("CreatePolicyVersion"),
  "cloudtrail-changes": (p) =>
    JSON.stringify(eventNames(p)) ===
    JSON.stringify(["CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"]),
  "console-authentication-failures": (p) => p.includes('$.errorMessage = "Failed authentication"'),
  "kms-key-disabled-or-deleted": (p) =>
    p.includes("kms.amazonaws.com") && eventNames(p).join() === "DisableKey,ScheduleKeyDeletion",
  "s3-bucket-policy-changes": (p) =>
    p.includes("s3.amazonaws.com") && eventNames(p).includes("PutBucketPolicy") && eventNames(p).length === 9,
  "config-changes": (p) => p.includes("config.amazonaws.com") && eventNames(p).includes("StopConfigurationRecorder"),
  "security-group-changes": (p) =>
    eventNames(p).length === 6 && eventNames(p).includes("AuthorizeSecurityGroupIngress"),
  "network-acl-changes": (p) => eventNames(p).length === 6 && eventNames(p).includes("ReplaceNetworkAclAssociation"),
  "network-gateway-changes": (p) => eventNames(p).length === 6 && eventNames(p).includes("AttachInternetGateway"),
  "route-table-changes": (p) => p.includes("ec2.amazonaws.com") && eventNames(p).length === 7,
  "vpc-changes": (p) => eventNames(p).length === 11 && eventNames(p).includes("CreateVpcPeeringConnection"),
};

describe("CloudTrail metric filters and alarms (CIS AWS Foundations 4.1-4.14)", () => {
  it.each(tierNames)("%s: one filter per CIS event class, on the trail's log group, with the CIS pattern", (tier) => {
    const run = runOf(tier);
    const trailGroup = named(run, "aws:cloudwatch/logGroup:LogGroup", "audit-trail");
    const found = filters(run);
    expect(found.map((filter) => filter.name.replace(/^detection-/, "")).sort()).toEqual(
      Object.keys(cisFilters).sort(),
    );
    for (const filter of found) {
      expect(filter.inputs.logGroupName).toBe(trailGroup.inputs.name);
      expect(cisFilters[filter.name.replace(/^detection-/, "")](filter.inputs.pattern), filter.name).toBe(true);
    }
  });

  it.each(tierNames)("%s: each filter's metric has an alarm that notifies the alarm topic", (tier) => {
    const run = runOf(tier);
    const alarms = ofType(run, "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(filters(run)).toHaveLength(Object.keys(cisFilters).length);
    for (const filter of filters(run)) {
      const { name, namespace } = filter.inputs.metricTransformation;
      const alarm = alarms.find((item) => item.inputs.metricName === name && item.inputs.namespace === namespace);
      expect(alarm, `alarm on ${name}`).toBeDefined();
      expect(alarm!.inputs).toMatchObject({
        statistic: "Sum",
        period: 300,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [topicArn(run)],
      });
    }
  });

  it("root use, console sign-in without MFA and KMS key deletion alarm on a single event", () => {
    const threshold = (id: string) =>
      named(standard, "aws:cloudwatch/metricAlarm:MetricAlarm", `detection-${id}`).inputs.threshold;
    expect(["root-account-usage", "console-signin-without-mfa", "kms-key-disabled-or-deleted"].map(threshold)).toEqual([
      1, 1, 1,
    ]);
  });

  it("no trail of the stack's own (organisation trail): no filter; they belong on the organisation's group", () => {
    expect(filters(noTrail)).toEqual([]);
  });
});

describe("opt-in account services", () => {
  it.each(tierNames)("%s: off by default (account-wide, usually the organisation's)", (tier) => {
    const run = runOf(tier);
    const accountWide = [
      "aws:guardduty/detector:Detector",
      "aws:securityhub/account:Account",
      "aws:cfg/recorder:Recorder",
      "aws:cfg/deliveryChannel:DeliveryChannel",
      "aws:cloudformation/stack:Stack",
    ];
    expect(accountWide.flatMap((type) => ofType(run, type))).toEqual([]);
  });

  const ruleTo = (run: OfflineRun, service: string) => {
    const rule = named(run, "aws:cloudwatch/eventRule:EventRule", `detection-${service}-findings`);
    const target = ofType(run, "aws:cloudwatch/eventTarget:EventTarget").find(
      (item) => item.inputs.rule === rule.state.name,
    );
    return { pattern: JSON.parse(rule.inputs.eventPattern), target: target?.inputs.arn };
  };

  it("guardDuty: a detector, and findings of medium severity and above to the alarm topic", () => {
    expect(named(services, "aws:guardduty/detector:Detector", "detection-guardduty").inputs.enable).toBe(true);
    expect(ruleTo(services, "guardduty")).toEqual({
      pattern: {
        source: ["aws.guardduty"],
        "detail-type": ["GuardDuty Finding"],
        detail: { severity: [{ numeric: [">=", 4] }] },
      },
      target: topicArn(services),
    });
  });

  it("securityHub: FSBP and NIST 800-53 r5 only (no HIPAA standard exists), regional standard ARNs", () => {
    expect(
      named(services, "aws:securityhub/account:Account", "detection-securityhub").inputs.enableDefaultStandards,
    ).toBe(false);
    expect(
      ofType(services, "aws:securityhub/standardsSubscription:StandardsSubscription")
        .map((item) => item.inputs.standardsArn)
        .sort(),
    ).toEqual([
      "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0",
      "arn:aws:securityhub:us-east-1::standards/nist-800-53/v/5.0.0",
    ]);
    const { pattern, target } = ruleTo(services, "securityhub");
    expect(pattern.source).toEqual(["aws.securityhub"]);
    expect(pattern.detail.findings.Severity.Label).toEqual(["HIGH", "CRITICAL"]);
    expect(target).toBe(topicArn(services));
  });

  it("awsConfig: recorder of every type, started, delivering encrypted to the stack's bucket", () => {
    const recorder = named(services, "aws:cfg/recorder:Recorder", "detection-config");
    expect(recorder.inputs.recordingGroup).toMatchObject({ allSupported: true, includeGlobalResourceTypes: true });
    expect(named(services, "aws:cfg/recorderStatus:RecorderStatus", "detection-config").inputs).toMatchObject({
      name: recorder.state.name,
      isEnabled: true,
    });
    const channel = named(services, "aws:cfg/deliveryChannel:DeliveryChannel", "detection-config").inputs;
    const bucket = named(services, "aws:s3/bucket:Bucket", "detection-config");
    expect(channel).toMatchObject({
      s3BucketName: bucket.state.bucket,
      s3KmsKeyArn: named(services, "aws:kms/key:Key", "keys-logs").state.arn,
    });
  });

  it("awsConfig: the config bucket keeps history auditLogRetentionDays", () => {
    const lifecycle = named(
      services,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "detection-config-lifecycle",
    );
    expect(lifecycle.inputs.rules[0].expiration.days).toBe(2557);
  });

  it("awsConfig: AWS's HIPAA Security conformance pack, from its AWS-owned document", () => {
    const stack = named(services, "aws:cloudformation/stack:Stack", "detection-hipaa-conformance-pack");
    const pack = JSON.parse(stack.inputs.templateBody).Resources.HipaaConformancePack;
    expect(pack.Type).toBe("AWS::Config::ConformancePack");
    expect(pack.Properties.TemplateSSMDocumentDetails.DocumentName).toBe(
      "AWSConformancePacks-OperationalBestPracticesforHIPAASecurity",
    );
    const { pattern, target } = ruleTo(services, "config");
    expect(pattern.detail.newEvaluationResult.complianceType).toEqual(["NON_COMPLIANT"]);
    expect(target).toBe(topicArn(services));
  });

  it("the alerts key and the topic policy let EventBridge publish the findings", () => {
    const keyStatements = policyStatements(named(services, "aws:kms/key:Key", "keys-alerts").inputs.policy);
    const topicStatements = policyStatements(
      named(services, "aws:sns/topicPolicy:TopicPolicy", "monitoring-alarms").inputs.policy,
    );
    const principals = (statements: any[]) => statements.flatMap((item) => [].concat(item.Principal?.Service ?? []));
    expect(principals(keyStatements)).toContain("events.amazonaws.com");
    expect(principals(topicStatements)).toContain("events.amazonaws.com");
  });
});

describe("Session Manager sessions", () => {
  it.each(tierNames)(
    "%s: the stack's session document logs every session to the encrypted ssm-sessions group",
    (tier) => {
      const run = runOf(tier);
      const document = named(run, "aws:ssm/document:Document", "audit-session");
      expect(document.inputs.documentType).toBe("Session");
      const { inputs } = JSON.parse(document.inputs.content);
      const prefix = run === single ? "/openemr-aws/clinic-small" : "/openemr-aws/clinic-prod";
      expect(inputs).toMatchObject({
        cloudWatchLogGroupName: `${prefix}/ssm-sessions`,
        cloudWatchEncryptionEnabled: true,
        idleSessionTimeout: "20",
        runAsEnabled: false,
      });
      expect(logGroup(run, `${prefix}/ssm-sessions`)?.inputs.kmsKeyId).toBe(
        named(run, "aws:kms/key:Key", "keys-logs").state.arn,
      );
    },
  );
});

describe("audit-class retention: six years by default (45 CFR 164.316(b)(2)(i)), the rest logRetentionDays", () => {
  const retention = (group: PlannedResource | undefined) => group?.inputs.retentionInDays;

  it("CloudWatch accepts 2192 as a retention", () => {
    const schema = JSON.parse(readFileSync("config/schema.json", "utf8"));
    expect(schema.properties.auditLogRetentionDays.default).toBe(SIX_YEARS);
    expect(schema.properties.auditLogRetentionDays.enum).toContain(SIX_YEARS);
  });

  it("standard: trail, flow logs, DB audit, auditd and sessions six years; the rest 400", () => {
    const p = "/openemr-aws/clinic-prod";
    const db = "/aws/rds/instance/openemr-clinic-prod";
    expect(
      [`${p}/cloudtrail`, `${p}/vpc-flow-logs`, `${db}/audit`, `${p}/auditd`, `${p}/ssm-sessions`].map((name) =>
        retention(logGroup(standard, name)),
      ),
    ).toEqual(Array(5).fill(SIX_YEARS));
    expect(
      [`${p}/apache-error`, `${p}/php-fpm`, `${p}/system`, `${db}/error`, `${db}/general`].map((name) =>
        retention(logGroup(standard, name)),
      ),
    ).toEqual(Array(5).fill(400));
  });

  it("single: the same audit-class groups (no RDS) six years", () => {
    const p = "/openemr-aws/clinic-small";
    expect(
      [`${p}/cloudtrail`, `${p}/vpc-flow-logs`, `${p}/auditd`, `${p}/ssm-sessions`].map((name) =>
        retention(logGroup(single, name)),
      ),
    ).toEqual(Array(4).fill(SIX_YEARS));
  });

  it("auditLogRetentionDays moves them all", () => {
    const p = "/openemr-aws/clinic-all";
    expect(
      [`${p}/cloudtrail`, `${p}/vpc-flow-logs`, `${p}/auditd`, `${p}/ssm-sessions`].map((name) =>
        retention(logGroup(services, name)),
      ),
    ).toEqual(Array(4).fill(2557));
  });

  it.each(tierNames)("%s: the trail's log files locked (Object Lock) and kept for the same six years", (tier) => {
    const run = runOf(tier);
    const lock = named(
      run,
      "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
      "audit-trail-object-lock",
    );
    expect(lock.inputs.rule.defaultRetention).toEqual({ mode: "GOVERNANCE", days: SIX_YEARS });
    expect(named(run, "aws:s3/bucket:Bucket", "audit-trail").inputs.objectLockEnabled).toBe(true);
    const lifecycle = named(
      run,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "audit-trail-lifecycle",
    );
    expect(lifecycle.inputs.rules[0].expiration.days).toBe(SIX_YEARS);
  });

  it("the trail bucket's policy lets nobody bypass governance mode or delete a log file", () => {
    const statements = policyStatements(
      named(standard, "aws:s3/bucketPolicy:BucketPolicy", "audit-trail-policy").inputs.policy,
    );
    const deny = statements.find((item) => item.Sid === "DenyDeletingTrailLogs");
    expect(deny).toMatchObject({ Effect: "Deny", Principal: "*" });
    expect(deny.Action).toEqual(
      expect.arrayContaining(["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:PutObjectRetention"]),
    );
  });
});

describe("host logs shipped", () => {
  const agent = JSON.parse(readFileSync("infra/host/conf/cloudwatch/amazon-cloudwatch-agent.json", "utf8"));
  const shipped = Object.fromEntries(
    agent.logs.logs_collected.files.collect_list.map((entry: any) => [entry.file_path, entry.log_group_name]),
  );

  it("auditd's log, Apache's error log and PHP's error log reach their groups", () => {
    expect(shipped).toMatchObject({
      "/var/log/audit/audit.log": "@LOG_GROUP_PREFIX@/auditd",
      "/var/log/apache2/openemr-error.log": "@LOG_GROUP_PREFIX@/apache-error",
      // The pool's php_admin_value[error_log] (/var/log/php8.4-fpm-openemr.log) matches.
      "/var/log/php8.4-fpm*.log": "@LOG_GROUP_PREFIX@/php-fpm",
    });
    expect(readFileSync("infra/host/conf/php/openemr-pool.conf", "utf8")).toContain(
      "php_admin_value[error_log] = /var/log/php8.4-fpm-openemr.log",
    );
  });
});

describe("no log of statement text (it carries PHI)", () => {
  it("standard: RDS's slow query and general logs off, and the slow log not exported", () => {
    const parameters = named(standard, "aws:rds/parameterGroup:ParameterGroup", "database-params").inputs.parameters;
    const value = (name: string) => parameters.find((item: any) => item.name === name)?.value;
    expect([value("slow_query_log"), value("general_log")]).toEqual(["0", "0"]);
    expect(
      named(standard, "aws:rds/instance:Instance", "database-instance").inputs.enabledCloudwatchLogsExports,
    ).not.toContain("slowquery");
  });

  it("single: MariaDB's slow query and general logs off", () => {
    const conf = readFileSync("infra/host/conf/mariadb/90-openemr.cnf", "utf8");
    expect(conf).toMatch(/^slow_query_log = 0$/m);
    expect(conf).toMatch(/^general_log = 0$/m);
  });
});
