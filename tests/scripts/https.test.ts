// The HTTPS checks against real servers on 127.0.0.1 with certificates made by openssl.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageFindings, probe, readyzFindings } from "../../scripts/health/https";
import type { Finding } from "../../scripts/lib/checks";
import { INSECURE_HEADERS, makeCertificates, startOpenEmr, type Certificates, type FakeOpenEmr } from "./support/tls";

let certs: Certificates;
let ca: string;
const servers: FakeOpenEmr[] = [];

beforeAll(() => {
  certs = makeCertificates();
  ca = readFileSync(certs.caFile, "utf8");
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function serve(options: Parameters<typeof startOpenEmr>[0]): Promise<FakeOpenEmr> {
  const server = await startOpenEmr(options);
  servers.push(server);
  return server;
}

async function pageOf(server: FakeOpenEmr): Promise<Record<string, Finding>> {
  const findings = pageFindings(await probe(server.url, { extraCa: ca, timeoutMs: 5000 }));
  return Object.fromEntries(findings.map((finding) => [finding.check, finding]));
}

describe("the public page over TLS", () => {
  it("a trusted certificate with the security headers is all OK", async () => {
    const page = await pageOf(await serve(certs.valid));
    expect(Object.values(page).map((finding) => [finding.check, finding.status])).toEqual([
      ["https.status", "OK"],
      ["https.tls", "OK"],
      ["https.headers", "OK"],
      ["https.version-leak", "OK"],
    ]);
    expect(page["https.tls"].evidence).toMatchObject({ protocol: "TLSv1.3", verification: "trusted" });
    expect(page["https.tls"].evidence.daysLeft).toBeGreaterThanOrEqual(88);
    expect(page["https.status"].evidence.status).toBe(302);
  });

  it("a certificate expiring in 5 days is CRIT", async () => {
    const page = await pageOf(await serve(certs.expiring));
    expect(page["https.tls"].status).toBe("CRIT");
    expect(page["https.tls"].summary).toMatch(/^certificate expires in [45] days$/);
  });

  it("an expired certificate is CRIT", async () => {
    const page = await pageOf(await serve(certs.expired));
    expect(page["https.tls"].status).toBe("CRIT");
    expect(page["https.tls"].summary).toMatch(/^certificate expired (0 days|1 day) ago$/);
    expect(page["https.tls"].evidence.verification).toBe("CERT_HAS_EXPIRED");
  });

  it("a self-signed certificate is a WARN that names it", async () => {
    const page = await pageOf(await serve(certs.selfSigned));
    expect(page["https.tls"]).toMatchObject({ status: "WARN", summary: "self-signed certificate" });
    expect(page["https.tls"].evidence.verification).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
  });

  it("a certificate from an unknown CA is CRIT", async () => {
    const findings = pageFindings(await probe((await serve(certs.valid)).url, { timeoutMs: 5000 }));
    const tls = findings.find((finding) => finding.check === "https.tls")!;
    expect(tls.status).toBe("CRIT");
    expect(tls.summary).toBe("certificate not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE)");
  });

  it("a server offering only TLS 1.1 is CRIT", async () => {
    const page = await pageOf(await serve({ ...certs.valid, tls11Only: true }));
    expect(page["https.tls"]).toMatchObject({ status: "CRIT", summary: "TLSv1.1 negotiated" });
  });

  it("missing security headers and version banners are WARNs listing each one", async () => {
    const page = await pageOf(await serve({ ...certs.valid, headers: INSECURE_HEADERS }));
    expect(page["https.headers"].status).toBe("WARN");
    expect(page["https.headers"].evidence.missing).toEqual([
      "Strict-Transport-Security",
      "X-Content-Type-Options: nosniff",
      "X-Frame-Options (or CSP frame-ancestors)",
      "Referrer-Policy",
    ]);
    expect(page["https.version-leak"]).toMatchObject({
      status: "WARN",
      summary: "version disclosed: Server: Apache/2.4.62 (Debian), X-Powered-By: PHP/8.4.11",
    });
  });

  it("a short HSTS max-age is not enough", async () => {
    const page = await pageOf(
      await serve({
        ...certs.valid,
        headers: {
          "Strict-Transport-Security": "max-age=300",
          "X-Content-Type-Options": "nosniff",
          "Content-Security-Policy": "frame-ancestors 'self'",
          "Referrer-Policy": "no-referrer",
        },
      }),
    );
    expect(page["https.headers"].evidence.missing).toEqual(["Strict-Transport-Security max-age >= 15552000 (is 300)"]);
  });

  it("a refused connection is an error naming the URL", async () => {
    const server = await serve(certs.valid);
    await server.close();
    await expect(probe(server.url, { timeoutMs: 2000 })).rejects.toThrow(`${server.url}: ECONNREFUSED`);
  });
});

describe("OpenEMR readiness (/meta/health/readyz answers 200 either way)", () => {
  it("reads each sub-check of a healthy answer", async () => {
    const server = await serve(certs.valid);
    const findings = readyzFindings(await probe(`${server.url}meta/health/readyz`, { extraCa: ca, timeoutMs: 5000 }));
    expect(findings.map((finding) => [finding.check, finding.status])).toEqual([
      ["readyz", "OK"],
      ["readyz.database", "OK"],
      ["readyz.filesystem", "OK"],
      ["readyz.session", "OK"],
      ["readyz.oauth_keys", "OK"],
      ["readyz.cache", "OK"],
    ]);
  });

  it("a failed sub-check is CRIT although the answer is HTTP 200", async () => {
    const server = await serve(certs.valid);
    server.readyz = { status: "ready", checks: { database: false, filesystem: true } };
    const result = await probe(`${server.url}meta/health/readyz`, { extraCa: ca, timeoutMs: 5000 });
    expect(result.statusCode).toBe(200);
    const findings = readyzFindings(result);
    expect(findings.find((finding) => finding.check === "readyz.database")).toMatchObject({
      status: "CRIT",
      summary: "database check failed",
    });
    expect(findings.find((finding) => finding.check === "readyz.filesystem")?.status).toBe("OK");
  });

  it("setup_required is CRIT and points at the bootstrap log", async () => {
    const server = await serve(certs.valid);
    server.readyz = { status: "setup_required" };
    const [finding] = readyzFindings(await probe(`${server.url}meta/health/readyz`, { extraCa: ca, timeoutMs: 5000 }));
    expect(finding).toMatchObject({ check: "readyz", status: "CRIT", summary: 'OpenEMR reports "setup_required"' });
    expect(finding.action).toContain("openemr-bootstrap");
  });
});
