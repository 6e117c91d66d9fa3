// The ha tier's host files, rendered by the bundle's own functions under bash without root: the
// PHP session settings that put sessions in Valkey (the AUTH token read from a stand-in `aws`
// that answers as Secrets Manager would), and the settings checks for the ha keys.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const LIB = resolve("infra/host/lib");

/** Runs SCRIPT after sourcing common.sh and steps.sh, with `aws` answering SECRET_STRING. */
function hostBash(script: string, secretString: string, settings = "") {
  const dir = mkdtempSync(join(tmpdir(), "ha-host-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "aws"), `#!/usr/bin/env bash\nprintf '%s\\n' '${secretString}'\n`);
  chmodSync(join(bin, "aws"), 0o755);
  writeFileSync(join(dir, "settings.env"), settings);
  const result = spawnSync(
    "bash",
    [
      "-c",
      [
        "set -euo pipefail",
        `BUNDLE_DIR=${resolve("infra/host")} PROG=openemr-bootstrap`,
        `source ${LIB}/common.sh`,
        `source ${LIB}/steps.sh`,
        "OPENEMR_MODE=ec2 AWS_REGION=us-east-1 SECRET_VALUES=()",
        script,
      ].join("\n"),
    ],
    { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OPENEMR_AWS_ETC: dir } },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("ha: PHP sessions in Valkey", () => {
  const token = "Ab+c/d=e%f&g~h_i-j.kLmNoPqRsTuVwXyZ";
  const secret = JSON.stringify({ password: token });

  it("renders save_handler redis and a tls:// save_path with the AUTH token URL-encoded", () => {
    const result = hostBash(
      [
        "SESSION_CACHE_HOST=master.clinic.abc123.use1.cache.amazonaws.com SECRET_SESSION_CACHE=arn:session",
        "read_session_cache_token",
        "render_session_config",
        'log "token read" && printf "%s\\n" "$SESSION_CACHE_TOKEN" | redact >&2',
      ].join("\n"),
      secret,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      "; Written by openemr-bootstrap from SESSION_CACHE_HOST and SECRET_SESSION_CACHE.\n" +
        "[Session]\n" +
        "session.save_handler = redis\n" +
        'session.save_path = "tls://master.clinic.abc123.use1.cache.amazonaws.com:6379?auth=' +
        'Ab%2Bc%2Fd%3De%25f%26g~h_i-j.kLmNoPqRsTuVwXyZ"\n',
    );
    // The token, in either form, is masked wherever output is redacted.
    expect(result.stderr).toContain("***");
    expect(result.stderr).not.toContain("Ab%2Bc");
  });

  it("names the secret when it holds no password", () => {
    const result = hostBash(
      "SESSION_CACHE_HOST=cache.example SECRET_SESSION_CACHE=arn:session\nread_session_cache_token",
      JSON.stringify({ token }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('secret arn:session has no string "password"');
    expect(result.stderr).not.toContain(token);
  });
});

describe("ha: settings checks", () => {
  const base = "OPENEMR_MODE=onprem\nOPENEMR_TIER=ha\n";
  const load = (extra: string) => hostBash("load_settings && echo loaded", "{}", base + extra);

  it("accepts the ha keys as the stack writes them", () => {
    const result = load(
      "EFS_FILE_SYSTEM_ID=fs-0123456789abcdef0\nEFS_ACCESS_POINT_ID=fsap-0123456789abcdef0\n" +
        "SESSION_CACHE_HOST=master.clinic.abc123.use1.cache.amazonaws.com\nSECRET_SESSION_CACHE=arn:session\n",
    );
    expect(result.stderr).toBe("");
    expect(result.stdout).toBe("loaded\n");
  });

  it.each([
    ["EFS_FILE_SYSTEM_ID=fsap-0123\n", "EFS_FILE_SYSTEM_ID is 'fsap-0123'; expected an EFS file system id"],
    ["EFS_ACCESS_POINT_ID=fs-0123\n", "EFS_ACCESS_POINT_ID is 'fs-0123'; expected an EFS access point id"],
    ["SESSION_CACHE_HOST=cache.example:6379\n", "SESSION_CACHE_HOST is 'cache.example:6379'; expected the Valkey"],
    ["SESSION_CACHE_HOST=cache.example\n", "SECRET_SESSION_CACHE is empty; expected a value"],
  ])("refuses %j naming the key", (extra, message) => {
    const result = load(extra);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
