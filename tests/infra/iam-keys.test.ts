// Least privilege on the IAM and KMS side, for each tier: the host role carries the stack's own
// policies and no AWS-managed one, key policies keep administering a key apart from using it, the
// host uses the data key only through Secrets Manager and S3, and each service role's trust names
// the resource it acts for where the service sends it (confused-deputy protection).
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun } from "../../infra/offline/run";
import { PLACEHOLDERS } from "../../infra/offline/mocks";
import { planStack } from "../../infra/plan/plan";
import { hostLogGroupNames } from "../../infra/host-log-groups";
import { named, ofType, policyStatements } from "./helpers";

const ACCOUNT = PLACEHOLDERS.accountId;
const ADMIN_ROLE = "arn:aws:iam::111122223333:role/key-admins";
const alertEmails = JSON.stringify(["ops@example.org"]);

let standard: OfflineRun;
let single: OfflineRun;
beforeAll(async () => {
  standard = await planStack({
    config: { "openemr:tier": "standard", "openemr:region": "eu-west-1", "openemr:alertEmails": alertEmails },
    stackName: "clinic-prod",
  });
  single = await planStack({
    config: { "openemr:tier": "single", "openemr:alertEmails": alertEmails },
    stackName: "clinic-small",
  });
}, 120_000);

const tierNames = ["single", "standard"] as const;
const runOf = (tier: (typeof tierNames)[number]) => (tier === "single" ? single : standard);
const regionOf = (tier: (typeof tierNames)[number]) => (tier === "single" ? "us-east-1" : "eu-west-1");
const actions = (statement: any): string[] => [].concat(statement.Action);

/** The documents of every policy attached to the host role, and the ARNs attached. */
function hostGrants(run: OfflineRun) {
  const role = named(run, "aws:iam/role:Role", "host-role");
  const arns = ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .filter((attachment) => attachment.inputs.role === role.state.name)
    .map((attachment) => attachment.inputs.policyArn as string);
  const statements = ofType(run, "aws:iam/policy:Policy")
    .filter((policy) => arns.includes(policy.state.arn))
    .flatMap((policy) => policyStatements(policy.inputs.policy));
  return { arns, statements };
}
const hostStatement = (run: OfflineRun, sid: string) => hostGrants(run).statements.find((item) => item.Sid === sid);

/** Key policy statements of the key named `name`. */
const keyStatements = (run: OfflineRun, name: string) =>
  policyStatements(named(run, "aws:kms/key:Key", name).inputs.policy);
const keyNames = ["keys-data", "keys-logs", "keys-alerts", "host-backup-signing"];

const ADMIN_ACTIONS = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"];
const USE_ACTIONS = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:Sign"];
const grants = (statement: any, action: string) =>
  actions(statement).some((pattern) => new RegExp(`^${pattern.replace(/\*/g, ".*")}$`).test(action));

describe("host role: the stack's own policies", () => {
  it.each(tierNames)("%s: no AWS-managed policy is attached", (tier) => {
    expect(hostGrants(runOf(tier)).arns.filter((arn) => /:iam::aws:policy\//.test(arn))).toEqual([]);
  });

  // https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html
  it.each(tierNames)("%s: SSM core is Session Manager's and Run Command's calls, nothing more", (tier) => {
    expect(hostStatement(runOf(tier), "SsmAgentCore")).toEqual({
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
    });
  });

  it.each(tierNames)("%s: reads no SSM parameter", (tier) => {
    const all = hostGrants(runOf(tier)).statements.flatMap(actions);
    expect(all.filter((action) => /^ssm:(Get|\*)/i.test(action) || action === "*")).toEqual([]);
  });

  it.each(tierNames)("%s: the CloudWatch agent writes only to the stack's host log groups", (tier) => {
    const run = runOf(tier);
    const groups = hostLogGroupNames.map((logName) =>
      named(run, "aws:cloudwatch/logGroup:LogGroup", `host-${logName}`),
    );
    const logs = hostGrants(run).statements.filter((item) =>
      actions(item).some((action) => action.startsWith("logs:")),
    );
    expect(logs).toEqual([
      {
        Sid: "ShipHostLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: groups.flatMap((group) => [group.state.arn, `${group.state.arn}:log-stream:*`]),
      },
      { Sid: "FindHostLogGroups", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
    ]);
  });

  it.each(tierNames)("%s: metrics only in the agent's and the backup's namespaces", (tier) => {
    const metrics = hostGrants(runOf(tier)).statements.filter((item) =>
      actions(item).some((action) => action.startsWith("cloudwatch:")),
    );
    expect(metrics).toEqual([
      {
        Sid: "PublishOwnMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": ["CWAgent", "OpenEMR"] } },
      },
    ]);
  });

  it.each(tierNames)("%s: the data key only through Secrets Manager and S3 of the region", (tier) => {
    const run = runOf(tier);
    expect(hostStatement(run, "UseDataKey")).toEqual({
      Sid: "UseDataKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: named(run, "aws:kms/key:Key", "keys-data").state.arn,
      Condition: {
        StringEquals: {
          "kms:ViaService": [`secretsmanager.${regionOf(tier)}.amazonaws.com`, `s3.${regionOf(tier)}.amazonaws.com`],
        },
      },
    });
  });

  it.each(tierNames)("%s: signs directly with the signing key (KMS called by the host, no ViaService)", (tier) => {
    const run = runOf(tier);
    expect(hostStatement(run, "SignBackups")).toEqual({
      Sid: "SignBackups",
      Effect: "Allow",
      Action: ["kms:Sign", "kms:GetPublicKey"],
      Resource: named(run, "aws:kms/key:Key", "host-backup-signing").state.arn,
    });
  });
});

describe("key policies: administration apart from use", () => {
  it.each(keyNames)("%s: no statement both administers and uses the key", (name) => {
    const mixed = keyStatements(standard, name).filter(
      (statement) =>
        ADMIN_ACTIONS.some((action) => grants(statement, action)) &&
        USE_ACTIONS.some((action) => grants(statement, action)),
    );
    expect(mixed.map((statement) => statement.Sid)).toEqual([]);
  });

  it.each(keyNames)(
    "%s: the account administers it by default (through IAM), and may not use it to decrypt by that",
    (name) => {
      const admin = keyStatements(standard, name).find((statement) => statement.Sid === "KeyAdministration");
      expect(admin.Principal).toEqual({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
      expect(ADMIN_ACTIONS.every((action) => grants(admin, action))).toBe(true);
      expect(grants(admin, "kms:CreateGrant")).toBe(false);
    },
  );

  it("openemr:keyAdminRoleArn: that role alone administers the keys; the account keeps no admin action", async () => {
    const adminRole = await planStack({
      config: { "openemr:tier": "single", "openemr:alertEmails": alertEmails, "openemr:keyAdminRoleArn": ADMIN_ROLE },
      stackName: "clinic-admin",
    });
    for (const name of keyNames) {
      const statements = keyStatements(adminRole, name);
      const admins = statements.filter((statement) => grants(statement, "kms:PutKeyPolicy"));
      expect(
        admins.map((statement) => statement.Principal),
        name,
      ).toEqual([{ AWS: ADMIN_ROLE }]);
    }
  });

  it("alerts key: CloudWatch and AWS Backup use it for this account only; CloudWatch for its alarms", () => {
    const [cloudwatch, backup] = ["cloudwatch.amazonaws.com", "backup.amazonaws.com"].map((service) =>
      keyStatements(standard, "keys-alerts").find((statement) =>
        ([] as string[]).concat(statement.Principal?.Service).includes(service),
      ),
    );
    expect(cloudwatch.Condition).toEqual({
      StringEquals: { "aws:SourceAccount": ACCOUNT },
      ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:eu-west-1:${ACCOUNT}:alarm:*` },
    });
    expect(backup.Condition).toEqual({ StringEquals: { "aws:SourceAccount": ACCOUNT } });
  });
});

describe("service role trusts (confused deputy)", () => {
  // https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html
  it("AWS Config (openemr:awsConfig): this account only", async () => {
    const run = await planStack({
      config: { "openemr:tier": "single", "openemr:alertEmails": alertEmails, "openemr:awsConfig": "true" },
      stackName: "clinic-config",
    });
    const trust = policyStatements(named(run, "aws:iam/role:Role", "detection-config").inputs.assumeRolePolicy);
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "config.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
      },
    ]);
  });

  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html, "confused deputy"
  it("RDS enhanced monitoring: this account's database instance only", () => {
    const trust = policyStatements(named(standard, "aws:iam/role:Role", "database-monitoring").inputs.assumeRolePolicy);
    const identifier = named(standard, "aws:rds/instance:Instance", "database-instance").inputs.identifier;
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "monitoring.rds.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": ACCOUNT },
          ArnLike: { "aws:SourceArn": `arn:aws:rds:eu-west-1:${ACCOUNT}:db:${identifier}` },
        },
      },
    ]);
  });
});
