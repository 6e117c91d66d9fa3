import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { hostInstance, named, ofType } from "./helpers";
import { planStack } from "../../infra/plan/plan";
import {
  Edge,
  MACHINE_PATHS,
  MANUAL_VALIDATION_WAIT_MINUTES,
  type EdgeArgs,
  type EdgeAuthentication,
} from "../../infra/components/edge";

const LOGS_KEY = "arn:aws:kms:us-east-1:111122223333:key/test-logs-key";

const baseArgs: EdgeArgs = {
  namePrefix: "clinic",
  vpcId: "vpc-0123",
  publicSubnetIds: ["subnet-a", "subnet-b"],
  albSecurityGroupId: "sg-alb",
  hostInstanceId: "i-0host",
  accessLogBucket: "clinic-access-logs",
  logsKeyArn: LOGS_KEY,
  logRetentionDays: 400,
  retainLogsOnDestroy: true,
};

function edgeRun(args: Partial<EdgeArgs>): Promise<OfflineRun> {
  return runOffline(() => {
    const edge = new Edge("edge", { ...baseArgs, ...args });
    return { url: edge.url, certificateKind: edge.certificateKind, validationRecords: edge.validationRecords };
  });
}

describe("Edge with a domain and hosted zone", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await edgeRun({ domain: "emr.example.org", hostedZoneId: "Z0123456789ABC" });
  });

  it("alb: internet-facing, in the public subnets, behind the alb security group", () => {
    const alb = named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs;
    expect(alb.internal).toBe(false);
    expect(alb.subnets).toEqual(["subnet-a", "subnet-b"]);
    expect(alb.securityGroups).toEqual(["sg-alb"]);
  });

  it("alb: invalid header fields dropped", () => {
    expect(named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs.dropInvalidHeaderFields).toBe(true);
  });

  it("alb: deletion protection on", () => {
    expect(named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs.enableDeletionProtection).toBe(true);
  });

  it("alb: access logs to the log bucket under alb/", () => {
    expect(named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs.accessLogs).toEqual({
      bucket: "clinic-access-logs",
      prefix: "alb",
      enabled: true,
    });
  });

  it("alb: idle timeout outlasts PHP's 60 s execution limit", () => {
    expect(named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs.idleTimeout).toBeGreaterThan(60);
  });

  it("target group: HTTPS 443 to the host (re-encrypted)", () => {
    const group = named(run, "aws:lb/targetGroup:TargetGroup", "edge-host").inputs;
    expect([group.protocol, group.port, group.targetType]).toEqual(["HTTPS", 443, "instance"]);
    expect(named(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment", "edge-host").inputs).toMatchObject({
      targetId: "i-0host",
      port: 443,
    });
  });

  it("target group: health check on /meta/health/livez over HTTPS, matcher 200", () => {
    expect(named(run, "aws:lb/targetGroup:TargetGroup", "edge-host").inputs.healthCheck).toMatchObject({
      protocol: "HTTPS",
      path: "/meta/health/livez",
      matcher: "200",
    });
  });

  it("https listener: TLS 1.3/1.2 AES-GCM-only FIPS policy and the validated ACM certificate", () => {
    const listener = named(run, "aws:lb/listener:Listener", "edge-https").inputs;
    expect([listener.port, listener.protocol, listener.sslPolicy]).toEqual([
      443,
      "HTTPS",
      "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    ]);
    expect(listener.certificateArn).toBe(
      named(run, "aws:acm/certificateValidation:CertificateValidation", "edge-certificate").inputs.certificateArn,
    );
    expect(listener.defaultActions).toEqual([expect.objectContaining({ type: "forward" })]);
  });

  it("port 80 listener: only a 301 redirect to HTTPS 443", () => {
    const listener = named(run, "aws:lb/listener:Listener", "edge-http-redirect").inputs;
    expect([listener.port, listener.protocol]).toEqual([80, "HTTP"]);
    expect(listener.defaultActions).toEqual([
      { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
    ]);
  });

  it("no listener forwards plain HTTP", () => {
    const forwarding = ofType(run, "aws:lb/listener:Listener").filter((listener) =>
      listener.inputs.defaultActions.some((action: any) => action.type === "forward"),
    );
    expect(forwarding.map((listener) => listener.inputs.protocol)).toEqual(["HTTPS"]);
  });

  it("certificate: ACM, DNS-validated through a record in the zone", () => {
    expect(named(run, "aws:acm/certificate:Certificate", "edge-certificate").inputs).toMatchObject({
      domainName: "emr.example.org",
      validationMethod: "DNS",
    });
    const record = named(run, "aws:route53/record:Record", "edge-certificate-validation").inputs;
    expect(record).toMatchObject({ zoneId: "Z0123456789ABC", type: "CNAME" });
    expect(record.records[0]).toMatch(/acm-validations\.aws\.$/);
    expect(
      named(run, "aws:acm/certificateValidation:CertificateValidation", "edge-certificate").inputs
        .validationRecordFqdns,
    ).toEqual([record.name.replace(/\.$/, "")]);
    expect(ofType(run, "tls:index/selfSignedCert:SelfSignedCert")).toEqual([]);
  });

  it("dns: alias A record for the domain to the ALB", () => {
    const alias = named(run, "aws:route53/record:Record", "edge-alias").inputs;
    expect(alias).toMatchObject({ zoneId: "Z0123456789ABC", name: "emr.example.org", type: "A" });
    expect(alias.aliases[0].name).toMatch(/\.elb\.amazonaws\.com$/);
  });

  it("url: https on the domain", () => {
    expect(run.outputs).toEqual({
      url: "https://emr.example.org",
      certificateKind: "acm-dns-validated",
      validationRecords: [],
    });
  });

  it("waf: REGIONAL web ACL associated with the ALB", () => {
    const acl = named(run, "aws:wafv2/webAcl:WebAcl", "edge-waf");
    expect(acl.inputs.scope).toBe("REGIONAL");
    const association = named(run, "aws:wafv2/webAclAssociation:WebAclAssociation", "edge-waf").inputs;
    expect(association.webAclArn).toBe(acl.state.arn);
    expect(association.resourceArn).toBe(named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").state.arn);
  });

  it("waf: AWS managed rule groups common, known bad inputs, SQLi and PHP", () => {
    const groups = named(run, "aws:wafv2/webAcl:WebAcl", "edge-waf")
      .inputs.rules.map((rule: any) => rule.statement.managedRuleGroupStatement)
      .filter(Boolean);
    expect(groups.map((group: any) => `${group.vendorName}/${group.name}`)).toEqual([
      "AWS/AWSManagedRulesCommonRuleSet",
      "AWS/AWSManagedRulesKnownBadInputsRuleSet",
      "AWS/AWSManagedRulesSQLiRuleSet",
      "AWS/AWSManagedRulesPHPRuleSet",
    ]);
  });

  it("waf: managed groups enforce (none override), only SizeRestrictions_BODY counts", () => {
    const rules = named(run, "aws:wafv2/webAcl:WebAcl", "edge-waf").inputs.rules.filter(
      (rule: any) => rule.statement.managedRuleGroupStatement,
    );
    expect(rules.map((rule: any) => rule.overrideAction)).toEqual(rules.map(() => ({ none: {} })));
    const overrides = rules.flatMap((rule: any) => rule.statement.managedRuleGroupStatement.ruleActionOverrides ?? []);
    expect(overrides).toEqual([{ name: "SizeRestrictions_BODY", actionToUse: { count: {} } }]);
  });

  it("waf: per-IP rate-based rule blocks", () => {
    const rate = named(run, "aws:wafv2/webAcl:WebAcl", "edge-waf").inputs.rules.find(
      (rule: any) => rule.statement.rateBasedStatement,
    );
    expect(rate.action).toEqual({ block: {} });
    expect(rate.statement.rateBasedStatement.aggregateKeyType).toBe("IP");
    expect(rate.statement.rateBasedStatement.limit).toBeGreaterThan(0);
  });

  it("waf logging: to aws-waf-logs-<stack>, encrypted with the logs key, retained per config", () => {
    const group = named(run, "aws:cloudwatch/logGroup:LogGroup", "edge-waf-logs");
    expect(group.inputs).toMatchObject({ name: "aws-waf-logs-clinic", kmsKeyId: LOGS_KEY, retentionInDays: 400 });
    const logging = named(
      run,
      "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
      "edge-waf-logging",
    ).inputs;
    expect(logging.logDestinationConfigs).toEqual([group.state.arn]);
    expect(logging.resourceArn).toBe(named(run, "aws:wafv2/webAcl:WebAcl", "edge-waf").state.arn);
  });

  it("waf log group: kept on destroy when asked", () => {
    expect(named(run, "aws:cloudwatch/logGroup:LogGroup", "edge-waf-logs").retainOnDelete).toBe(true);
  });

  it("waf logging: Authorization and Cookie headers redacted", () => {
    const logging = named(
      run,
      "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
      "edge-waf-logging",
    ).inputs;
    expect(logging.redactedFields).toEqual([
      { singleHeader: { name: "authorization" } },
      { singleHeader: { name: "cookie" } },
    ]);
  });
});

describe("Edge without a domain", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await edgeRun({});
  });

  it("certificate: self-signed for the ALB's DNS name, imported into ACM", () => {
    const dnsName = named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").state.dnsName;
    const cert = named(run, "tls:index/selfSignedCert:SelfSignedCert", "edge-self-signed").inputs;
    expect(cert.subject.commonName).toBe(dnsName);
    expect(cert.dnsNames).toEqual([dnsName]);
    expect(cert.allowedUses).toContain("server_auth");
    const imported = named(run, "aws:acm/certificate:Certificate", "edge-certificate");
    expect(imported.inputs.certificateBody).toContain("BEGIN CERTIFICATE");
    expect(imported.inputs.validationMethod).toBeUndefined();
    expect(named(run, "aws:lb/listener:Listener", "edge-https").inputs.certificateArn).toBe(imported.state.arn);
  });

  it("certificate: the imported private key is a secret", () => {
    expect(named(run, "aws:acm/certificate:Certificate", "edge-certificate").secretPaths).toContain("privateKey");
  });

  it("certificate: renewed by the next update in its last 30 days", () => {
    const cert = named(run, "tls:index/selfSignedCert:SelfSignedCert", "edge-self-signed").inputs;
    expect(cert.earlyRenewalHours).toBe(30 * 24);
    expect(cert.validityPeriodHours).toBeGreaterThan(cert.earlyRenewalHours);
  });

  it("waf log group: not kept when data is not", async () => {
    const scratch = await edgeRun({ retainLogsOnDestroy: false });
    expect(named(scratch, "aws:cloudwatch/logGroup:LogGroup", "edge-waf-logs").retainOnDelete).toBe(false);
  });

  it("no DNS records without a zone", () => {
    expect(ofType(run, "aws:route53/record:Record")).toEqual([]);
  });

  it("url: https on the ALB's DNS name, marked self-signed", () => {
    expect(run.outputs.url).toBe(`https://${named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").state.dnsName}`);
    expect(run.outputs.certificateKind).toBe("self-signed");
  });
});

describe("Edge with a domain but no zone", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await edgeRun({ domain: "emr.example.org" });
  });

  it("certificate: requested from ACM with DNS validation, no self-signed one", () => {
    expect(named(run, "aws:acm/certificate:Certificate", "edge-certificate").inputs).toMatchObject({
      domainName: "emr.example.org",
      validationMethod: "DNS",
    });
    expect(ofType(run, "tls:index/selfSignedCert:SelfSignedCert")).toEqual([]);
    expect(run.outputs.certificateKind).toBe("acm-dns-manual");
  });

  it("validation: the records ACM asks for are an output, and no record is written anywhere", () => {
    expect(run.outputs.validationRecords).toEqual([
      {
        name: expect.stringContaining("emr.example.org"),
        type: "CNAME",
        value: expect.stringMatching(/acm-validations\.aws\.$/),
      },
    ]);
    expect(ofType(run, "aws:route53/record:Record")).toEqual([]);
  });

  it("listener: presents the certificate only once ACM has issued it (the validation waits, bounded)", () => {
    const validation = named(run, "aws:acm/certificateValidation:CertificateValidation", "edge-certificate");
    expect(validation.inputs.validationRecordFqdns).toBeUndefined();
    expect(validation.customTimeouts?.create).toBe(`${MANUAL_VALIDATION_WAIT_MINUTES}m`);
    expect(named(run, "aws:lb/listener:Listener", "edge-https").inputs.certificateArn).toBe(
      validation.inputs.certificateArn,
    );
    expect(run.outputs.url).toBe("https://emr.example.org");
  });
});

describe("Edge with an existing certificate", () => {
  const existing = "arn:aws:acm:us-east-1:111122223333:certificate/01234567-89ab-cdef-0123-456789abcdef";

  it("listener: presents it; the stack requests, imports and validates none", async () => {
    const run = await edgeRun({ domain: "emr.example.org", certificateArn: existing });
    expect(named(run, "aws:lb/listener:Listener", "edge-https").inputs.certificateArn).toBe(existing);
    expect(ofType(run, "aws:acm/certificate:Certificate")).toEqual([]);
    expect(ofType(run, "aws:acm/certificateValidation:CertificateValidation")).toEqual([]);
    expect(ofType(run, "aws:route53/record:Record")).toEqual([]);
    expect(run.outputs).toMatchObject({ url: "https://emr.example.org", certificateKind: "acm-existing" });
  });

  it("with a zone: the alias record still points the domain at the ALB", async () => {
    const run = await edgeRun({ domain: "emr.example.org", certificateArn: existing, hostedZoneId: "Z0123456789ABC" });
    expect(named(run, "aws:route53/record:Record", "edge-alias").inputs).toMatchObject({ type: "A" });
    expect(ofType(run, "aws:acm/certificate:Certificate")).toEqual([]);
  });
});

const oidc: EdgeAuthentication = {
  type: "oidc",
  issuer: "https://login.clinic.example",
  authorizationEndpoint: "https://login.clinic.example/authorize",
  tokenEndpoint: "https://login.clinic.example/token",
  userInfoEndpoint: "https://login.clinic.example/userinfo",
  clientId: "openemr",
  clientSecret: "s3cret-client-value",
};

const cognito: EdgeAuthentication = { type: "cognito" };

describe.each([
  ["cognito", cognito, "authenticate-cognito"],
  ["oidc", oidc, "authenticate-oidc"],
])("Edge with sign-in at the load balancer (%s)", (_kind, authentication, actionType) => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await edgeRun({ domain: "emr.example.org", hostedZoneId: "Z0123456789ABC", authentication });
  });

  it("default action: sign in first, then forward to the host", () => {
    const actions = named(run, "aws:lb/listener:Listener", "edge-https").inputs.defaultActions;
    expect(actions.map((action: any) => [action.order, action.type])).toEqual([
      [1, actionType],
      [2, "forward"],
    ]);
    const signIn = actions[0].authenticateCognito ?? actions[0].authenticateOidc;
    expect(signIn).toMatchObject({ onUnauthenticatedRequest: "authenticate", scope: "openid" });
  });

  it("listener rule: the paths machines call are forwarded without sign-in, ahead of the default", () => {
    const rules = ofType(run, "aws:lb/listenerRule:ListenerRule");
    expect(rules).toHaveLength(1);
    const rule = rules[0].inputs;
    expect(rule.listenerArn).toBe(named(run, "aws:lb/listener:Listener", "edge-https").state.arn);
    expect(rule.priority).toBe(10);
    expect(rule.conditions).toEqual([
      { pathPattern: { values: ["/apis/*", "/oauth2/*", "/.well-known/*", "/meta/health/*"] } },
    ]);
    expect(rule.actions).toEqual([
      { type: "forward", targetGroupArn: named(run, "aws:lb/targetGroup:TargetGroup", "edge-host").state.arn },
    ]);
    expect(MACHINE_PATHS).toHaveLength(4);
  });

  it("the health check path is among the machine paths", () => {
    const rule = ofType(run, "aws:lb/listenerRule:ListenerRule")[0].inputs;
    const healthPath = named(run, "aws:lb/targetGroup:TargetGroup", "edge-host").inputs.healthCheck.path;
    const matches = (pattern: string) =>
      new RegExp(`^${pattern.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`).test(healthPath);
    expect(rule.conditions[0].pathPattern.values.some(matches)).toBe(true);
  });

  it("alb: may reach the identity provider over HTTPS (the ALB calls its token endpoint)", () => {
    expect(
      named(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule", "edge-alb-to-identity-provider").inputs,
    ).toMatchObject({ securityGroupId: "sg-alb", ipProtocol: "tcp", fromPort: 443, toPort: 443 });
  });
});

describe("Cognito sign-in", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await edgeRun({
      domain: "emr.example.org",
      hostedZoneId: "Z0123456789ABC",
      authentication: { type: "cognito" },
    });
  });

  it("user pool: MFA required, admin-created users only, threat protection enforced", () => {
    const pool = named(run, "aws:cognito/userPool:UserPool", "edge-users").inputs;
    expect(pool).toMatchObject({
      mfaConfiguration: "ON",
      softwareTokenMfaConfiguration: { enabled: true },
      adminCreateUserConfig: { allowAdminCreateUserOnly: true },
      userPoolTier: "PLUS",
      userPoolAddOns: { advancedSecurityMode: "ENFORCED" },
      deletionProtection: "ACTIVE",
    });
    expect(pool.passwordPolicy.minimumLength).toBeGreaterThanOrEqual(14);
  });

  it("app client: code flow with a secret, calling back to the ALB's /oauth2/idpresponse", () => {
    const client = named(run, "aws:cognito/userPoolClient:UserPoolClient", "edge-users").inputs;
    expect(client).toMatchObject({
      generateSecret: true,
      allowedOauthFlows: ["code"],
      allowedOauthFlowsUserPoolClient: true,
    });
    expect(client.callbackUrls).toEqual(["https://emr.example.org/oauth2/idpresponse"]);
  });

  it("listener: signs in against the pool, its client and its hosted domain", () => {
    const signIn = named(run, "aws:lb/listener:Listener", "edge-https").inputs.defaultActions[0].authenticateCognito;
    expect(signIn.userPoolArn).toBe(named(run, "aws:cognito/userPool:UserPool", "edge-users").state.arn);
    expect(signIn.userPoolClientId).toBe(
      named(run, "aws:cognito/userPoolClient:UserPoolClient", "edge-users").state.id,
    );
    expect(signIn.userPoolDomain).toMatch(/^clinic-openemr-[a-z0-9]{8}$/);
  });
});

describe("Cognito sign-in domain", () => {
  it("is a valid prefix whatever the stack's name: lowercase, no reserved word, no other character", async () => {
    const run = await edgeRun({ namePrefix: "AWS_Clinic.Prod", authentication: cognito });
    expect(named(run, "aws:cognito/userPoolDomain:UserPoolDomain", "edge-users").inputs.domain).toMatch(
      /^clinic-prod-openemr-[a-z0-9]{8}$/,
    );
  });
});

describe("OIDC sign-in", () => {
  it("the client secret is a secret of the listener", async () => {
    const run = await edgeRun({ authentication: oidc });
    const listener = named(run, "aws:lb/listener:Listener", "edge-https");
    expect(listener.inputs.defaultActions[0].authenticateOidc).toMatchObject({
      issuer: "https://login.clinic.example",
      clientId: "openemr",
    });
    // The secret makes the whole action list secret in the engine's eyes (state, logs, diffs).
    expect(listener.secretPaths.some((path) => path.startsWith("defaultActions"))).toBe(true);
  });
});

describe("Edge without sign-in", () => {
  it("forwards everything, with no listener rule and no egress from the ALB", async () => {
    const run = await edgeRun({});
    expect(named(run, "aws:lb/listener:Listener", "edge-https").inputs.defaultActions).toEqual([
      expect.objectContaining({ type: "forward" }),
    ]);
    expect(ofType(run, "aws:lb/listenerRule:ListenerRule")).toEqual([]);
    expect(ofType(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([]);
  });
});

describe("Edge in the stack", () => {
  let run: OfflineRun;
  beforeAll(async () => {
    run = await planStack({ config: { "openemr:tier": "standard" }, stackName: "clinic-prod" });
  });

  it("alb: in the network's public subnets, behind the alb security group", () => {
    const alb = named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs;
    const publicSubnets = ofType(run, "aws:ec2/subnet:Subnet").filter(
      (subnet) => subnet.inputs.tags?.Tier === "public",
    );
    expect(publicSubnets.length).toBeGreaterThanOrEqual(2);
    expect(alb.subnets.sort()).toEqual(publicSubnets.map((subnet) => subnet.state.id).sort());
    expect(alb.securityGroups).toEqual([
      named(run, "aws:ec2/securityGroup:SecurityGroup", "security-groups-alb").state.id,
    ]);
  });

  it("alb: access logs into the backup storage's SSE-S3 log bucket", () => {
    const logBucket = named(run, "aws:s3/bucket:Bucket", "backup-storage-access-logs").state.bucket;
    expect(named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").inputs.accessLogs.bucket).toBe(logBucket);
  });

  it("target: the OpenEMR host on 443", () => {
    expect(named(run, "aws:lb/targetGroupAttachment:TargetGroupAttachment", "edge-host").inputs).toMatchObject({
      targetId: hostInstance(run).state.id,
      port: 443,
    });
  });

  it("waf logs: encrypted with the stack's logs key", () => {
    expect(named(run, "aws:cloudwatch/logGroup:LogGroup", "edge-waf-logs").inputs).toMatchObject({
      name: "aws-waf-logs-clinic-prod",
      kmsKeyId: named(run, "aws:kms/key:Key", "keys-logs").state.arn,
    });
  });

  it("outputs: the url", () => {
    expect(run.outputs.url).toBe(`https://${named(run, "aws:lb/loadBalancer:LoadBalancer", "edge-alb").state.dnsName}`);
  });
});
