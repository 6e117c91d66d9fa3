// What a browser would see at the public URL: status, TLS version, certificate, security
// headers, version leaks and response time; and OpenEMR's readiness JSON, read per sub-check
// because /meta/health/readyz answers 200 even when a check fails.
import * as https from "node:https";
import * as tls from "node:tls";
import type { IncomingHttpHeaders } from "node:http";
import type { Finding, Status } from "../lib/checks";
import { worst } from "../lib/checks";
import { OpsError } from "../lib/errors";

export interface ProbeResult {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
  protocol: string;
  authorized: boolean;
  authorizationError?: string;
  certificate: { subject: string; issuer: string; validTo: Date };
  elapsedMs: number;
}

export interface ProbeOptions {
  /** Extra CA certificates (PEM) to trust besides Node's roots. */
  extraCa?: string;
  timeoutMs: number;
}

/**
 * One GET over TLS. Verification is evaluated rather than enforced, and old protocols are
 * allowed on the client side, so an untrusted certificate or TLS 1.1 becomes a finding
 * instead of a failed connection.
 */
export function probe(url: string, options: ProbeOptions): Promise<ProbeResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const request = https.get(url, {
      agent: false,
      rejectUnauthorized: false,
      minVersion: "TLSv1",
      ciphers: "DEFAULT@SECLEVEL=0",
      ca: options.extraCa ? [...tls.rootCertificates, options.extraCa] : undefined,
      timeout: options.timeoutMs,
      headers: { "user-agent": "openemr-ops health" },
    });
    request.on("timeout", () =>
      request.destroy(new Error(`no answer from ${url} within ${options.timeoutMs / 1000}s`)),
    );
    request.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new OpsError(
          `${url}: ${error.code ?? ""} ${error.message}`.replace(/\s+/g, " ").trim(),
          "the site does not answer: check its DNS name, the load balancer's target health and the host checks",
        ),
      ),
    );
    request.on("response", (response) => {
      const socket = response.socket as tls.TLSSocket;
      const peer = socket.getPeerCertificate();
      const protocol = socket.getProtocol() ?? "unknown";
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          statusCode: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          protocol,
          authorized: socket.authorized,
          authorizationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
          certificate: {
            subject: peer.subject?.CN ?? "",
            issuer: peer.issuer?.CN ?? "",
            validTo: new Date(peer.valid_to),
          },
          elapsedMs: Date.now() - started,
        }),
      );
    });
  });
}

export const CERT_WARN_DAYS = 30;
export const CERT_CRIT_DAYS = 7;
export const SLOW_RESPONSE_MS = 3000;
/** HSTS shorter than 180 days is not taken as a commitment to HTTPS. */
export const HSTS_MIN_SECONDS = 15_552_000;

const SELF_SIGNED = new Set(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN"]);

/** Findings for the public page: status and time, TLS and certificate, headers, leaks. */
export function pageFindings(result: ProbeResult, now = new Date()): Finding[] {
  return [statusFinding(result), tlsFinding(result, now), headersFinding(result.headers), leakFinding(result.headers)];
}

function statusFinding(result: ProbeResult): Finding {
  const evidence = { status: result.statusCode, responseMs: result.elapsedMs };
  if (result.statusCode >= 500)
    return {
      check: "https.status",
      status: "CRIT",
      summary: `HTTP ${result.statusCode}`,
      evidence,
      action: "the host answers with a server error: read `openemr-ops logs --log apache-error` and `--log php-fpm`",
    };
  if (result.statusCode >= 400)
    return {
      check: "https.status",
      status: "WARN",
      summary: `HTTP ${result.statusCode}`,
      evidence,
      action: "the public page is refused: check the WAF and the vhost",
    };
  if (result.elapsedMs > SLOW_RESPONSE_MS)
    return {
      check: "https.status",
      status: "WARN",
      summary: `HTTP ${result.statusCode} in ${result.elapsedMs} ms (slow)`,
      evidence,
      action: "look at the host's CPU and memory and the database's load on the dashboard",
    };
  return {
    check: "https.status",
    status: "OK",
    summary: `HTTP ${result.statusCode} in ${result.elapsedMs} ms`,
    evidence,
  };
}

function tlsFinding(result: ProbeResult, now: Date): Finding {
  const msLeft = result.certificate.validTo.getTime() - now.getTime();
  const daysLeft = Math.floor(msLeft / 86_400_000);
  const evidence = {
    protocol: result.protocol,
    daysLeft,
    validTo: result.certificate.validTo.toISOString(),
    subject: result.certificate.subject,
    issuer: result.certificate.issuer,
    verification: result.authorizationError ?? "trusted",
  };
  const problems: { status: Status; text: string; action: string }[] = [];
  if (!["TLSv1.2", "TLSv1.3"].includes(result.protocol))
    problems.push({
      status: "CRIT",
      text: `${result.protocol} negotiated`,
      action: "only TLS 1.2 and later may be offered: set the load balancer's TLS 1.2+ security policy",
    });
  if (msLeft < 0)
    problems.push({
      status: "CRIT",
      text: `certificate expired ${days(Math.floor(-msLeft / 86_400_000))} ago`,
      action: "renew the certificate now (ACM renews automatically only while its DNS validation record exists)",
    });
  else if (daysLeft < CERT_CRIT_DAYS)
    problems.push({
      status: "CRIT",
      text: `certificate expires in ${days(daysLeft)}`,
      action: "renew the certificate now; check the ACM validation record",
    });
  else if (daysLeft < CERT_WARN_DAYS)
    problems.push({
      status: "WARN",
      text: `certificate expires in ${days(daysLeft)}`,
      action:
        "ACM renews 60 days ahead: a certificate this close to expiry is not renewing; check its validation record",
    });
  if (result.authorizationError && SELF_SIGNED.has(result.authorizationError)) {
    problems.push({
      status: "WARN",
      text: "self-signed certificate",
      action:
        "expected only on a stack without a domain; set `domain` and `hostedZoneId` for a trusted certificate, " +
        "or pass --ca-file with this certificate",
    });
  } else if (result.authorizationError && result.authorizationError !== "CERT_HAS_EXPIRED") {
    problems.push({
      status: "CRIT",
      text: `certificate not trusted (${result.authorizationError})`,
      action: "browsers will refuse this site: fix the certificate chain and name",
    });
  }
  if (problems.length === 0)
    return {
      check: "https.tls",
      status: "OK",
      summary: `${result.protocol}, certificate valid ${daysLeft} more days`,
      evidence,
    };
  return {
    check: "https.tls",
    status: worst(problems.map((problem) => problem.status)),
    summary: problems.map((problem) => problem.text).join("; "),
    evidence,
    action: problems.map((problem) => problem.action).join("; "),
  };
}

function days(count: number): string {
  return `${count} day${count === 1 ? "" : "s"}`;
}

function headersFinding(headers: IncomingHttpHeaders): Finding {
  const hsts = String(headers["strict-transport-security"] ?? "");
  const maxAge = Number(/max-age=(\d+)/i.exec(hsts)?.[1] ?? 0);
  const csp = String(headers["content-security-policy"] ?? "");
  const missing: string[] = [];
  if (!hsts) missing.push("Strict-Transport-Security");
  else if (maxAge < HSTS_MIN_SECONDS)
    missing.push(`Strict-Transport-Security max-age >= ${HSTS_MIN_SECONDS} (is ${maxAge})`);
  if (String(headers["x-content-type-options"] ?? "").toLowerCase() !== "nosniff")
    missing.push("X-Content-Type-Options: nosniff");
  if (!headers["x-frame-options"] && !/frame-ancestors/i.test(csp))
    missing.push("X-Frame-Options (or CSP frame-ancestors)");
  if (!headers["referrer-policy"]) missing.push("Referrer-Policy");
  const evidence = { hsts: hsts || undefined, missing };
  if (missing.length === 0)
    return { check: "https.headers", status: "OK", summary: "HSTS and security headers present", evidence };
  return {
    check: "https.headers",
    status: "WARN",
    summary: `missing: ${missing.join(", ")}`,
    evidence,
    action:
      "the Apache vhost sets these headers: " +
      "re-run the bootstrap through SSM (openemr-ops provision re-runs it) or check the vhost",
  };
}

function leakFinding(headers: IncomingHttpHeaders): Finding {
  const server = headers.server ? String(headers.server) : undefined;
  const poweredBy = headers["x-powered-by"] ? String(headers["x-powered-by"]) : undefined;
  const leaks = [
    server && /\d/.test(server) ? `Server: ${server}` : undefined,
    poweredBy ? `X-Powered-By: ${poweredBy}` : undefined,
  ].filter((leak): leak is string => leak !== undefined);
  const evidence = { server, poweredBy };
  if (leaks.length === 0)
    return { check: "https.version-leak", status: "OK", summary: "no software versions in headers", evidence };
  return {
    check: "https.version-leak",
    status: "WARN",
    summary: `version disclosed: ${leaks.join(", ")}`,
    evidence,
    action: "set `ServerTokens Prod` in Apache and `expose_php = Off` in php.ini",
  };
}

/** Findings for /meta/health/readyz: its status, then one finding per sub-check. */
export function readyzFindings(result: ProbeResult): Finding[] {
  if (result.statusCode === 403 || result.statusCode === 404) {
    return [
      {
        check: "readyz",
        status: "WARN",
        summary: `readyz not reachable from outside (HTTP ${result.statusCode})`,
        evidence: { status: result.statusCode },
        action:
          "OpenEMR restricts /meta/health/ by default; " +
          "allow the load balancer's health path in the vhost, or read it on the host",
      },
    ];
  }
  let document: { status?: unknown; checks?: Record<string, unknown> };
  try {
    document = JSON.parse(result.body);
  } catch {
    return [
      {
        check: "readyz",
        status: "CRIT",
        summary: `readyz answered HTTP ${result.statusCode} without JSON`,
        evidence: { status: result.statusCode, body: result.body.slice(0, 120) },
        action: "OpenEMR is not serving its health endpoint: read `openemr-ops logs --log php-fpm`",
      },
    ];
  }
  const findings: Finding[] = [];
  const ready = document.status === "ready";
  findings.push(
    ready
      ? { check: "readyz", status: "OK", summary: "OpenEMR reports ready", evidence: { status: document.status } }
      : {
          check: "readyz",
          status: "CRIT",
          summary: `OpenEMR reports ${JSON.stringify(document.status)}`,
          evidence: { status: document.status },
          action:
            document.status === "setup_required"
              ? "OpenEMR is not installed: read the bootstrap log (openemr-ops logs --log openemr-bootstrap)"
              : "read the sub-checks and the PHP log",
        },
  );
  for (const [name, value] of Object.entries(document.checks ?? {})) {
    const healthy = subCheckHealthy(value);
    findings.push(
      healthy
        ? { check: `readyz.${name}`, status: "OK", summary: `${name} healthy`, evidence: { value } }
        : {
            check: `readyz.${name}`,
            status: "CRIT",
            summary: `${name} check failed`,
            evidence: { value },
            action: `OpenEMR's ${name} check fails: see the host checks and \`openemr-ops logs --log php-fpm\``,
          },
    );
  }
  return findings;
}

/** A sub-check is `true` in OpenEMR 8.x; object forms with `healthy` or `status` are read too. */
function subCheckHealthy(value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return ["ok", "healthy", "pass", "up"].includes(value.toLowerCase());
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (typeof record.healthy === "boolean") return record.healthy;
    if (typeof record.status === "string") return subCheckHealthy(record.status);
  }
  return false;
}
