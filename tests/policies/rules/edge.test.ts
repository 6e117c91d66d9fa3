// Edge rules on real load balancer, listener and WAF declarations: the compliant edge (HTTPS
// with an ACM certificate and a TLS 1.2 policy, HTTP redirect, WAF with managed groups and
// logging) and an edge breaking each rule.
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { describe, expect, it } from "vitest";
import {
  albAccessLogs,
  albOpenWithoutAuth,
  albTlsGcmOnly,
  albTrustedCertificate,
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

/** An internet-facing ALB, its group open to `cidr` on 443, and one HTTPS listener. */
function frontDoor(options: { cidr: string; sslPolicy?: string; selfSigned?: boolean; signIn?: boolean }): () => void {
  return () => {
    const group = new aws.ec2.SecurityGroup("alb-group", { vpcId: "vpc-1", description: "alb" });
    new aws.vpc.SecurityGroupIngressRule("alb-https", {
      securityGroupId: group.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: options.cidr,
    });
    const alb = new aws.lb.LoadBalancer("door", { subnets: ["subnet-a", "subnet-b"], securityGroups: [group.id] });
    const targets = new aws.lb.TargetGroup("host", { port: 443, protocol: "HTTPS", vpcId: "vpc-1" });
    let certificateArn: pulumi.Input<string>;
    if (options.selfSigned) {
      const key = new tls.PrivateKey("key", { algorithm: "RSA", rsaBits: 2048 });
      const cert = new tls.SelfSignedCert("self-signed", {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: "door.example" },
        validityPeriodHours: 24,
        allowedUses: ["server_auth"],
      });
      certificateArn = new aws.acm.Certificate("imported", {
        privateKey: key.privateKeyPem,
        certificateBody: cert.certPem,
      }).arn;
    } else {
      certificateArn = new aws.acm.Certificate("issued", { domainName: "emr.example.org", validationMethod: "DNS" })
        .arn;
    }
    const forward = { type: "forward", targetGroupArn: targets.arn };
    new aws.lb.Listener("door-https", {
      loadBalancerArn: alb.arn,
      port: 443,
      protocol: "HTTPS",
      sslPolicy: options.sslPolicy ?? "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
      certificateArn,
      defaultActions: options.signIn
        ? [
            {
              type: "authenticate-oidc",
              order: 1,
              authenticateOidc: {
                issuer: "https://idp.example",
                authorizationEndpoint: "https://idp.example/authorize",
                tokenEndpoint: "https://idp.example/token",
                userInfoEndpoint: "https://idp.example/userinfo",
                clientId: "openemr",
                clientSecret: "secret",
              },
            },
            { ...forward, order: 2 },
          ]
        : [forward],
    });
  };
}

describe("front door rules", () => {
  it("alb-tls-gcm-only: the FIPS AES-GCM policies pass; ChaCha20 or CBC policies fail", async () => {
    expectPasses(albTlsGcmOnly, await declared(frontDoor({ cidr: "203.0.113.0/24" })));
    expectPasses(
      albTlsGcmOnly,
      await declared(frontDoor({ cidr: "203.0.113.0/24", sslPolicy: "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04" })),
    );
    for (const sslPolicy of ["ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-2-2021-06"])
      expectFails(
        albTlsGcmOnly,
        await declared(frontDoor({ cidr: "203.0.113.0/24", sslPolicy })),
        "door-https",
        "sslPolicy",
      );
  });

  it("alb-trusted-certificate: an ACM-issued certificate passes, the imported self-signed one fails", async () => {
    expectPasses(albTrustedCertificate, await declared(frontDoor({ cidr: "203.0.113.0/24" })));
    const message = expectFails(
      albTrustedCertificate,
      await declared(frontDoor({ cidr: "203.0.113.0/24", selfSigned: true })),
      "door-https",
      "certificateArn",
    );
    expect(message).toContain('"self-signed"');
  });

  it("alb-open-without-auth: the whole internet without sign-in fails; listed ranges or sign-in pass", async () => {
    expectFails(albOpenWithoutAuth, await declared(frontDoor({ cidr: "0.0.0.0/0" })), "door", "0.0.0.0/0");
    expectPasses(albOpenWithoutAuth, await declared(frontDoor({ cidr: "203.0.113.0/24" })));
    const signedIn = expectPasses(albOpenWithoutAuth, await declared(frontDoor({ cidr: "0.0.0.0/0", signIn: true })));
    expect(signedIn.find((result) => result.status === "pass")?.outcome).toMatchObject({
      evidence: { signIn: ["door-https"] },
    });
  });

  it("the front door rules are advisory where a first deploy may choose them, mandatory for the cipher policy", () => {
    expect([albTlsGcmOnly, albTrustedCertificate, albOpenWithoutAuth].map((rule) => rule.enforcement)).toEqual([
      "mandatory",
      "advisory",
      "advisory",
    ]);
  });
});
