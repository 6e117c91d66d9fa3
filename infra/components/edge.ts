// The public edge: an internet-facing ALB that only speaks HTTPS (port 80 redirects), its
// certificate, the target group that re-encrypts to the host, and a WAF web ACL with logging.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as tls from "@pulumi/tls";
import { configDefault } from "../config-defaults";
import { type AwsConstraint, derivedNameProblem, STACK_NAME } from "../constraint";

/** TLS 1.3 and 1.2 only, forward-secret ciphers (AWS's recommended policy for ALB HTTPS listeners). */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";
/** OpenEMR's liveness endpoint (since 8.0); it answers 200 with JSON while PHP serves requests. */
export const HEALTH_CHECK_PATH = "/meta/health/livez";
/**
 * Requests one client IP may make in 5 minutes before the WAF blocks it. Generous on purpose:
 * a clinic's staff usually share one public IP, and an OpenEMR page pulls dozens of assets.
 */
export const RATE_LIMIT_PER_IP = 5000;
/**
 * Seconds the ALB keeps an idle connection. Above PHP's max_execution_time (60 s), so a long
 * request (a document upload being stored, a report) is not cut before PHP answers.
 */
const IDLE_TIMEOUT_SECONDS = 120;

export interface EdgeArgs {
  /** Prefix of the names of the web ACL and its log group (the stack name). */
  namePrefix: string;
  /** VPC of the target group. */
  vpcId: pulumi.Input<string>;
  /** Public subnets the ALB is placed in (at least two zones). */
  publicSubnetIds: pulumi.Input<string>[];
  /** The ALB's security group (443 and 80 from the allowed client ranges only). */
  albSecurityGroupId: pulumi.Input<string>;
  /** The OpenEMR host, registered as the only target (it serves HTTPS on 443 itself). */
  hostInstanceId: pulumi.Input<string>;
  /** Bucket (SSE-S3) receiving ALB access logs under `alb/`. */
  accessLogBucket: pulumi.Input<string>;
  /** Customer KMS key ARN (the `logs` key) for the WAF log group. */
  logsKeyArn: pulumi.Input<string>;
  /**
   * Days the WAF log group keeps logs. Defaults to the stack's `logRetentionDays`, the shortest
   * retention the stack allows for an audit record.
   */
  logRetentionDays?: number;
  /** Public host name; with `hostedZoneId` ACM issues a DNS-validated certificate for it. */
  domain?: string;
  /** Route 53 public hosted zone holding `domain`. */
  hostedZoneId?: string;
  /**
   * Keep the WAF log group (a record of who reached the site) on `pulumi destroy`. Defaults to the
   * stack's `retainDataOnDestroy`, which keeps it: the record outlives the site.
   */
  retainLogsOnDestroy?: boolean;
  /**
   * Run the AWS SQL database and PHP application managed rule groups besides the rate limit and the
   * common and known-bad-inputs groups (the ones the waf-managed-rules policy requires). Defaults to
   * the stack's `wafSqliAndPhpRules`, true; each group is one more billed WAF rule.
   */
  wafSqliAndPhpRules?: boolean;
}

export class Edge extends pulumi.ComponentResource {
  public readonly loadBalancer: aws.lb.LoadBalancer;
  public readonly targetGroup: aws.lb.TargetGroup;
  /** ARN of the certificate the HTTPS listener presents (issued by, or imported into, ACM). */
  public readonly certificateArn: pulumi.Output<string>;
  /** `acm-dns-validated` or `self-signed` (browsers warn: see below). */
  public readonly certificateKind: "acm-dns-validated" | "self-signed";
  /** The address users open: `https://<domain>` or `https://<ALB DNS name>`. */
  public readonly url: pulumi.Output<string>;
  public readonly webAclArn: pulumi.Output<string>;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("openemr-aws:edge:Edge", name, {}, opts);
    const child = { parent: this };

    const alb = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        loadBalancerType: "application",
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [args.albSecurityGroupId],
        dropInvalidHeaderFields: true,
        enableDeletionProtection: true,
        idleTimeout: IDLE_TIMEOUT_SECONDS,
        accessLogs: { bucket: args.accessLogBucket, prefix: "alb", enabled: true },
      },
      child,
    );

    const targetGroup = new aws.lb.TargetGroup(
      `${name}-host`,
      {
        vpcId: args.vpcId,
        targetType: "instance",
        // The host terminates TLS itself; the ALB re-encrypts so PHI is never in clear text
        // inside the VPC either.
        protocol: "HTTPS",
        port: 443,
        deregistrationDelay: 30,
        healthCheck: {
          protocol: "HTTPS",
          path: HEALTH_CHECK_PATH,
          matcher: "200",
          interval: 30,
          timeout: 10,
          healthyThreshold: 2,
          unhealthyThreshold: 3,
        },
      },
      child,
    );
    new aws.lb.TargetGroupAttachment(
      `${name}-host`,
      { targetGroupArn: targetGroup.arn, targetId: args.hostInstanceId, port: 443 },
      child,
    );

    let certificateArn: pulumi.Output<string>;
    let hostName: pulumi.Output<string>;
    if (args.domain && args.hostedZoneId) {
      this.certificateKind = "acm-dns-validated";
      certificateArn = this.dnsValidatedCertificate(name, args.domain, args.hostedZoneId);
      new aws.route53.Record(
        `${name}-alias`,
        {
          zoneId: args.hostedZoneId,
          name: args.domain,
          type: "A",
          aliases: [{ name: alb.dnsName, zoneId: alb.zoneId, evaluateTargetHealth: true }],
        },
        child,
      );
      hostName = pulumi.output(args.domain);
    } else {
      // Without a domain and zone there is no name ACM could validate, so the listener gets a
      // self-signed certificate imported into ACM. The traffic is encrypted, but browsers do not
      // trust the issuer: they show a full-page warning ("Your connection is not private",
      // NET::ERR_CERT_AUTHORITY_INVALID, or SEC_ERROR_UNKNOWN_ISSUER) that every user must click
      // through, and cannot tell the real site from an impostor. Fit for a first look, not for
      // clinical use: set `domain` and `hostedZoneId`.
      this.certificateKind = "self-signed";
      hostName = args.domain ? pulumi.output(args.domain) : alb.dnsName;
      certificateArn = this.selfSignedCertificate(name, hostName);
    }

    new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: alb.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn,
        defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      },
      child,
    );
    new aws.lb.Listener(
      `${name}-http-redirect`,
      {
        loadBalancerArn: alb.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
      },
      child,
    );

    const webAcl = this.webAcl(name, args);
    new aws.wafv2.WebAclAssociation(`${name}-waf`, { resourceArn: alb.arn, webAclArn: webAcl.arn }, child);

    this.loadBalancer = alb;
    this.targetGroup = targetGroup;
    this.certificateArn = certificateArn;
    this.url = pulumi.interpolate`https://${hostName}`;
    this.webAclArn = webAcl.arn;
    this.registerOutputs({
      url: this.url,
      albArn: alb.arn,
      certificateArn,
      certificateKind: this.certificateKind,
      webAclArn: this.webAclArn,
    });
  }

  /** ACM certificate for `domain`, validated through a DNS record in the given zone. */
  private dnsValidatedCertificate(name: string, domain: string, hostedZoneId: string): pulumi.Output<string> {
    const child = { parent: this };
    const certificate = new aws.acm.Certificate(
      `${name}-certificate`,
      { domainName: domain, validationMethod: "DNS" },
      child,
    );
    // One name, so ACM asks for exactly one validation record.
    const validation = certificate.domainValidationOptions[0];
    const record = new aws.route53.Record(
      `${name}-certificate-validation`,
      {
        zoneId: hostedZoneId,
        name: validation.resourceRecordName,
        type: validation.resourceRecordType,
        records: [validation.resourceRecordValue],
        ttl: 300,
        allowOverwrite: true,
      },
      child,
    );
    return new aws.acm.CertificateValidation(
      `${name}-certificate`,
      { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
      child,
    ).certificateArn;
  }

  /**
   * A self-signed certificate for `hostName`, imported into ACM. Valid one year; a `pulumi up`
   * in its last 30 days replaces it (the ACM expiry alarm fires at 30 days to prompt that run).
   */
  private selfSignedCertificate(name: string, hostName: pulumi.Output<string>): pulumi.Output<string> {
    const child = { parent: this };
    const key = new tls.PrivateKey(`${name}-self-signed`, { algorithm: "RSA", rsaBits: 2048 }, child);
    const certificate = new tls.SelfSignedCert(
      `${name}-self-signed`,
      {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName: hostName, organization: "OpenEMR (self-signed)" },
        dnsNames: [hostName],
        validityPeriodHours: 365 * 24,
        earlyRenewalHours: 30 * 24,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      },
      child,
    );
    return new aws.acm.Certificate(
      `${name}-certificate`,
      { privateKey: key.privateKeyPem, certificateBody: certificate.certPem },
      child,
    ).arn;
  }

  /** REGIONAL web ACL: a per-IP rate limit and AWS managed rule groups, logged to CloudWatch. */
  private webAcl(name: string, args: EdgeArgs): aws.wafv2.WebAcl {
    const child = { parent: this };
    const visibility = (metricName: string) => ({
      cloudwatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managedGroup = (
      priority: number,
      groupName: string,
      ruleActionOverrides?: aws.types.input.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverride[],
    ) => ({
      name: groupName,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: "AWS", name: groupName, ruleActionOverrides } },
      visibilityConfig: visibility(groupName),
    });

    const webAcl = new aws.wafv2.WebAcl(
      `${name}-waf`,
      {
        name: webAclName(args.namePrefix),
        description: "OpenEMR load balancer: rate limit and AWS managed rules",
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        visibilityConfig: visibility(webAclName(args.namePrefix)),
        rules: [
          {
            name: "rate-limit-per-ip",
            priority: 0,
            action: { block: {} },
            statement: { rateBasedStatement: { limit: RATE_LIMIT_PER_IP, aggregateKeyType: "IP" } },
            visibilityConfig: visibility("rate-limit-per-ip"),
          },
          // SizeRestrictions_BODY blocks any request body over 8 KB, which is every document
          // upload and many long clinical notes; it only counts here. PHP's upload limit bounds
          // the body size instead.
          managedGroup(10, "AWSManagedRulesCommonRuleSet", [
            { name: "SizeRestrictions_BODY", actionToUse: { count: {} } },
          ]),
          managedGroup(20, "AWSManagedRulesKnownBadInputsRuleSet"),
          ...((args.wafSqliAndPhpRules ?? configDefault("wafSqliAndPhpRules"))
            ? [managedGroup(30, "AWSManagedRulesSQLiRuleSet"), managedGroup(40, "AWSManagedRulesPHPRuleSet")]
            : []),
        ],
      },
      child,
    );

    // WAF only logs to log groups whose name starts with `aws-waf-logs-`.
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-waf-logs`,
      {
        name: `aws-waf-logs-${args.namePrefix}`,
        kmsKeyId: args.logsKeyArn,
        retentionInDays: args.logRetentionDays ?? configDefault("logRetentionDays"),
      },
      { ...child, retainOnDelete: args.retainLogsOnDestroy ?? configDefault("retainDataOnDestroy") },
    );
    new aws.wafv2.WebAclLoggingConfiguration(
      `${name}-waf-logging`,
      {
        resourceArn: webAcl.arn,
        logDestinationConfigs: [logGroup.arn],
        // Session cookies and bearer tokens would let a log reader act as the user.
        redactedFields: [{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "cookie" } }],
      },
      child,
    );
    return webAcl;
  }
}

/** The web ACL's name (and its metrics' name). */
export function webAclName(namePrefix: string): string {
  return `${namePrefix}-openemr`;
}

/** The longest name ACM puts in a certificate's Common Name (RFC 5280's limit). */
const ACM_FIRST_NAME_MAX = 64;

export const edgeConstraints: AwsConstraint[] = [
  {
    id: "waf-web-acl-name",
    keys: [STACK_NAME],
    rule: "A WAF web ACL name is 1 to 128 letters, digits, `_` and `-`; the stack's is `<stack>-openemr`.",
    doc: "https://docs.aws.amazon.com/waf/latest/APIReference/API_CreateWebACL.html",
    problems: ({ stackName }) => {
      const name = webAclName(stackName);
      return derivedNameProblem(
        stackName,
        "WAF web ACL name",
        name,
        /^[\w-]{1,128}$/.test(name),
        "a stack name of letters, digits, '-' and '_' only (a web ACL name allows no other character)",
      );
    },
  },
  {
    id: "acm-domain-length",
    keys: ["domain"],
    rule:
      "The first domain name of an ACM certificate (its Common Name) is at most 64 characters, periods included; " +
      "the certificate the stack requests or makes for `domain` names it first.",
    doc: "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html",
    problems: ({ config }) =>
      config.domain && config.domain.length > ACM_FIRST_NAME_MAX
        ? [
            `openemr:domain: ${JSON.stringify(config.domain)} is ${config.domain.length} characters long; ` +
              `expected at most ${ACM_FIRST_NAME_MAX} (the certificate's Common Name, which ACM limits)`,
          ]
        : [],
  },
];
