// The front door in the planned stack (issue "The front door"): the VPC endpoints' policies, the
// optional DNS Firewall and its price, the certificate and sign-in keys' checks, and the stack
// outputs the plan and provision state the front door from. Each fails on the code before it.
import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { beforeAll, describe, expect, it } from "vitest";
import { awsOwnedBuckets, DNS_ALLOW_LIST } from "../../infra/components/network";
import { loadStackFile, rawConfigFrom, validateConfig } from "../../infra/config";
import { estimateRun } from "../../infra/cost/estimate";
import { loadAssumptions, loadPrices } from "../../infra/cost/tables";
import { formatFrontDoor, frontDoorFromOutputs } from "../../infra/front-door";
import type { OfflineRun } from "../../infra/offline/run";
import { planStack } from "../../infra/plan/plan";
import { named, ofType, policyStatements } from "./helpers";

const HOST = join(__dirname, "..", "..", "infra", "host", "lib");
const ACCOUNT = "123456789012";

function endpoint(run: OfflineRun, service: string) {
  return ofType(run, "aws:ec2/vpcEndpoint:VpcEndpoint").find((item) =>
    String(item.inputs.serviceName).endsWith(`.${service}`),
  )!;
}

describe("VPC endpoint policies", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await planStack({ config: { "openemr:interfaceEndpoints": "host-zone" }, stackName: "clinic" });
  });

  it("S3 gateway: this account's buckets for this account's principals, and only AWS's agent packages besides", () => {
    const [own, agents] = policyStatements(endpoint(run, "s3").inputs.policy);
    expect(own).toMatchObject({ Effect: "Allow", Action: "s3:*", Resource: "*" });
    const accountId = own.Condition.StringEquals["aws:ResourceAccount"];
    expect(accountId).toMatch(/^\d{12}$/);
    expect(own.Condition.StringEquals["aws:PrincipalAccount"]).toBe(accountId);
    // The bootstrap downloads the agents with unsigned curl: an account condition would refuse it.
    expect(agents).toMatchObject({ Effect: "Allow", Action: "s3:GetObject" });
    expect(agents.Condition).toBeUndefined();
  });

  it("S3 gateway: exactly the AWS-owned buckets the host bootstrap downloads from, read-only", () => {
    const steps = readFileSync(join(HOST, "steps.sh"), "utf8");
    const downloaded = [
      ...new Set(
        [
          ...steps.matchAll(
            /https:\/\/(?:s3\.\$AWS_REGION\.amazonaws\.com\/([a-z-]+\$AWS_REGION)|([a-z-]+\$AWS_REGION)\.s3\.)/g,
          ),
        ].map((match) => (match[1] ?? match[2]).replace("$AWS_REGION", "us-east-1")),
      ),
    ].sort();
    expect(downloaded).toEqual([...awsOwnedBuckets("us-east-1")].sort());
    const [, agents] = policyStatements(endpoint(run, "s3").inputs.policy);
    expect(agents.Resource).toEqual(downloaded.map((bucket) => `arn:aws:s3:::${bucket}/*`));
  });

  it("interface endpoints: this account's principals; its resources too where the calls name them", () => {
    const conditions = (service: string) =>
      policyStatements(endpoint(run, service).inputs.policy).map((statement) => statement.Condition.StringEquals);
    for (const service of ["logs", "secretsmanager", "kms"])
      expect(Object.keys(conditions(service)[0]).sort(), service).toEqual([
        "aws:PrincipalAccount",
        "aws:ResourceAccount",
      ]);
    for (const service of ["ssm", "monitoring"])
      expect(Object.keys(conditions(service)[0]), service).toEqual(["aws:PrincipalAccount"]);
  });

  it("ssmmessages and ec2messages keep AWS's default (no endpoint-policy support)", () => {
    expect(endpoint(run, "ssmmessages").inputs.policy).toBeUndefined();
    expect(endpoint(run, "ec2messages").inputs.policy).toBeUndefined();
  });
});

describe("DNS Firewall (dnsFirewall)", () => {
  it("is off by default", async () => {
    const run = await planStack({ config: {}, stackName: "clinic" });
    expect(ofType(run, "aws:route53/resolverFirewallRuleGroup:ResolverFirewallRuleGroup")).toEqual([]);
  });

  describe("when on", () => {
    let run: OfflineRun;
    beforeAll(async () => {
      run = await planStack({ config: { "openemr:dnsFirewall": "true" }, stackName: "clinic" });
    });

    it("allows Debian's mirrors, the OpenEMR release host and AWS, then blocks every other name", () => {
      const release = readFileSync(join(HOST, "release.sh"), "utf8");
      const releaseHost = /https:\/\/([a-z0-9.-]+)\/openemr\/openemr\/releases/.exec(release)![1];
      const allowed = named(
        run,
        "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList",
        "network-dns-allowed",
      ).inputs.domains;
      expect(allowed).toEqual(DNS_ALLOW_LIST);
      for (const name of [releaseHost, "deb.debian.org", "security.debian.org", "amazonaws.com", "*.amazonaws.com"])
        expect(allowed, name).toContain(name);
      const rules = ofType(run, "aws:route53/resolverFirewallRule:ResolverFirewallRule")
        .map((rule) => rule.inputs)
        .sort((a, b) => a.priority - b.priority);
      expect(rules.map((rule) => [rule.priority, rule.action])).toEqual([
        [100, "ALLOW"],
        [200, "BLOCK"],
      ]);
      expect(rules[0].firewallDomainRedirectionAction).toBe("TRUST_REDIRECTION_DOMAIN");
      expect(
        named(run, "aws:route53/resolverFirewallDomainList:ResolverFirewallDomainList", "network-dns-everything").inputs
          .domains,
      ).toEqual(["*"]);
      expect(rules[1].blockResponse).toBe("NXDOMAIN");
    });

    it("is on the VPC and fails closed", () => {
      const vpcId = named(run, "aws:ec2/vpc:Vpc", "network-vpc").state.id;
      expect(
        named(
          run,
          "aws:route53/resolverFirewallRuleGroupAssociation:ResolverFirewallRuleGroupAssociation",
          "network-dns",
        ).inputs.vpcId,
      ).toBe(vpcId);
      expect(
        named(run, "aws:route53/resolverFirewallConfig:ResolverFirewallConfig", "network-dns").inputs,
      ).toMatchObject({ resourceId: vpcId, firewallFailOpen: "DISABLED" });
    });

    it("its monthly cost is priced: the domain list and the queries", () => {
      const estimate = estimateRun(run, {
        region: "us-east-1",
        tier: "standard",
        prices: loadPrices("us-east-1"),
        assumptions: loadAssumptions(),
      });
      const text = JSON.stringify(estimate);
      expect(text).toContain("route53.dnsFirewall.query");
      expect(text).toContain("route53.dnsFirewall.domain");
      expect(estimate.notPriced.map((item) => JSON.stringify(item)).join()).not.toContain("resolverFirewall");
      expect(JSON.stringify(estimate.free)).toContain("resolverFirewallRuleGroup");
    });
  });
});

describe("certificate and sign-in keys", () => {
  const problems = (raw: Record<string, unknown>) => validateConfig(raw).problems;
  const arn = (region: string) => `arn:aws:acm:${region}:${ACCOUNT}:certificate/01234567-89ab-cdef-0123-456789abcdef`;

  it("certificateArn needs the domain it covers, in the stack's region", () => {
    expect(problems({ certificateArn: arn("us-east-1") })).toEqual([
      `openemr:certificateArn: "${arn("us-east-1")}" is set without openemr:domain; ` +
        "expected openemr:domain too (the name the certificate covers, which users open)",
    ]);
    expect(problems({ domain: "emr.example.org", certificateArn: arn("eu-west-1") })).toEqual([
      `openemr:certificateArn: "${arn("eu-west-1")}" is in eu-west-1; expected a certificate in openemr:region ` +
        '("us-east-1"): a load balancer presents only its own region\'s',
    ]);
    expect(problems({ domain: "emr.example.org", certificateArn: arn("us-east-1") })).toEqual([]);
    expect(problems({ certificateArn: "arn:aws:iam::123456789012:server-certificate/x" })[0]).toMatch(
      /^openemr:certificateArn: .* is not an ACM certificate ARN/,
    );
  });

  it("oidc needs every endpoint, the client id and the secret; the other types take none of them", () => {
    expect(problems({ authentication: { type: "oidc", issuer: "https://idp.example" } })).toEqual([
      'openemr:authentication: type "oidc" lacks authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId, ' +
        "clientSecret; expected all of issuer, authorizationEndpoint, tokenEndpoint, userInfoEndpoint, clientId, " +
        "clientSecret (the clientSecret set with pulumi config set --secret)",
    ]);
    expect(problems({ authentication: { type: "cognito", clientId: "x" } })).toEqual([
      'openemr:authentication: clientId given with type "cognito"; expected them only with type "oidc"',
    ]);
    expect(problems({ authentication: { type: "oidc", issuer: "http://idp.example" } })[0]).toBe(
      'openemr:authentication/issuer: "http://idp.example" is not an https:// URL'.replace(
        "authentication/issuer",
        "authentication[issuer]",
      ),
    );
  });

  it("a stack file with the OIDC client secret encrypted (pulumi config set --path --secret) validates offline", () => {
    const file = join(mkdtempSync(join(tmpdir(), "front-door-")), "Pulumi.clinic.yaml");
    writeFileSync(
      file,
      [
        "config:",
        "  openemr:domain: emr.example.org",
        "  openemr:authentication:",
        "    type: oidc",
        "    issuer: https://idp.example",
        "    authorizationEndpoint: https://idp.example/authorize",
        "    tokenEndpoint: https://idp.example/token",
        "    userInfoEndpoint: https://idp.example/userinfo",
        "    clientId: openemr",
        "    clientSecret:",
        "      secure: v1:c2VjcmV0:bm90IGRlY3J5cHRlZCBoZXJl",
        "",
      ].join("\n"),
    );
    const { config, problems } = validateConfig(rawConfigFrom(loadStackFile(file)).raw);
    expect(problems).toEqual([]);
    expect(config!.authentication.clientSecret).toBe("[secret]");
  });

  it("no domain: a warning says the certificate is self-signed, for a first trial only", () => {
    expect(validateConfig({}).warnings.join("\n")).toContain("SELF-SIGNED certificate, for a first trial only");
  });
});

describe("the front door in the stack's outputs and the plan", () => {
  it("defaults: self-signed, the whole internet, no sign-in; the plan's text says WARN twice", async () => {
    const run = await planStack({ config: {}, stackName: "clinic" });
    expect(run.outputs).toMatchObject({
      certificateKind: "self-signed",
      allowedCidrs: ["0.0.0.0/0"],
      loadBalancerAuthentication: "none",
    });
    const text = formatFrontDoor(frontDoorFromOutputs(run.outputs)!);
    expect(text.match(/^ {2}WARN/gm)).toHaveLength(2);
    expect(text).toContain("SELF-SIGNED CERTIFICATE, FOR A FIRST TRIAL ONLY");
  });

  it("a domain without a zone: the validation records are an output", async () => {
    const run = await planStack({ config: { "openemr:domain": "emr.example.org" }, stackName: "clinic" });
    expect(run.outputs.certificateKind).toBe("acm-dns-manual");
    expect(run.outputs.certificateValidationRecords).toEqual([
      expect.objectContaining({ type: "CNAME", value: expect.stringMatching(/acm-validations\.aws\.$/) }),
    ]);
  });

  it("cognito sign-in: the user pool id is an output, and the open-internet notice is a NOTE", async () => {
    const run = await planStack({
      config: { "openemr:domain": "emr.example.org", "openemr:authentication": '{"type":"cognito"}' },
      stackName: "clinic",
    });
    expect(run.outputs.userPoolId).toBe(named(run, "aws:cognito/userPool:UserPool", "edge-users").state.id);
    expect(formatFrontDoor(frontDoorFromOutputs(run.outputs)!)).not.toMatch(/WARN {2}clients/);
  });
});
