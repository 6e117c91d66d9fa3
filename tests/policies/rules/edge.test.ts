// Edge rules on real load balancer, listener and WAF declarations: the compliant edge (HTTPS
// with an ACM certificate and a TLS 1.2 policy, HTTP redirect, WAF with managed groups and
// logging) and an edge breaking each rule.
import * as aws from "@pulumi/aws";
import { beforeAll, describe, it } from "vitest";
import type { RuleResource } from "../../../policies/rules/types";
import {
  albAccessLogs,
  albAcmCert,
  albDeletionProtection,
  albDropInvalidHeaders,
  albHttpsRedirect,
  albTls12Policy,
  albWaf,
  wafLogging,
  wafManagedRules,
} from "../../../policies/rules/edge";
import { declared, expectFails, expectPasses } from "./harness";

const managedGroup = (
  name: string,
  priority: number,
  overrideAction: aws.types.input.wafv2.WebAclRuleOverrideAction = { none: {} },
) => ({
  name,
  priority,
  overrideAction,
  statement: { managedRuleGroupStatement: { vendorName: "AWS", name } },
  visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
});

function edge(options: { secure: boolean }): () => void {
  return () => {
    const secure = options.secure;
    const certificate = new aws.acm.Certificate("certificate", {
      domainName: "emr.example.org",
      validationMethod: "DNS",
    });
    const alb = new aws.lb.LoadBalancer(secure ? "alb" : "weak-alb", {
      subnets: ["subnet-a", "subnet-b"],
      dropInvalidHeaderFields: secure,
      enableDeletionProtection: secure,
      accessLogs: secure ? { enabled: true, bucket: "access-logs", prefix: "alb" } : undefined,
    });
    const targets = new aws.lb.TargetGroup("host", { port: 443, protocol: "HTTPS", vpcId: "vpc-1" });
    new aws.lb.Listener(secure ? "https" : "weak-https", {
      loadBalancerArn: alb.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: secure ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : "ELBSecurityPolicy-2016-08",
      certificateArn: secure ? certificate.arn : "arn:aws:iam::111122223333:server-certificate/legacy",
      defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
    });
    new aws.lb.Listener(secure ? "http-redirect" : "http-forward", {
      loadBalancerArn: alb.arn,
      port: 80,
      protocol: "HTTP",
      defaultActions: secure
        ? [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }]
        : [{ type: "forward", targetGroupArn: targets.arn }],
    });
    const acl = new aws.wafv2.WebAcl(secure ? "waf" : "weak-waf", {
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: "waf", sampledRequestsEnabled: true },
      rules: secure
        ? [managedGroup("AWSManagedRulesCommonRuleSet", 1), managedGroup("AWSManagedRulesKnownBadInputsRuleSet", 2)]
        : [managedGroup("AWSManagedRulesCommonRuleSet", 1, { count: {} })],
    });
    if (secure) {
      new aws.wafv2.WebAclAssociation("waf-alb", { resourceArn: alb.arn, webAclArn: acl.arn });
      new aws.wafv2.WebAclLoggingConfiguration("waf-logging", {
        resourceArn: acl.arn,
        logDestinationConfigs: ["arn:aws:logs:us-east-1:111122223333:log-group:aws-waf-logs-openemr"],
      });
    }
  };
}

describe("edge rules", () => {
  let good: RuleResource[];
  let bad: RuleResource[];
  let countingOnly: RuleResource[];
  beforeAll(async () => {
    good = await declared(edge({ secure: true }));
    bad = await declared(edge({ secure: false }));
    countingOnly = await declared(() => {
      new aws.wafv2.WebAcl("counting-waf", {
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        visibilityConfig: { cloudwatchMetricsEnabled: true, metricName: "waf", sampledRequestsEnabled: true },
        rules: [
          managedGroup("AWSManagedRulesCommonRuleSet", 1),
          managedGroup("AWSManagedRulesKnownBadInputsRuleSet", 2, { count: {} }),
        ],
      });
    });
  });

  it("alb-https-redirect", () => {
    expectPasses(albHttpsRedirect, good);
    expectFails(albHttpsRedirect, bad, "http-forward", "defaultActions[0].type");
  });

  it("alb-tls12-policy", () => {
    expectPasses(albTls12Policy, good);
    expectFails(albTls12Policy, bad, "weak-https", "sslPolicy");
  });

  it("alb-acm-cert", () => {
    expectPasses(albAcmCert, good);
    expectFails(albAcmCert, bad, "weak-https", "certificateArn");
  });

  it("alb-drop-invalid-headers", () => {
    expectPasses(albDropInvalidHeaders, good);
    expectFails(albDropInvalidHeaders, bad, "weak-alb", "dropInvalidHeaderFields");
  });

  it("alb-access-logs", () => {
    expectPasses(albAccessLogs, good);
    expectFails(albAccessLogs, bad, "weak-alb", "accessLogs.enabled");
  });

  it("alb-deletion-protection", () => {
    expectPasses(albDeletionProtection, good);
    expectFails(albDeletionProtection, bad, "weak-alb", "enableDeletionProtection");
  });

  it("alb-waf", () => {
    expectPasses(albWaf, good);
    expectFails(albWaf, bad, "weak-alb", "resourceArn");
  });

  it("waf-logging", () => {
    expectPasses(wafLogging, good);
    expectFails(wafLogging, bad, "weak-waf", "resourceArn");
  });

  it("waf-managed-rules: both groups, blocking", () => {
    expectPasses(wafManagedRules, good);
    expectFails(wafManagedRules, bad, "weak-waf", "managedRuleGroupStatement.name");
    expectFails(wafManagedRules, countingOnly, "counting-waf", "rules[1].overrideAction");
  });
});
