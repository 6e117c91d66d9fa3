import { beforeAll, describe, expect, it } from "vitest";
import { runOffline, type OfflineRun } from "../../infra/offline/run";
import { hostInstance, named, ofType } from "./helpers";
import { planStack } from "../../infra/plan/plan";
import { Edge, type EdgeArgs } from "../../infra/components/edge";

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
    return { url: edge.url, certificateKind: edge.certificateKind };
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

  it("https listener: TLS 1.2+ policy and the validated ACM certificate", () => {
    const listener = named(run, "aws:lb/listener:Listener", "edge-https").inputs;
    expect([listener.port, listener.protocol, listener.sslPolicy]).toEqual([
      443,
      "HTTPS",
      "ELBSecurityPolicy-TLS13-1-2-2021-06",
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
    expect(run.outputs).toEqual({ url: "https://emr.example.org", certificateKind: "acm-dns-validated" });
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
  it("certificate: self-signed for the domain", async () => {
    const run = await edgeRun({ domain: "emr.example.org" });
    expect(named(run, "tls:index/selfSignedCert:SelfSignedCert", "edge-self-signed").inputs.subject.commonName).toBe(
      "emr.example.org",
    );
    expect(run.outputs.url).toBe("https://emr.example.org");
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
