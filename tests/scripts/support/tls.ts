// Certificates made by openssl for the HTTPS checks, and local HTTPS servers on 127.0.0.1
// that answer like OpenEMR behind its hardened vhost (or not).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Certificates {
  dir: string;
  caFile: string;
  /** PEM key and certificate pairs. */
  valid: { key: string; cert: string };
  expiring: { key: string; cert: string };
  expired: { key: string; cert: string };
  selfSigned: { key: string; cert: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/** A test CA and leaf certificates for 127.0.0.1 valid 90 days, 5 days, expired, and self-signed. */
export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), "ops-tls-"));
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-subj",
    "/CN=openemr-ops test CA",
    "-days",
    "30",
  ]);
  const leaf = (name: string, days: string) => {
    openssl(dir, [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      "/CN=127.0.0.1",
    ]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      days,
      "-extfile",
      "san.ext",
    ]);
    return {
      key: readFileSync(join(dir, `${name}.key`), "utf8"),
      cert: readFileSync(join(dir, `${name}.pem`), "utf8"),
    };
  };
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-subj",
    "/CN=127.0.0.1",
    "-addext",
    "subjectAltName=IP:127.0.0.1",
    "-days",
    "90",
  ]);
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    valid: leaf("valid", "90"),
    expiring: leaf("expiring", "5"),
    // -days -1 ends the validity a day before it starts: expired since yesterday.
    expired: leaf("expired", "-1"),
    selfSigned: { key: readFileSync(join(dir, "self.key"), "utf8"), cert: readFileSync(join(dir, "self.pem"), "utf8") },
  };
}

export const SECURITY_HEADERS = {
  "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "SAMEORIGIN",
  "Referrer-Policy": "strict-origin-when-cross-origin",
  Server: "Apache",
};

export const INSECURE_HEADERS = { Server: "Apache/2.4.62 (Debian)", "X-Powered-By": "PHP/8.4.11" };

export const READY = {
  status: "ready",
  checks: { database: true, filesystem: true, session: true, oauth_keys: true, cache: true },
};

export interface FakeOpenEmr {
  url: string;
  /** What /meta/health/readyz answers (always with HTTP 200, as OpenEMR does). */
  readyz: unknown;
  close(): Promise<void>;
}

export interface ServerOptions {
  key: string;
  cert: string;
  headers?: Record<string, string>;
  /** Serve TLS 1.1 only. */
  tls11Only?: boolean;
}

/** An HTTPS server on 127.0.0.1 answering `/` with a redirect to the login page, and readyz. */
export async function startOpenEmr(options: ServerOptions): Promise<FakeOpenEmr> {
  const state = { readyz: READY as unknown };
  const server = https.createServer(
    {
      key: options.key,
      cert: options.cert,
      ...(options.tls11Only
        ? { minVersion: "TLSv1.1" as const, maxVersion: "TLSv1.1" as const, ciphers: "DEFAULT@SECLEVEL=0" }
        : {}),
    },
    (request, response) => {
      const headers = options.headers ?? SECURITY_HEADERS;
      if (request.url === "/meta/health/readyz") {
        response.writeHead(200, { ...headers, "Content-Type": "application/json" });
        response.end(JSON.stringify(state.readyz));
        return;
      }
      response.writeHead(302, { ...headers, Location: "/interface/login/login.php?site=default" });
      response.end();
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    get readyz() {
      return state.readyz;
    },
    set readyz(value: unknown) {
      state.readyz = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
