// Part 1 of the stack (provider, keys, network, security groups, database, host) under the
// offline mocks, for each tier: one assertion a security property.
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun, PlannedResource } from "../../infra/offline/run";
import { PLACEHOLDERS } from "../../infra/offline/mocks";
import { planStack } from "../../infra/plan/plan";
import { byReference, hostInstance, named, ofType, policyStatements, userDataSettings } from "./helpers";

const standardConfig = {
  "openemr:tier": "standard",
  "openemr:region": "eu-west-1",
  "openemr:azCount": "3",
  "openemr:allowedCidrs": JSON.stringify(["203.0.113.0/24", "198.51.100.7/32"]),
  "openemr:multiAz": "true",
  "openemr:backupRetentionDays": "14",
  "openemr:logRetentionDays": "400",
  "openemr:costTags": JSON.stringify({ CostCenter: "clinic-42" }),
  "openemr:alertEmails": JSON.stringify(["ops@example.org"]),
};
const singleConfig = { "openemr:tier": "single", "openemr:alertEmails": JSON.stringify(["ops@example.org"]) };

// The two runs nearly every test reads; each is planned once, before the tests.
let standard: OfflineRun;
let single: OfflineRun;
beforeAll(async () => {
  standard = await planStack({ config: standardConfig, stackName: "clinic-prod" });
  single = await planStack({ config: singleConfig, stackName: "clinic-small" });
});

// it.each reads its table when tests are collected, before the runs exist: the table holds
// tier names and each test looks its run up.
const tierNames = ["single", "standard"] as const;
const runOf = (tier: (typeof tierNames)[number]) => (tier === "single" ? single : standard);

const ingressRules = (run: OfflineRun) => ofType(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule");
const egressRules = (run: OfflineRun) => ofType(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule");
const group = (run: OfflineRun, role: string) =>
  named(run, "aws:ec2/securityGroup:SecurityGroup", `security-groups-${role}`);
const rulesOf = (rules: PlannedResource[], securityGroup: PlannedResource) =>
  rules.filter((rule) => rule.inputs.securityGroupId === securityGroup.state.id);
/** A rule as `<from port>-<to port> <peer>`, the peer a CIDR or a security group id. */
const portsAndPeer = ({ inputs }: PlannedResource) =>
  `${inputs.fromPort}-${inputs.toPort} ${inputs.cidrIpv4 ?? inputs.referencedSecurityGroupId}`;
const key = (run: OfflineRun, purpose: string) => named(run, "aws:kms/key:Key", `keys-${purpose}`);
const keyPolicy = (run: OfflineRun, purpose: string) => policyStatements(key(run, purpose).inputs.policy);
const hostPolicy = (run: OfflineRun) =>
  policyStatements(named(run, "aws:iam/policy:Policy", "host-access").inputs.policy);
const statement = (run: OfflineRun, sid: string) => hostPolicy(run).find((item) => item.Sid === sid);
const rds = () => named(standard, "aws:rds/instance:Instance", "database-instance");
/** Names of the resources of `type` whose retainOnDelete is `retained`. */
const namesRetained = (run: OfflineRun, type: string, retained: boolean) =>
  ofType(run, type)
    .filter((resource) => resource.retainOnDelete === retained)
    .map((resource) => resource.name);

describe("provider", () => {
  it("provider: region from config", () => {
    expect(named(standard, "pulumi:providers:aws", "aws").inputs.region).toBe("eu-west-1");
  });
  it("provider: default tags carry project, stack, PHI classification, managed-by and cost tags", () => {
    expect(JSON.parse(named(standard, "pulumi:providers:aws", "aws").inputs.defaultTags).tags).toEqual({
      Project: "openemr-aws",
      Stack: "clinic-prod",
      DataClassification: "PHI",
      ManagedBy: "pulumi",
      CostCenter: "clinic-42",
    });
  });
  it("provider: every AWS resource is declared with the stack's provider", () => {
    const provider = named(standard, "pulumi:providers:aws", "aws");
    const strays = standard.resources.filter(
      (resource) =>
        resource.custom && resource.type.startsWith("aws:") && !resource.provider?.startsWith(`${provider.urn}::`),
    );
    expect(strays.map((resource) => resource.name)).toEqual([]);
  });
});

describe("keys", () => {
  it.each(["data", "logs", "alerts"])("keys: %s key rotates", (purpose) => {
    expect(key(standard, purpose).inputs.enableKeyRotation).toBe(true);
  });
  it.each(["data", "logs", "alerts"])("keys: %s key has a 30-day deletion window", (purpose) => {
    expect(key(standard, purpose).inputs.deletionWindowInDays).toBe(30);
  });
  it("keys: retained on destroy when retainDataOnDestroy", () => {
    expect(namesRetained(standard, "aws:kms/key:Key", false)).toEqual([]);
  });
  it.each(["data", "logs", "alerts"])("keys: %s key policy starts with its administration, then its use", (purpose) => {
    const [admin, use] = keyPolicy(standard, purpose);
    expect(admin).toMatchObject({
      Sid: "KeyAdministration",
      Principal: { AWS: `arn:aws:iam::${PLACEHOLDERS.accountId}:root` },
    });
    expect(use).toMatchObject({
      Sid: "KeyUseGrantedByIam",
      Principal: { AWS: `arn:aws:iam::${PLACEHOLDERS.accountId}:root` },
    });
  });
  it("keys: no statement has a bare * principal", () => {
    const principals = ofType(standard, "aws:kms/key:Key").flatMap((resource) =>
      policyStatements(resource.inputs.policy).map((item) => item.Principal),
    );
    expect(principals.filter((principal) => principal === "*" || principal?.AWS === "*")).toEqual([]);
  });
  it("keys: data key has no service statement", () => {
    expect(keyPolicy(standard, "data").filter((item) => item.Principal.Service)).toEqual([]);
  });
  it("keys: logs key lets CloudWatch Logs of this region use it for this account's log groups only", () => {
    const logs = keyPolicy(standard, "logs").find((item) => item.Principal.Service === "logs.eu-west-1.amazonaws.com");
    expect(logs.Condition.ArnLike["kms:EncryptionContext:aws:logs:arn"]).toBe(
      `arn:aws:logs:eu-west-1:${PLACEHOLDERS.accountId}:log-group:*`,
    );
  });
  it("keys: logs key lets CloudTrail encrypt only with this account's trail context", () => {
    const trail = keyPolicy(standard, "logs").find(
      (item) => item.Principal.Service === "cloudtrail.amazonaws.com" && item.Action === "kms:GenerateDataKey*",
    );
    expect(trail.Condition).toEqual({
      StringLike: {
        "kms:EncryptionContext:aws:cloudtrail:arn": `arn:aws:cloudtrail:*:${PLACEHOLDERS.accountId}:trail/*`,
      },
      StringEquals: { "aws:SourceAccount": PLACEHOLDERS.accountId },
    });
  });
  it("keys: alerts key lets CloudWatch, AWS Backup and EventBridge only generate data keys and decrypt", () => {
    const services = keyPolicy(standard, "alerts").filter((item) => item.Principal.Service);
    expect(services.map((item) => [item.Principal.Service, item.Action])).toEqual(
      ["cloudwatch.amazonaws.com", "backup.amazonaws.com", "events.amazonaws.com"].map((service) => [
        service,
        ["kms:GenerateDataKey*", "kms:Decrypt"],
      ]),
    );
  });
  it("keys: each key has its alias", () => {
    expect(
      ofType(standard, "aws:kms/alias:Alias")
        .map((alias) => alias.inputs.name)
        .sort(),
    ).toEqual([
      "alias/openemr-aws/clinic-prod/alerts",
      "alias/openemr-aws/clinic-prod/data",
      "alias/openemr-aws/clinic-prod/logs",
    ]);
  });
});

describe("retained on destroy", () => {
  /** Names of the network's, database's and host's log groups whose retainOnDelete is `retained`. */
  const logGroupsRetained = (run: OfflineRun, retained: boolean) =>
    ofType(run, "aws:cloudwatch/logGroup:LogGroup")
      .filter((logGroup) => /Network::network|Database::database|Host::host$/.test(logGroup.parent ?? ""))
      .filter((logGroup) => logGroup.retainOnDelete === retained)
      .map((logGroup) => logGroup.name);
  it("retention: log groups of the network, database and host are kept on destroy by default", () => {
    expect(logGroupsRetained(standard, false)).toEqual([]);
  });
  it("retention: the RDS instance is kept on destroy by default", () => expect(rds().retainOnDelete).toBe(true));
  it("retention: the data volume is kept on destroy by default", () =>
    expect(named(single, "aws:ebs/volume:Volume", "host-data").retainOnDelete).toBe(true));

  describe("with retainDataOnDestroy false", () => {
    let notRetained: OfflineRun;
    beforeAll(async () => {
      notRetained = await planStack({
        config: { ...singleConfig, "openemr:retainDataOnDestroy": "false" },
        stackName: "scratch",
      });
    });
    it("keys: not retained", () => expect(namesRetained(notRetained, "aws:kms/key:Key", true)).toEqual([]));
    it("retention: the log groups are not kept", () => expect(logGroupsRetained(notRetained, true)).toEqual([]));
    it("retention: the data volume is not kept", () =>
      expect(named(notRetained, "aws:ebs/volume:Volume", "host-data").retainOnDelete).toBe(false));
  });
});

describe("network", () => {
  it.each(tierNames)("network (%s): public, app and db subnets in each AZ", (tier) => {
    const run = runOf(tier);
    const zones = (tier: string) =>
      ofType(run, "aws:ec2/subnet:Subnet")
        .filter((subnet) => subnet.inputs.tags.Tier === tier)
        .map((subnet) => subnet.inputs.availabilityZone);
    const azCount = run === standard ? 3 : 2;
    for (const tier of ["public", "app", "db"]) expect(new Set(zones(tier)).size).toBe(azCount);
  });
  it("network: no subnet maps public IPs on launch", () => {
    expect(ofType(standard, "aws:ec2/subnet:Subnet").map((subnet) => subnet.inputs.mapPublicIpOnLaunch)).toEqual(
      Array(9).fill(false),
    );
  });
  it("network: the db route table has no route out", () => {
    const dbTable = named(standard, "aws:ec2/routeTable:RouteTable", "network-db");
    expect(
      ofType(standard, "aws:ec2/route:Route").filter((route) => route.inputs.routeTableId === dbTable.state.id),
    ).toEqual([]);
  });
  it("network: db subnets use the db route table", () => {
    const dbTable = named(standard, "aws:ec2/routeTable:RouteTable", "network-db");
    const dbSubnetIds = ofType(standard, "aws:ec2/subnet:Subnet")
      .filter((subnet) => subnet.inputs.tags.Tier === "db")
      .map((subnet) => subnet.state.id);
    const associated = ofType(standard, "aws:ec2/routeTableAssociation:RouteTableAssociation").filter((association) =>
      dbSubnetIds.includes(association.inputs.subnetId),
    );
    expect(associated.map((association) => association.inputs.routeTableId)).toEqual(
      dbSubnetIds.map(() => dbTable.state.id),
    );
  });
  it("network: only the public route table routes to the internet gateway", () => {
    const toInternet = ofType(standard, "aws:ec2/route:Route").filter((route) => route.inputs.gatewayId);
    expect(toInternet.map((route) => byReference(standard, route.inputs.routeTableId)?.name)).toEqual([
      "network-public",
    ]);
  });
  it("network: app subnets reach out through the one NAT gateway", () => {
    const nat = named(standard, "aws:ec2/natGateway:NatGateway", "network-nat");
    const appRoute = ofType(standard, "aws:ec2/route:Route").find((route) => route.inputs.natGatewayId);
    expect(ofType(standard, "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    expect(appRoute?.inputs.natGatewayId).toBe(nat.state.id);
    expect(byReference(standard, appRoute?.inputs.routeTableId)?.name).toBe("network-app");
  });
  it("network: S3 gateway endpoint on the app route table", () => {
    const s3 = named(standard, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3");
    expect(s3.inputs).toMatchObject({
      serviceName: "com.amazonaws.eu-west-1.s3",
      vpcEndpointType: "Gateway",
      routeTableIds: [named(standard, "aws:ec2/routeTable:RouteTable", "network-app").state.id],
    });
  });
  it.each(tierNames)(
    "network (%s): no interface endpoint by default (openemr:interfaceEndpoints none), the endpoint group kept",
    (tier) => {
      const run = runOf(tier);
      const interfaces = ofType(run, "aws:ec2/vpcEndpoint:VpcEndpoint").filter(
        (endpoint) => endpoint.inputs.vpcEndpointType === "Interface",
      );
      expect(interfaces).toEqual([]);
      expect(named(run, "aws:ec2/securityGroup:SecurityGroup", "network-endpoints")).toBeDefined();
    },
  );
  it.each(tierNames)("network (%s): the flow log records ALL traffic by default", (tier) =>
    expect(named(runOf(tier), "aws:ec2/flowLog:FlowLog", "network-flow-logs").inputs.trafficType).toBe("ALL"),
  );
  it("network: the default security group has no rules", () => {
    expect(
      named(standard, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", "network-default-sg").inputs,
    ).toMatchObject({ ingress: [], egress: [] });
  });
  it("network: flow logs capture ALL traffic into the flow-log group", () => {
    const vpc = named(standard, "aws:ec2/vpc:Vpc", "network-vpc");
    const logGroup = named(standard, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs");
    expect(ofType(standard, "aws:ec2/flowLog:FlowLog")[0].inputs).toMatchObject({
      trafficType: "ALL",
      vpcId: vpc.state.id,
      logDestination: logGroup.state.arn,
    });
  });
  it("network: the flow-log group is encrypted with the logs key and kept as an audit record (six years)", () => {
    const logGroup = named(standard, "aws:cloudwatch/logGroup:LogGroup", "network-flow-logs");
    expect(logGroup.inputs).toMatchObject({ kmsKeyId: key(standard, "logs").state.arn, retentionInDays: 2192 });
  });
});

describe("security groups", () => {
  it.each(tierNames)("security groups (%s): no rule reaches port 22", (tier) => {
    const run = runOf(tier);
    const reaches22 = [...ingressRules(run), ...egressRules(run)].filter(
      (rule) => rule.inputs.ipProtocol === "-1" || (rule.inputs.fromPort <= 22 && rule.inputs.toPort >= 22),
    );
    expect(reaches22).toEqual([]);
  });
  it.each(tierNames)("security groups (%s): no inline rules", (tier) => {
    const run = runOf(tier);
    expect(
      ofType(run, "aws:ec2/securityGroup:SecurityGroup").filter(
        (resource) => resource.inputs.ingress?.length || resource.inputs.egress?.length,
      ),
    ).toEqual([]);
  });
  it("security groups: load balancer takes 443 and 80 from each allowed CIDR and nothing else", () => {
    const rules = rulesOf(ingressRules(standard), group(standard, "alb")).map(portsAndPeer);
    expect(rules.sort()).toEqual([
      "443-443 198.51.100.7/32",
      "443-443 203.0.113.0/24",
      "80-80 198.51.100.7/32",
      "80-80 203.0.113.0/24",
    ]);
  });
  it("security groups: load balancer sends only 443 to the host group", () => {
    expect(
      rulesOf(egressRules(standard), group(standard, "alb")).map((rule) => [
        rule.inputs.fromPort,
        rule.inputs.toPort,
        rule.inputs.referencedSecurityGroupId,
      ]),
    ).toEqual([[443, 443, group(standard, "host").state.id]]);
  });
  it.each(tierNames)("security groups (%s): host takes only 443 from the load balancer group", (tier) => {
    const run = runOf(tier);
    expect(
      rulesOf(ingressRules(run), group(run, "host")).map((rule) => [
        rule.inputs.fromPort,
        rule.inputs.toPort,
        rule.inputs.referencedSecurityGroupId,
        rule.inputs.cidrIpv4,
      ]),
    ).toEqual([[443, 443, group(run, "alb").state.id, undefined]]);
  });
  it("security groups: standard host egress is 443 to anywhere and 3306 to the db group", () => {
    const rules = rulesOf(egressRules(standard), group(standard, "host")).map(portsAndPeer);
    expect(rules.sort()).toEqual([`3306-3306 ${group(standard, "db").state.id}`, "443-443 0.0.0.0/0"]);
  });
  it("security groups: single host egress is 443 only, and there is no db group", () => {
    const groupNames = ofType(single, "aws:ec2/securityGroup:SecurityGroup").map((resource) => resource.name);
    expect(rulesOf(egressRules(single), group(single, "host")).map(portsAndPeer)).toEqual(["443-443 0.0.0.0/0"]);
    expect(groupNames).not.toContain("security-groups-db");
  });
  it("security groups: db takes only 3306 from the host group and the database-accounts function's", () => {
    expect(
      rulesOf(ingressRules(standard), group(standard, "db")).map((rule) => [
        rule.inputs.fromPort,
        rule.inputs.toPort,
        rule.inputs.referencedSecurityGroupId,
      ]),
    ).toEqual([
      [3306, 3306, group(standard, "host").state.id],
      [3306, 3306, group(standard, "db-users").state.id],
    ]);
  });
  it("security groups: db has no egress", () => {
    expect(rulesOf(egressRules(standard), group(standard, "db"))).toEqual([]);
  });
  it("security groups: endpoints take only 443 from the host group and the database-accounts function's", () => {
    const endpoints = named(standard, "aws:ec2/securityGroup:SecurityGroup", "network-endpoints");
    expect(
      rulesOf(ingressRules(standard), endpoints).map((rule) => [
        rule.inputs.fromPort,
        rule.inputs.toPort,
        rule.inputs.referencedSecurityGroupId,
      ]),
    ).toEqual([
      [443, 443, group(standard, "host").state.id],
      [443, 443, group(standard, "db-users").state.id],
    ]);
  });
});

describe("database", () => {
  const parameters = () =>
    Object.fromEntries(
      named(standard, "aws:rds/parameterGroup:ParameterGroup", "database-params").inputs.parameters.map((item: any) => [
        item.name,
        item.value,
      ]),
    );
  it("database: single tier has no RDS instance", () => {
    expect(ofType(single, "aws:rds/instance:Instance")).toEqual([]);
  });
  it("db: MySQL 8.4 with an explicit identifier", () => {
    expect(rds().inputs).toMatchObject({ engine: "mysql", engineVersion: "8.4", identifier: "openemr-clinic-prod" });
  });
  it("db: parameter group family mysql8.4", () => {
    expect(named(standard, "aws:rds/parameterGroup:ParameterGroup", "database-params").inputs.family).toBe("mysql8.4");
  });
  it("db: require_secure_transport on", () => expect(parameters().require_secure_transport).toBe("1"));
  it("db: local_infile on", () => expect(parameters().local_infile).toBe("1"));
  it("db: utf8mb4 with utf8mb4_general_ci", () =>
    expect(parameters()).toMatchObject({ character_set_server: "utf8mb4", collation_server: "utf8mb4_general_ci" }));
  it("db: slow query and general logs off (both copy statement text, so PHI)", () =>
    expect(parameters()).toMatchObject({ slow_query_log: "0", general_log: "0" }));
  it("db: logs written to files, the only output RDS exports to CloudWatch Logs", () =>
    expect(parameters().log_output).toBe("FILE"));
  it("db: instance uses its parameter and option groups", () => {
    const parameterGroup = named(standard, "aws:rds/parameterGroup:ParameterGroup", "database-params");
    const optionGroup = named(standard, "aws:rds/optionGroup:OptionGroup", "database-options");
    expect(rds().inputs).toMatchObject({
      parameterGroupName: parameterGroup.state.name,
      optionGroupName: optionGroup.state.name,
    });
  });
  it("db: option group loads the MariaDB audit plugin for connections, DDL and DCL", () => {
    expect(named(standard, "aws:rds/optionGroup:OptionGroup", "database-options").inputs.options).toEqual([
      {
        optionName: "MARIADB_AUDIT_PLUGIN",
        optionSettings: [{ name: "SERVER_AUDIT_EVENTS", value: "CONNECT,QUERY_DDL,QUERY_DCL" }],
      },
    ]);
  });
  it("db: storage encrypted with the data key", () => {
    expect(rds().inputs).toMatchObject({
      storageEncrypted: true,
      kmsKeyId: key(standard, "data").state.arn,
      storageType: "gp3",
    });
  });
  it("db: not publicly accessible", () => expect(rds().inputs.publiclyAccessible).toBe(false));
  it("db: in the db subnets only", () => {
    const subnetGroup = named(standard, "aws:rds/subnetGroup:SubnetGroup", "database-subnets");
    const dbSubnets = ofType(standard, "aws:ec2/subnet:Subnet")
      .filter((subnet) => subnet.inputs.tags.Tier === "db")
      .map((subnet) => subnet.state.id);
    expect(rds().inputs.dbSubnetGroupName).toBe(subnetGroup.state.name);
    expect(subnetGroup.inputs.subnetIds).toEqual(dbSubnets);
  });
  it("db: behind the db security group only", () =>
    expect(rds().inputs.vpcSecurityGroupIds).toEqual([group(standard, "db").state.id]));
  it("db: Multi-AZ from config", () => expect(rds().inputs.multiAz).toBe(true));
  it("db: deletion protection", () => expect(rds().inputs.deletionProtection).toBe(true));
  it("db: automated backups kept per config", () => expect(rds().inputs.backupRetentionPeriod).toBe(14));
  it("db: final snapshot on delete", () =>
    expect(rds().inputs).toMatchObject({
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "openemr-clinic-prod-final",
    }));
  it("db: tags copied to snapshots", () => expect(rds().inputs.copyTagsToSnapshot).toBe(true));
  it("db: automatic minor upgrades", () => expect(rds().inputs.autoMinorVersionUpgrade).toBe(true));
  it("db: audit, error and general logs exported; no slow query log, which copies statement text (PHI)", () =>
    expect(rds().inputs.enabledCloudwatchLogsExports).toEqual(["audit", "error", "general"]));
  it("db: exported log groups exist, encrypted with the logs key, kept per config", () => {
    const groups = ofType(standard, "aws:cloudwatch/logGroup:LogGroup").filter((logGroup) =>
      logGroup.inputs.name.startsWith("/aws/rds/instance/openemr-clinic-prod/"),
    );
    expect(
      groups.map((logGroup) => [
        logGroup.inputs.name.split("/").pop(),
        logGroup.inputs.kmsKeyId,
        logGroup.inputs.retentionInDays,
      ]),
    ).toEqual(
      [
        ["audit", 2192],
        ["error", 400],
        ["general", 400],
      ].map(([type, days]) => [type, key(standard, "logs").state.arn, days]),
    );
  });
  it("db: enhanced monitoring every 60 s with its role", () => {
    const role = named(standard, "aws:iam/role:Role", "database-monitoring");
    expect(rds().inputs).toMatchObject({ monitoringInterval: 60, monitoringRoleArn: role.state.arn });
    expect(policyStatements(role.inputs.assumeRolePolicy)[0].Principal.Service).toBe("monitoring.rds.amazonaws.com");
  });
  it("db: the default db.t4g.small, which runs no Performance Insights (cost-levers.test: medium has it)", () => {
    expect(rds().inputs).toMatchObject({ instanceClass: "db.t4g.small", performanceInsightsEnabled: false });
  });
  it("db: master password managed by RDS, encrypted with the data key", () => {
    expect(rds().inputs).toMatchObject({
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: key(standard, "data").state.arn,
    });
    expect(rds().inputs.password).toBeUndefined();
  });
  it("db: CA rds-ca-rsa2048-g1", () => expect(rds().inputs.caCertIdentifier).toBe("rds-ca-rsa2048-g1"));
});

describe("host", () => {
  const ami = (run: OfflineRun) => run.invokes.find((invoke) => invoke.token === "aws:ec2/getAmi:getAmi")!;
  it("host: Debian 13 arm64 from Debian's AMI owner, most recent, for the default Graviton type", () => {
    expect(ami(standard).inputs).toMatchObject({
      owners: ["136693071363"],
      mostRecent: true,
      filters: expect.arrayContaining([
        { name: "name", values: ["debian-13-arm64-*"] },
        { name: "architecture", values: ["arm64"] },
      ]),
    });
  });
  it("host: launched from the looked-up AMI", () => expect(hostInstance(standard).inputs.ami).toBe(PLACEHOLDERS.amiId));
  it.each(tierNames)("host (%s): in a private app subnet", (tier) => {
    const run = runOf(tier);
    expect(byReference(run, hostInstance(run).inputs.subnetId)?.inputs.tags.Tier).toBe("app");
  });
  it.each(tierNames)("host (%s): no public IP", (tier) =>
    expect(hostInstance(runOf(tier)).inputs.associatePublicIpAddress).toBe(false),
  );
  it.each(tierNames)("host (%s): no key pair", (tier) =>
    expect(hostInstance(runOf(tier)).inputs.keyName).toBeUndefined(),
  );
  it.each(tierNames)("host (%s): IMDSv2 required with hop limit 1", (tier) => {
    const run = runOf(tier);
    expect(hostInstance(run).inputs.metadataOptions).toMatchObject({
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
    });
  });
  it.each(tierNames)("host (%s): detailed monitoring", (tier) =>
    expect(hostInstance(runOf(tier)).inputs.monitoring).toBe(true),
  );
  it.each(tierNames)("host (%s): EBS-optimized", (tier) =>
    expect(hostInstance(runOf(tier)).inputs.ebsOptimized).toBe(true),
  );
  it.each(tierNames)("host (%s): auto-recovery on", (tier) =>
    expect(hostInstance(runOf(tier)).inputs.maintenanceOptions).toEqual({ autoRecovery: "default" }),
  );
  it.each(tierNames)("host (%s): gp3 root encrypted with the data key", (tier) => {
    const run = runOf(tier);
    expect(hostInstance(run).inputs.rootBlockDevice).toMatchObject({
      volumeType: "gp3",
      encrypted: true,
      kmsKeyId: key(run, "data").state.arn,
    });
  });
  it.each(tierNames)("host (%s): behind the host security group only", (tier) =>
    expect(hostInstance(runOf(tier)).inputs.vpcSecurityGroupIds).toEqual([group(runOf(tier), "host").state.id]),
  );
  it("host (single): a separate gp3 data volume encrypted with the data key, in the host's zone", () => {
    const volume = named(single, "aws:ebs/volume:Volume", "host-data");
    const subnet = byReference(single, hostInstance(single).inputs.subnetId)!;
    expect(volume.inputs).toMatchObject({
      type: "gp3",
      encrypted: true,
      kmsKeyId: key(single, "data").state.arn,
      availabilityZone: subnet.inputs.availabilityZone,
    });
  });
  it("host (single): the data volume is attached to the host", () => {
    const volume = named(single, "aws:ebs/volume:Volume", "host-data");
    expect(ofType(single, "aws:ec2/volumeAttachment:VolumeAttachment")[0].inputs).toMatchObject({
      instanceId: hostInstance(single).state.id,
      volumeId: volume.state.id,
    });
  });
  it("host (single): DATA_VOLUME_ID names the data volume", () => {
    expect(userDataSettings(single).DATA_VOLUME_ID).toBe(named(single, "aws:ebs/volume:Volume", "host-data").state.id);
  });
  it("host (single): DATA_DIR puts MariaDB and the web tree with sites/ on the data volume's mount", () => {
    expect(userDataSettings(single).DATA_DIR).toBe("/srv/openemr-data");
  });
  it("host (standard): no data volume", () => {
    expect(ofType(standard, "aws:ebs/volume:Volume")).toEqual([]);
    expect(userDataSettings(standard)).not.toHaveProperty("DATA_VOLUME_ID");
    expect(userDataSettings(standard)).not.toHaveProperty("DATA_DIR");
  });
  it.each(tierNames)(
    "host (%s): role has the stack's policies for its access, SSM and the CloudWatch agent",
    (tier) => {
      const run = runOf(tier);
      const role = named(run, "aws:iam/role:Role", "host-role");
      const attached = ofType(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
        (attachment) => attachment.inputs.role === role.state.name,
      );
      expect(attached.map((attachment) => attachment.inputs.policyArn).sort()).toEqual(
        ["host-access", "host-ssm", "host-cloudwatch-agent"]
          .map((policy) => named(run, "aws:iam/policy:Policy", policy).state.arn)
          .sort(),
      );
    },
  );
  it.each(tierNames)("host (%s): no inline policies", (tier) => {
    const run = runOf(tier);
    expect(ofType(run, "aws:iam/rolePolicy:RolePolicy")).toEqual([]);
    expect(named(run, "aws:iam/role:Role", "host-role").inputs.inlinePolicies).toBeUndefined();
  });
  it("host (standard): reads exactly its secrets: app, backup and restore DB users, admin; not the RDS master", () => {
    expect(statement(standard, "ReadOwnSecrets")).toMatchObject({
      Action: "secretsmanager:GetSecretValue",
      Resource: [
        named(standard, "aws:secretsmanager/secret:Secret", "host-db-app").state.arn,
        named(standard, "aws:secretsmanager/secret:Secret", "host-db-backup").state.arn,
        named(standard, "aws:secretsmanager/secret:Secret", "host-db-restore").state.arn,
        named(standard, "aws:secretsmanager/secret:Secret", "host-admin").state.arn,
      ],
    });
  });
  it("host (single): reads exactly its secrets: app, backup and restore DB users and admin", () => {
    expect(statement(single, "ReadOwnSecrets").Resource).toEqual([
      named(single, "aws:secretsmanager/secret:Secret", "host-db-app").state.arn,
      named(single, "aws:secretsmanager/secret:Secret", "host-db-backup").state.arn,
      named(single, "aws:secretsmanager/secret:Secret", "host-db-restore").state.arn,
      named(single, "aws:secretsmanager/secret:Secret", "host-admin").state.arn,
    ]);
  });
  it.each(tierNames)("host (%s): writes only the app DB secret, to stage and promote its rotated password", (tier) => {
    const run = runOf(tier);
    expect(statement(run, "RotateAppDbSecret")).toEqual({
      Sid: "RotateAppDbSecret",
      Effect: "Allow",
      Action: ["secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"],
      Resource: named(run, "aws:secretsmanager/secret:Secret", "host-db-app").state.arn,
    });
    const writes = hostPolicy(run).filter((item) =>
      [item.Action].flat().some((action: string) => /^secretsmanager:(Put|Update|Delete|Create)/.test(action)),
    );
    expect(writes.map((item) => item.Sid)).toEqual(["RotateAppDbSecret"]);
  });
  it.each(tierNames)("host (%s): the bundle upload carries a checksum, as Object Lock requires", (tier) => {
    expect(named(runOf(tier), "aws:s3/bucketObjectv2:BucketObjectv2", "host-bundle").inputs.checksumAlgorithm).toBe(
      "CRC32",
    );
  });
  it.each(tierNames)("host (%s): uses the data key, and signs with its own signing key only", (tier) => {
    const run = runOf(tier);
    const kms = hostPolicy(run).filter((item) =>
      [].concat(item.Action).some((action: string) => action.startsWith("kms:")),
    );
    const signing = named(run, "aws:kms/key:Key", "host-backup-signing");
    expect(kms.map((item) => [item.Action, item.Resource])).toEqual([
      [["kms:Decrypt", "kms:GenerateDataKey"], key(run, "data").state.arn],
      [["kms:Sign", "kms:GetPublicKey"], signing.state.arn],
    ]);
    expect(signing.inputs).toMatchObject({ keyUsage: "SIGN_VERIFY", customerMasterKeySpec: "ECC_NIST_P256" });
  });
  it.each(tierNames)("host (%s): reads and writes its backup prefix only", (tier) => {
    const run = runOf(tier);
    const bucket = ofType(run, "aws:s3/bucket:Bucket").find((resource) => resource.inputs.objectLockEnabled)!;
    expect(statement(run, "ReadWriteOwnBackups")).toMatchObject({
      Action: ["s3:PutObject", "s3:GetObject"],
      Resource: `${bucket.state.arn}/backups/default/*`,
    });
  });
  it.each(tierNames)("host (%s): lists only its backup prefix", (tier) => {
    const run = runOf(tier);
    expect(statement(run, "ListOwnBackups").Condition).toEqual({
      StringLike: { "s3:prefix": ["backups/default/", "backups/default/*"] },
    });
  });
  it.each(tierNames)("host (%s): reads the host bundle", (tier) => {
    const run = runOf(tier);
    expect(statement(run, "ReadHostBundle")).toMatchObject({
      Action: "s3:GetObject",
      Resource: expect.stringMatching(/\/host-bundle\/\*$/),
    });
  });
  it.each(tierNames)("host (%s): may delete nothing and uses no wildcard action", (tier) => {
    const run = runOf(tier);
    const actions = hostPolicy(run).flatMap((item) => [].concat(item.Action)) as string[];
    expect(actions.filter((action) => /delete|\*/i.test(action))).toEqual([]);
  });
  it.each(tierNames)(
    "host (%s): log groups for each host log, encrypted with the logs key, kept per config",
    (tier) => {
      const run = runOf(tier);
      const prefix = run === standard ? "/openemr-aws/clinic-prod" : "/openemr-aws/clinic-small";
      const groups = ofType(run, "aws:cloudwatch/logGroup:LogGroup").filter((logGroup) =>
        logGroup.parent?.endsWith("Host::host"),
      );
      expect(
        groups.map((logGroup) => [logGroup.inputs.name, logGroup.inputs.kmsKeyId, logGroup.inputs.retentionInDays]),
      ).toEqual([
        ...["apache-access", "apache-error", "php-fpm", "openemr-bootstrap", "openemr-backup", "system"].map((name) => [
          `${prefix}/${name}`,
          key(run, "logs").state.arn,
          run === standard ? 400 : 365,
        ]),
        // Audit records: auditd's and the Session Manager sessions', six years.
        [`${prefix}/auditd`, key(run, "logs").state.arn, 2192],
        [`${prefix}/ssm-sessions`, key(run, "logs").state.arn, 2192],
      ]);
    },
  );
  it.each(tierNames)("host (%s): the DB users' and admin secrets encrypted with the data key", (tier) => {
    const run = runOf(tier);
    expect(ofType(run, "aws:secretsmanager/secret:Secret").map((secret) => secret.inputs.kmsKeyId)).toEqual(
      Array(4).fill(key(run, "data").state.arn),
    );
  });
  it("host: generated passwords hold no =, space or quote", () => {
    const passwords = ofType(standard, "random:index/randomPassword:RandomPassword").map((password) => password.inputs);
    expect(passwords).toHaveLength(4);
    for (const password of passwords) {
      expect(password.special).toBe(true);
      expect(password.overrideSpecial).not.toMatch(/[= "'`]/);
    }
  });
  it.each(tierNames)("host (%s): secret values are stored as marked secrets", (tier) => {
    const versions = ofType(runOf(tier), "aws:secretsmanager/secretVersion:SecretVersion");
    expect(versions.map((version) => version.secretPaths)).toEqual(Array(4).fill(["secretString"]));
  });
});

describe("outputs", () => {
  it.each(tierNames)("outputs (%s): the host contract's outputs this part provides", (tier) => {
    const run = runOf(tier);
    expect(Object.keys(run.outputs)).toEqual(
      expect.arrayContaining([
        "adminPasswordSecretArn",
        "hostInstanceId",
        "dbEndpoint",
        "backupBucket",
        "backupPrefix",
        "region",
        "tier",
        "logGroupPrefix",
        "bootstrapDocumentName",
      ]),
    );
  });
  it("outputs (standard): DB endpoint and identifier of the RDS instance", () => {
    expect(standard.outputs).toMatchObject({
      dbEndpoint: rds().state.endpoint,
      dbInstanceIdentifier: "openemr-clinic-prod",
    });
  });
  it("outputs (single): no DB instance identifier", () => expect(single.outputs.dbInstanceIdentifier).toBeUndefined());
  it("outputs: the admin secret ARN", () =>
    expect(standard.outputs.adminPasswordSecretArn).toBe(
      named(standard, "aws:secretsmanager/secret:Secret", "host-admin").state.arn,
    ));
});

describe("first boot", () => {
  it.each(tierNames)("host (%s): the instance starts after its route out, the endpoints and its egress", (tier) => {
    const run = runOf(tier);
    const instance = named(run, "aws:ec2/instance:Instance", "host-instance");
    const urnOf = (type: string, name: string) => named(run, type, name).urn;
    expect(instance.dependsOn).toEqual(
      expect.arrayContaining([
        urnOf("aws:ec2/route:Route", "network-app-nat"),
        urnOf("aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3"),
        urnOf("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "security-groups-host-https"),
      ]),
    );
  });
});
