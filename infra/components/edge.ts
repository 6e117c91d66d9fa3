// The public edge: an internet-facing ALB that only speaks HTTPS (port 80 redirects), its
// certificate, optional sign-in at the load balancer (Cognito or the clinic's OIDC provider), the
// target group that re-encrypts to the host, and a WAF web ACL with logging.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import { configDefault } from "../config-defaults";
import { type AwsConstraint, derivedNameProblem, STACK_NAME } from "../constraint";

/**
 * TLS 1.3 and 1.2 only, AES-GCM ciphers only, every TLS 1.2 suite ECDHE (forward secret), from
 * FIPS 140 validated modules. AWS's table (Application Load Balancer guide, "Security policies",
 * FIPS ciphers by policy) lists for it TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and
 * ECDHE-{ECDSA,RSA}-AES{128-GCM-SHA256,256-GCM-SHA384}. The non-FIPS "-Res-2021-06" adds
 * ChaCha20-Poly1305 under TLS 1.3, which no FIPS or NIST SP 800-52 list approves (HHS's guidance
 * on unsecured PHI names SP 800-52 for data in motion); the "-PQ-2025-09" hybrid post-quantum
 * variants are not among the policies whose cipher lists we could check, so they wait.
 */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04";
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
/**
 * Paths that programs call, which cannot answer a sign-in page: FHIR and the REST API (`/apis/`),
 * OpenEMR's OAuth2 server (`/oauth2/`, where SMART apps get their tokens), discovery documents
 * (`/.well-known/`) and the health endpoints (`/meta/health/`). With authentication at the load
 * balancer they are forwarded without it, by one listener rule ahead of the default action; OpenEMR
 * authenticates every one of them itself (OAuth2 bearer tokens), except discovery and health,
 * which carry no patient data.
 */
export const MACHINE_PATHS = ["/apis/*", "/oauth2/*", "/.well-known/*", "/meta/health/*"];
/** Priority of the listener rule forwarding MACHINE_PATHS without sign-in (lower runs first). */
export const MACHINE_PATHS_PRIORITY = 10;
/** A signed-in browser session at the load balancer lasts a clinic's working day, then signs in again. */
export const AUTH_SESSION_SECONDS = 12 * 3600;
/**
 * How long `pulumi up` waits for ACM to issue a certificate whose validation record the clinic
 * adds at its own DNS provider (`openemr-ops provision` waits as long, printing the record).
 */
export const MANUAL_VALIDATION_WAIT_MINUTES = 45;

/** Sign-in at the load balancer (config `authentication`). */
export type EdgeAuthentication =
  | { type: "none" }
  | { type: "cognito" }
  | {
      type: "oidc";
      issuer: string;
      authorizationEndpoint: string;
      tokenEndpoint: string;
      userInfoEndpoint: string;
      clientId: string;
      clientSecret: pulumi.Input<string>;
    };

/**
 * Where the HTTPS listener's certificate comes from. `acm-existing`: `certificateArn`, given.
 * `acm-dns-validated`: requested from ACM, validated through a record in the Route 53 zone.
 * `acm-dns-manual`: requested from ACM, validated through a record the clinic adds at its DNS
 * provider (the `validationRecords` output). `self-signed`: no domain; browsers warn.
 */
export type CertificateKind = "acm-existing" | "acm-dns-validated" | "acm-dns-manual" | "self-signed";

/** Where the certificate comes from, for the certificate keys of the stack's config. */
export function certificateKindFor(keys: {
  domain?: string;
  hostedZoneId?: string;
  certificateArn?: string;
}): CertificateKind {
  if (!keys.domain) return "self-signed";
  if (keys.certificateArn) return "acm-existing";
  return keys.hostedZoneId ? "acm-dns-validated" : "acm-dns-manual";
}

/** A DNS record ACM asks for before it issues the certificate. */
export interface ValidationRecord {
  name: string;
  type: string;
  value: string;
}

export interface EdgeArgs {
  /** Prefix of the names of the web ACL and its log group (the stack name). */
  namePrefix: string;
  /** VPC of the target group. */
  vpcId: pulumi.Input<string>;
  /** Public subnets the ALB is placed in (at least two zones). */
  publicSubnetIds: pulumi.Input<string>[];
  /** The ALB's security group (443 and 80 from the allowed client ranges only). */
  albSecurityGroupId: pulumi.Input<string>;
  /**
   * The OpenEMR host, registered as the only target (it serves HTTPS on 443 itself). Omitted on
   * `ha`, whose Auto Scaling group registers its hosts itself.
   */
  hostInstanceId?: pulumi.Input<string>;
  /** Bucket (SSE-S3) receiving ALB access logs under `alb/`. */
  accessLogBucket: pulumi.Input<string>;
  /** Customer KMS key ARN (the `logs` key) for the WAF log group. */
  logsKeyArn: pulumi.Input<string>;
  /**
   * Days the WAF log group keeps logs. Defaults to the stack's `logRetentionDays`, the shortest
   * retention the stack allows for an audit record.
   */
  logRetentionDays?: number;
  /**
   * Public host name. With `hostedZoneId` ACM issues a certificate validated through that zone;
   * without it, through a record the clinic adds (see `validationRecords`), unless
   * `certificateArn` names one. Without a domain: the ALB's DNS name and a self-signed certificate.
   */
  domain?: string;
  /** Route 53 public hosted zone holding `domain` (validation and alias records go there). */
  hostedZoneId?: string;
  /** An issued ACM certificate for `domain`, in the stack's region: used as is, none requested. */
  certificateArn?: string;
  /** Sign-in at the load balancer before OpenEMR. Defaults to the stack's `authentication`: none. */
  authentication?: EdgeAuthentication;
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
  /** Where the certificate comes from; `self-signed` makes browsers warn (see below). */
  public readonly certificateKind: CertificateKind;
  /** The records ACM waits for, when the clinic adds them itself (`acm-dns-manual`); else empty. */
  public readonly validationRecords: pulumi.Output<ValidationRecord[]>;
  /** The HTTPS listener: forwards to the host, after sign-in when `authentication` is on. */
  public readonly httpsListener: aws.lb.Listener;
  /** The Cognito user pool staff sign in with (`authentication: {type: cognito}`). */
  public readonly userPool?: aws.cognito.UserPool;
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
    if (args.hostInstanceId)
      new aws.lb.TargetGroupAttachment(
        `${name}-host`,
        { targetGroupArn: targetGroup.arn, targetId: args.hostInstanceId, port: 443 },
        child,
      );

    let certificateArn: pulumi.Output<string>;
    let hostName: pulumi.Output<string>;
    this.validationRecords = pulumi.output([]);
    this.certificateKind = certificateKindFor(args);
    if (this.certificateKind === "acm-existing") {
      certificateArn = pulumi.output(args.certificateArn!);
      hostName = pulumi.output(args.domain!);
    } else if (this.certificateKind === "acm-dns-validated") {
      certificateArn = this.dnsValidatedCertificate(name, args.domain!, args.hostedZoneId!);
      hostName = pulumi.output(args.domain!);
    } else if (this.certificateKind === "acm-dns-manual") {
      const manual = this.manuallyValidatedCertificate(name, args.domain!);
      certificateArn = manual.certificateArn;
      this.validationRecords = manual.records;
      hostName = pulumi.output(args.domain!);
    } else {
      // Without a domain there is no name ACM could validate, so the listener gets a self-signed
      // certificate imported into ACM. The traffic is encrypted, but browsers do not trust the
      // issuer: they show a full-page warning ("Your connection is not private",
      // NET::ERR_CERT_AUTHORITY_INVALID, or SEC_ERROR_UNKNOWN_ISSUER) that every user must click
      // through, and cannot tell the real site from an impostor. Fit for a first trial, not for
      // clinical use: the plan, `provision` and the audit (alb-trusted-certificate) say so.
      hostName = alb.dnsName;
      certificateArn = this.selfSignedCertificate(name, hostName);
    }
    if (args.domain && args.hostedZoneId)
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
    const url = pulumi.interpolate`https://${hostName}`;

    const authentication = args.authentication ?? (configDefault("authentication") as EdgeAuthentication);
    const { action: signIn, userPool } = this.signIn(name, args, authentication, url);
    this.userPool = userPool;
    const forward = { type: "forward", targetGroupArn: targetGroup.arn };

    this.httpsListener = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: alb.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn,
        defaultActions: signIn
          ? [
              { ...signIn, order: 1 },
              { ...forward, order: 2 },
            ]
          : [forward],
      },
      child,
    );
    if (signIn)
      new aws.lb.ListenerRule(
        `${name}-machine-paths`,
        {
          listenerArn: this.httpsListener.arn,
          priority: MACHINE_PATHS_PRIORITY,
          conditions: [{ pathPattern: { values: MACHINE_PATHS } }],
          actions: [forward],
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
    this.url = url;
    this.webAclArn = webAcl.arn;
    this.registerOutputs({
      url: this.url,
      albArn: alb.arn,
      certificateArn,
      certificateKind: this.certificateKind,
      validationRecords: this.validationRecords,
      authentication: authentication.type,
      webAclArn: this.webAclArn,
    });
  }

  /**
   * An ACM certificate for `domain` validated through a record the clinic adds at its own DNS
   * provider: the records are an output as soon as ACM states them, and the validation resource
   * waits (MANUAL_VALIDATION_WAIT_MINUTES) for the issue, so the listener never gets a pending one.
   */
  private manuallyValidatedCertificate(
    name: string,
    domain: string,
  ): { certificateArn: pulumi.Output<string>; records: pulumi.Output<ValidationRecord[]> } {
    const child = { parent: this };
    const certificate = new aws.acm.Certificate(
      `${name}-certificate`,
      { domainName: domain, validationMethod: "DNS" },
      child,
    );
    const records = certificate.domainValidationOptions.apply((options) =>
      options.map((option) => ({
        name: option.resourceRecordName ?? "",
        type: option.resourceRecordType ?? "",
        value: option.resourceRecordValue ?? "",
      })),
    );
    const validation = new aws.acm.CertificateValidation(
      `${name}-certificate`,
      { certificateArn: certificate.arn },
      { ...child, customTimeouts: { create: `${MANUAL_VALIDATION_WAIT_MINUTES}m` } },
    );
    return { certificateArn: validation.certificateArn, records };
  }

  /**
   * The listener action that signs a browser in before it reaches OpenEMR (none when
   * `authentication` is none), and the Cognito user pool it uses. The load balancer calls the
   * identity provider's token and user-info endpoints itself, so its group may then open HTTPS out.
   */
  private signIn(
    name: string,
    args: EdgeArgs,
    authentication: EdgeAuthentication,
    url: pulumi.Output<string>,
  ): { action?: aws.types.input.lb.ListenerDefaultAction; userPool?: aws.cognito.UserPool } {
    if (authentication.type === "none") return {};
    const child = { parent: this };
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-to-identity-provider`,
      {
        securityGroupId: args.albSecurityGroupId,
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
        description: "HTTPS to the identity provider's token and user-info endpoints (sign-in at the load balancer)",
      },
      child,
    );
    const common = { onUnauthenticatedRequest: "authenticate", scope: "openid", sessionTimeout: AUTH_SESSION_SECONDS };
    if (authentication.type === "oidc")
      return {
        action: {
          type: "authenticate-oidc",
          authenticateOidc: {
            ...common,
            issuer: authentication.issuer,
            authorizationEndpoint: authentication.authorizationEndpoint,
            tokenEndpoint: authentication.tokenEndpoint,
            userInfoEndpoint: authentication.userInfoEndpoint,
            clientId: authentication.clientId,
            clientSecret: pulumi.secret(authentication.clientSecret),
          },
        },
      };

    // Staff are added by an administrator (no self sign-up), every sign-in asks for a TOTP code,
    // and Cognito's threat protection (the Plus feature plan) blocks sign-ins it judges risky.
    const pool = new aws.cognito.UserPool(
      `${name}-users`,
      {
        name: `${args.namePrefix}-openemr`,
        usernameAttributes: ["email"],
        autoVerifiedAttributes: ["email"],
        adminCreateUserConfig: { allowAdminCreateUserOnly: true },
        mfaConfiguration: "ON",
        softwareTokenMfaConfiguration: { enabled: true },
        passwordPolicy: {
          minimumLength: 14,
          requireLowercase: true,
          requireUppercase: true,
          requireNumbers: true,
          requireSymbols: true,
          temporaryPasswordValidityDays: 3,
        },
        accountRecoverySetting: { recoveryMechanisms: [{ name: "admin_only", priority: 1 }] },
        userPoolTier: "PLUS",
        userPoolAddOns: { advancedSecurityMode: "ENFORCED" },
        deletionProtection: "ACTIVE",
      },
      child,
    );
    const client = new aws.cognito.UserPoolClient(
      `${name}-users`,
      {
        userPoolId: pool.id,
        generateSecret: true,
        allowedOauthFlowsUserPoolClient: true,
        allowedOauthFlows: ["code"],
        allowedOauthScopes: ["openid", "email"],
        supportedIdentityProviders: ["COGNITO"],
        // The load balancer's own callback path (AWS: "Authenticate users using an Application Load Balancer").
        callbackUrls: [pulumi.interpolate`${url}/oauth2/idpresponse`],
        preventUserExistenceErrors: "ENABLED",
      },
      child,
    );
    // Hosted sign-in domains are unique within a region: the stack's name and a random suffix. A
    // prefix takes lowercase letters, digits and hyphens only, and none of "aws", "amazon", "cognito".
    const prefix = args.namePrefix
      .toLowerCase()
      .replace(/aws|amazon|cognito/g, "")
      .replace(/[^a-z0-9-]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40);
    const suffix = new random.RandomString(`${name}-users-domain`, { length: 8, special: false, upper: false }, child);
    const domain = new aws.cognito.UserPoolDomain(
      `${name}-users`,
      { userPoolId: pool.id, domain: pulumi.interpolate`${prefix || "clinic"}-openemr-${suffix.result}` },
      child,
    );
    return {
      action: {
        type: "authenticate-cognito",
        authenticateCognito: {
          ...common,
          userPoolArn: pool.arn,
          userPoolClientId: client.id,
          userPoolDomain: domain.domain,
        },
      },
      userPool: pool,
    };
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
    keys: ["domain", "certificateArn"],
    rule:
      "The first domain name of an ACM certificate (its Common Name) is at most 64 characters, periods included; " +
      "the certificate the stack requests for `domain` (when `certificateArn` names none) names it first.",
    doc: "https://docs.aws.amazon.com/acm/latest/APIReference/API_RequestCertificate.html",
    problems: ({ config }) =>
      config.domain && !config.certificateArn && config.domain.length > ACM_FIRST_NAME_MAX
        ? [
            `openemr:domain: ${JSON.stringify(config.domain)} is ${config.domain.length} characters long; ` +
              `expected at most ${ACM_FIRST_NAME_MAX} (the certificate's Common Name, which ACM limits)`,
          ]
        : [],
  },
];
