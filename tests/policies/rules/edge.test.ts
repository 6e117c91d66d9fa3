// Edge rules on real load balancer, listener and WAF declarations: the compliant edge (HTTPS
// with an ACM certificate and a TLS 1.2 policy, HTTP redirect, WAF with managed groups and
// logging) and an edge breaking each rule.
import * as aws from "@pulumi/aws";
import { describe, it } from "vitest";
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

const secureEdge = edge({ secure: true });
/** The same edge with every setting weakened: each rule finds its failure in it. */
const weakEdge = edge({ secure: false });

describe("edge rules", () => {
  it("alb-https-redirect", async () => {
    expectPasses(albHttpsRedirect, await declared(secureEdge));
    expectFails(albHttpsRedirect, await declared(weakEdge), "http-forward", "defaultActions[0].type");
  });

  it("alb-tls12-policy", async () => {
    expectPasses(albTls12Policy, await declared(secureEdge));
    expectFails(albTls12Policy, await declared(weakEdge), "weak-https", "sslPolicy");
  });

  it("alb-acm-cert", async () => {
    expectPasses(albAcmCert, await declared(secureEdge));
    expectFails(albAcmCert, await declared(weakEdge), "weak-https", "certificateArn");
  });

  it("alb-drop-invalid-headers", async () => {
    expectPasses(albDropInvalidHeaders, await declared(secureEdge));
    expectFails(albDropInvalidHeaders, await declared(weakEdge), "weak-alb", "dropInvalidHeaderFields");
  });

  it("alb-access-logs", async () => {
    expectPasses(albAccessLogs, await declared(secureEdge));
    expectFails(albAccessLogs, await declared(weakEdge), "weak-alb", "accessLogs.enabled");
  });

  it("alb-deletion-protection", async () => {
    expectPasses(albDeletionProtection, await declared(secureEdge));
    expectFails(albDeletionProtection, await declared(weakEdge), "weak-alb", "enableDeletionProtection");
  });

  it("alb-waf", async () => {
    expectPasses(albWaf, await declared(secureEdge));
    expectFails(albWaf, await declared(weakEdge), "weak-alb", "resourceArn");
  });

  it("waf-logging", async () => {
    expectPasses(wafLogging, await declared(secureEdge));
    expectFails(wafLogging, await declared(weakEdge), "weak-waf", "resourceArn");
  });

  it("waf-managed-rules: both groups, blocking", async () => {
    expectPasses(wafManagedRules, await declared(secureEdge));
    expectFails(wafManagedRules, await declared(weakEdge), "weak-waf", "managedRuleGroupStatement.name");
    const countingOnly = await declared(() => {
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
    expectFails(wafManagedRules, countingOnly, "counting-waf", "rules[1].overrideAction");
  });
});
