// The cost levers (config/schema.json, docs/cost.md): each key's resources present or absent
// under the offline mocks, and the policy pack's mandatory rules still passing with every lever
// pulled at once.
import { beforeAll, describe, expect, it } from "vitest";
import type { OfflineRun } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { interfaceEndpointServices } from "../../infra/components/network";
import { debianArchitecture, instanceArchitecture } from "../../infra/instance-architecture";
import { defaultSettings, evaluate, hasBlockingFailures, toRuleResources } from "../../policies/engine";
import { allRules } from "../../policies/rules";
import { REQUIRED_MANAGED_GROUPS } from "../../policies/rules/edge/waf-managed-rules";
import { loadWaivers } from "../../policies/waivers";
import { hostInstance, named, ofType } from "./helpers";

const emails = { "openemr:alertEmails": JSON.stringify(["ops@example.org"]) };
// Every lever pulled: the cheapest single tier the schema allows.
const leanSingle = {
  ...emails,
  "openemr:tier": "single",
  "openemr:instanceType": "t4g.medium",
  "openemr:flowLogTrafficType": "REJECT",
  "openemr:wafSqliAndPhpRules": "false",
  "openemr:dashboard": "false",
};
// The other way: endpoints in every zone, Performance Insights, Graviton host.
const fullStandard = {
  ...emails,
  "openemr:tier": "standard",
  "openemr:interfaceEndpoints": "all-zones",
  "openemr:azCount": "3",
  "openemr:instanceType": "m7g.large",
  "openemr:dbInstanceClass": "db.t4g.medium",
};
const hostZoneStandard = {
  ...emails,
  "openemr:tier": "standard",
  "openemr:interfaceEndpoints": "host-zone",
  "openemr:instanceType": "t3.small",
};

let lean: OfflineRun;
let full: OfflineRun;
let hostZone: OfflineRun;
// One after another: each run installs the process-wide Pulumi mocks.
beforeAll(async () => {
  lean = await planStack({ config: leanSingle, stackName: "lean" });
  full = await planStack({ config: fullStandard, stackName: "full" });
  hostZone = await planStack({ config: hostZoneStandard, stackName: "host-zone" });
}, 120_000);

const interfaceEndpoints = (run: OfflineRun) =>
  ofType(run, "aws:ec2/vpcEndpoint:VpcEndpoint").filter((endpoint) => endpoint.inputs.vpcEndpointType === "Interface");
const appSubnetIds = (run: OfflineRun) =>
  ofType(run, "aws:ec2/subnet:Subnet")
    .filter((subnet) => subnet.inputs.tags.Tier === "app")
    .map((subnet) => subnet.state.id);
const ami = (run: OfflineRun) => run.invokes.find((invoke) => invoke.token === "aws:ec2/getAmi:getAmi")!;
const webAclGroups = (run: OfflineRun) =>
  named(run, "aws:wafv2/webAcl:WebAcl", "edge-waf").inputs.rules.map(
    (rule: any) => rule.statement.managedRuleGroupStatement?.name ?? rule.name,
  );

describe("openemr:interfaceEndpoints", () => {
  it("host-zone: each of the host's API endpoints in the host's app subnet only, private DNS, endpoint group", () => {
    const group = named(hostZone, "aws:ec2/securityGroup:SecurityGroup", "network-endpoints");
    expect(
      interfaceEndpoints(hostZone)
        .map((endpoint) => [
          endpoint.inputs.serviceName.split(".").pop(),
          endpoint.inputs.subnetIds,
          endpoint.inputs.privateDnsEnabled,
          endpoint.inputs.securityGroupIds,
        ])
        .sort(),
    ).toEqual(
      [...interfaceEndpointServices]
        .sort()
        .map((service) => [service, [hostInstance(hostZone).inputs.subnetId], true, [group.state.id]]),
    );
  });
  it("all-zones: each endpoint in every app subnet", () => {
    expect(interfaceEndpoints(full)).toHaveLength(interfaceEndpointServices.length);
    for (const endpoint of interfaceEndpoints(full)) expect(endpoint.inputs.subnetIds).toEqual(appSubnetIds(full));
    expect(appSubnetIds(full)).toHaveLength(3);
  });
  it("none: no interface endpoint; the S3 gateway endpoint stays", () => {
    expect(interfaceEndpoints(lean)).toEqual([]);
    expect(named(lean, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3").inputs.vpcEndpointType).toBe("Gateway");
  });
});

describe("openemr:flowLogTrafficType", () => {
  it("REJECT: the one flow log records rejected traffic only, still to its encrypted group", () => {
    const flowLog = named(lean, "aws:ec2/flowLog:FlowLog", "network-flow-logs");
    expect(flowLog.inputs).toMatchObject({ trafficType: "REJECT", logDestinationType: "cloud-watch-logs" });
    expect(ofType(lean, "aws:ec2/flowLog:FlowLog")).toHaveLength(1);
  });
});

describe("openemr:wafSqliAndPhpRules", () => {
  it("true (default): rate limit, common, known bad inputs, SQLi and PHP", () => {
    expect(webAclGroups(full)).toEqual([
      "rate-limit-per-ip",
      "AWSManagedRulesCommonRuleSet",
      "AWSManagedRulesKnownBadInputsRuleSet",
      "AWSManagedRulesSQLiRuleSet",
      "AWSManagedRulesPHPRuleSet",
    ]);
  });
  it("false: the rate limit and the groups the waf-managed-rules rule requires, no more", () => {
    expect(webAclGroups(lean)).toEqual(["rate-limit-per-ip", ...REQUIRED_MANAGED_GROUPS]);
  });
});

describe("openemr:dashboard", () => {
  it("false: no dashboard, the dashboardName output empty, the alarms unchanged", () => {
    expect(ofType(lean, "aws:cloudwatch/dashboard:Dashboard")).toEqual([]);
    expect(lean.outputs.dashboardName).toBe("");
    expect(ofType(lean, "aws:cloudwatch/metricAlarm:MetricAlarm").length).toBeGreaterThan(10);
  });
  it("true (default): one dashboard, named in the outputs", () => {
    const dashboard = named(full, "aws:cloudwatch/dashboard:Dashboard", "monitoring-dashboard");
    expect(full.outputs.dashboardName).toBe(dashboard.inputs.dashboardName);
  });
});

describe("openemr:instanceType architecture", () => {
  it.each([
    ["t4g.small", "arm64"],
    ["t4g.medium", "arm64"],
    ["m7g.large", "arm64"],
    ["m7gd.xlarge", "arm64"],
    ["c7gn.large", "arm64"],
    ["r8g.large", "arm64"],
    ["x2gd.large", "arm64"],
    ["im4gn.large", "arm64"],
    ["is4gen.large", "arm64"],
    ["g5g.xlarge", "arm64"],
    ["a1.large", "arm64"],
    ["t3.small", "x86_64"],
    ["t3a.medium", "x86_64"],
    ["m7i.large", "x86_64"],
    ["m6in.large", "x86_64"],
    ["g4dn.xlarge", "x86_64"],
    ["g5.xlarge", "x86_64"],
    ["p5.48xlarge", "x86_64"],
  ])("%s is %s", (type, architecture) => expect(instanceArchitecture(type)).toBe(architecture));
  it.each([
    ["lean", "t4g.medium"],
    ["full", "m7g.large"],
  ])("%s (%s): Debian 13 arm64 image, looked up by name and architecture", (run, type) => {
    const planned = run === "lean" ? lean : full;
    expect(hostInstance(planned).inputs.instanceType).toBe(type);
    expect(ami(planned).inputs.filters).toEqual(
      expect.arrayContaining([
        { name: "name", values: [`debian-13-${debianArchitecture("arm64")}-*`] },
        { name: "architecture", values: ["arm64"] },
      ]),
    );
  });
  it("x86_64 (host-zone run, t3.small): Debian 13 amd64", () => {
    expect(hostInstance(hostZone).inputs.instanceType).toBe("t3.small");
    expect(ami(hostZone).inputs.filters).toEqual(
      expect.arrayContaining([
        { name: "name", values: ["debian-13-amd64-*"] },
        { name: "architecture", values: ["x86_64"] },
      ]),
    );
  });
});

describe("openemr:dbInstanceClass", () => {
  it("db.t4g.medium: Performance Insights on, on the data key", () => {
    const dataKey = named(full, "aws:kms/key:Key", "keys-data");
    expect(named(full, "aws:rds/instance:Instance", "database-instance").inputs).toMatchObject({
      instanceClass: "db.t4g.medium",
      performanceInsightsEnabled: true,
      performanceInsightsKmsKeyId: dataKey.state.arn,
    });
  });
});

describe("the policy pack with the levers pulled", () => {
  it.each(["lean", "full", "host-zone"])("%s: no mandatory rule fails", (name) => {
    const run = name === "lean" ? lean : name === "full" ? full : hostZone;
    const tier = name === "lean" ? "single" : "standard";
    const evaluations = evaluate(allRules, toRuleResources(run), {
      settings: { ...defaultSettings, tier },
      waivers: loadWaivers(),
    });
    const blocking = evaluations.filter((evaluation) => evaluation.blocking);
    expect(blocking.map((evaluation) => `${evaluation.rule.id} ${evaluation.resourceName}`)).toEqual([]);
    expect(hasBlockingFailures(evaluations)).toBe(false);
  });
});
