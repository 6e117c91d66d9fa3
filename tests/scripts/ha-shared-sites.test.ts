// The ha tier's shared sites/ on EFS, by the bundle's own functions under bash in a user and
// mount namespace (unshare: root inside, none needed outside), /etc/fstab and
// /etc/systemd/system bind-mounted from a temporary directory, and stand-ins on PATH for
// systemctl, mount and mountpoint that record their calls: the client certificate read back
// with openssl, the stunnel config, the unit, the fstab line; and step_release leaving the
// shared site alone. bin/openemr-renew-efs-certificate runs the same way, as its timer would.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const LIB = resolve("infra/host/lib");
const FS_ID = "fs-0123456789abcdef0";
const AP_ID = "fsap-0fedcba9876543210";

/** A fresh directory with bin/ (stand-ins), etc/, state/, run/, shared/ and the bind-mount sources. */
function sandbox() {
  const dir = mkdtempSync(join(tmpdir(), "ha-sites-"));
  for (const sub of ["bin", "etc", "state", "run", "shared", "units", "www"]) mkdirSync(join(dir, sub));
  writeFileSync(join(dir, "fstab"), "# fstab\n");
  writeFileSync(join(dir, "etc", "settings.env"), "OPENEMR_VERSION=7.0.3\n");
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, "bin", name), `#!/usr/bin/env bash\necho "${name} $*" >>${dir}/calls\n${body}\n`);
    chmodSync(join(dir, "bin", name), 0o755);
  };
  stub("systemctl", '[[ $1 == is-active ]] && [[ -e "${0%/*}/../active" ]] && exit 0\n[[ $1 != is-active ]]');
  stub("mount", "exit 0");
  stub("mountpoint", "exit 1");
  // www-data is not mapped in the user namespace.
  stub("chown", "exit 0");
  // The renewal command logs to the journal too when no systemd unit runs it.
  stub("logger", "exit 0");
  return dir;
}

/** Runs SCRIPT in the sandbox after sourcing the host library, as root of a private namespace. */
function hostBash(dir: string, script: string) {
  const result = spawnSync(
    "unshare",
    [
      "--map-root-user",
      "--mount",
      "bash",
      "-c",
      [
        "set -euo pipefail",
        `mount --bind ${dir}/fstab /etc/fstab`,
        `mount --bind ${dir}/units /etc/systemd/system`,
        `export PATH=${dir}/bin:$PATH`,
        `BUNDLE_DIR=${resolve("infra/host")} PROG=openemr-bootstrap`,
        `source ${LIB}/common.sh`,
        `source ${LIB}/release.sh`,
        `source ${LIB}/steps.sh`,
        "OPENEMR_MODE=ec2 OPENEMR_TIER=ha AWS_REGION=eu-west-1 OPENEMR_SITE=default SECRET_VALUES=()",
        `RUN_DIR=${dir}/run`,
        `EFS_FILE_SYSTEM_ID=${FS_ID} EFS_ACCESS_POINT_ID=${AP_ID} SHARED_SITES_DIR=${dir}/shared`,
        script,
      ].join("\n"),
    ],
    {
      encoding: "utf8",
      env: {
        ...process.env,
        OPENEMR_AWS_ETC: join(dir, "etc"),
        OPENEMR_AWS_STATE: join(dir, "state"),
        OPENEMR_WEB_ROOT: join(dir, "www", "openemr"),
      },
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs bin/openemr-renew-efs-certificate as root of a private namespace with the sandbox's settings. */
function renew(dir: string, settings: string) {
  writeFileSync(join(dir, "etc", "settings.env"), settings);
  const result = spawnSync(
    "unshare",
    [
      "--map-root-user",
      "bash",
      "-c",
      `PATH=${dir}/bin:$PATH exec ${resolve("infra/host/bin/openemr-renew-efs-certificate")}`,
    ],
    { encoding: "utf8", env: { ...process.env, OPENEMR_AWS_ETC: join(dir, "etc"), INVOCATION_ID: "" } },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const HA_SETTINGS = [
  "OPENEMR_MODE=ec2",
  "OPENEMR_TIER=ha",
  "AWS_REGION=eu-west-1",
  `EFS_FILE_SYSTEM_ID=${FS_ID}`,
  `EFS_ACCESS_POINT_ID=${AP_ID}`,
  "",
].join("\n");

/** True when the certificate at PATH is still valid SECONDS from now (openssl x509 -checkend). */
const validFor = (path: string, seconds: number) =>
  spawnSync("openssl", ["x509", "-checkend", String(seconds), "-noout", "-in", path]).status === 0;

const calls = (dir: string) => (existsSync(join(dir, "calls")) ? readFileSync(join(dir, "calls"), "utf8") : "");

describe("ha: step_shared_sites", () => {
  it("writes the client certificate, the stunnel config, the unit and the fstab line, then mounts", () => {
    const dir = sandbox();
    const result = hostBash(dir, "step_shared_sites");
    expect(result.stderr).not.toContain("FAILED");
    expect(result.code).toBe(0);
    const efs = join(dir, "etc", "efs");

    const cert = spawnSync("openssl", ["x509", "-noout", "-text", "-in", join(efs, "client.crt")], {
      encoding: "utf8",
    });
    expect(cert.status).toBe(0);
    // The access point and the file system, each a UTF8String under efs-utils' OIDs.
    expect(cert.stdout).toMatch(new RegExp(`1\\.3\\.6\\.1\\.4\\.1\\.4843\\.7\\.1:\\s*\\n\\s*\\.\\.${AP_ID}\\n`));
    expect(cert.stdout).toMatch(new RegExp(`1\\.3\\.6\\.1\\.4\\.1\\.4843\\.7\\.3:\\s*\\n\\s*\\.\\.${FS_ID}\\n`));
    // No IAM extension: the mount is authorized by the file system policy and the access point.
    expect(cert.stdout).not.toContain("1.3.6.1.4.1.4843.7.2");
    expect(cert.stdout).toContain("Public-Key: (3072 bit)");
    const subject = spawnSync("openssl", ["x509", "-noout", "-subject", "-issuer", "-in", join(efs, "client.crt")], {
      encoding: "utf8",
    });
    const [subjectLine, issuerLine] = subject.stdout.trim().split("\n");
    expect(issuerLine.replace("issuer=", "")).toBe(subjectLine.replace("subject=", ""));
    expect(lstatSync(join(efs, "client.key")).mode & 0o777).toBe(0o600);

    const dns = `${FS_ID}.efs.eu-west-1.amazonaws.com`;
    const stunnel = readFileSync(join(efs, "stunnel.conf"), "utf8");
    for (const line of [
      "client = yes",
      "accept = 127.0.0.1:20049",
      `connect = ${dns}:2049`,
      "sslVersionMin = TLSv1.2",
      "verifyChain = yes",
      `checkHost = ${dns}`,
      "CAfile = /etc/ssl/certs/ca-certificates.crt",
      `cert = ${efs}/client.crt`,
      `key = ${efs}/client.key`,
    ]) {
      expect(stunnel.split("\n")).toContain(line);
    }
    expect(lstatSync(join(efs, "stunnel.conf")).mode & 0o777).toBe(0o600);

    const unit = readFileSync(join(dir, "units", "openemr-efs-tls.service"), "utf8");
    expect(unit).toContain(`ExecStart=/usr/bin/stunnel4 ${efs}/stunnel.conf`);
    expect(unit).toContain("Restart=always");

    expect(readFileSync(join(dir, "fstab"), "utf8")).toBe(
      "# fstab\n" +
        `127.0.0.1:/ ${dir}/shared nfs4 nfsvers=4.1,rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,` +
        "noresvport,port=20049,_netdev,x-systemd.requires=openemr-efs-tls.service 0 0\n",
    );
    expect(calls(dir)).toContain("systemctl daemon-reload\n");
    expect(calls(dir)).toContain("systemctl restart openemr-efs-tls.service\n");
    expect(calls(dir)).toContain(`mount ${dir}/shared\n`);
  });

  it("on a second run with stunnel up changes nothing and restarts nothing", () => {
    const dir = sandbox();
    expect(hostBash(dir, "step_shared_sites").code).toBe(0);
    const before = readFileSync(join(dir, "etc", "efs", "client.crt"), "utf8");
    writeFileSync(join(dir, "active"), "");
    writeFileSync(join(dir, "calls"), "");
    const again = hostBash(dir, "step_shared_sites");
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, "etc", "efs", "client.crt"), "utf8")).toBe(before);
    expect(calls(dir)).not.toContain("restart");
    expect(readFileSync(join(dir, "fstab"), "utf8").match(/nfs4/g)).toHaveLength(1);
  });

  it("remakes the certificate when the access point changes", () => {
    const dir = sandbox();
    expect(hostBash(dir, "step_shared_sites").code).toBe(0);
    const other = "fsap-0aaaaaaaaaaaaaaaa";
    expect(hostBash(dir, `EFS_ACCESS_POINT_ID=${other}\nstep_shared_sites`).code).toBe(0);
    const cert = spawnSync("openssl", ["x509", "-noout", "-text", "-in", join(dir, "etc", "efs", "client.crt")], {
      encoding: "utf8",
    });
    expect(cert.stdout).toContain(other);
    expect(cert.stdout).not.toContain(AP_ID);
  });

  it("is skipped without EFS_FILE_SYSTEM_ID", () => {
    const dir = sandbox();
    const result = hostBash(dir, "EFS_FILE_SYSTEM_ID=\nstep_shared_sites");
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("skipped: no EFS_FILE_SYSTEM_ID");
    expect(existsSync(join(dir, "etc", "efs"))).toBe(false);
    expect(calls(dir)).toBe("");
  });
});

describe("ha: the EFS client certificate renewed by its timer", () => {
  const WEEK = 7 * 86400;

  it("remakes a certificate that ends within a week and restarts stunnel", () => {
    const dir = sandbox();
    const crt = join(dir, "etc", "efs", "client.crt");
    expect(hostBash(dir, "EFS_CLIENT_CERT_DAYS=3\nstep_shared_sites").code).toBe(0);
    expect(validFor(crt, WEEK)).toBe(false);
    const before = readFileSync(crt, "utf8");
    writeFileSync(join(dir, "calls"), "");

    const result = renew(dir, HA_SETTINGS);
    expect(result.stderr).not.toContain("ERROR");
    expect(result.code).toBe(0);
    expect(readFileSync(crt, "utf8")).not.toBe(before);
    expect(validFor(crt, 300 * 86400)).toBe(true);
    const text = spawnSync("openssl", ["x509", "-noout", "-text", "-in", crt], { encoding: "utf8" }).stdout;
    expect(text).toContain(AP_ID);
    expect(text).toContain(FS_ID);
    expect(lstatSync(crt).mode & 0o777).toBe(0o600);
    expect(calls(dir)).toContain("systemctl restart openemr-efs-tls.service\n");
    expect(result.stderr).toContain("OK: openemr-efs-tls.service restarted");
  });

  it("leaves a certificate valid for more than a week alone and restarts nothing", () => {
    const dir = sandbox();
    const crt = join(dir, "etc", "efs", "client.crt");
    expect(hostBash(dir, "step_shared_sites").code).toBe(0);
    const before = readFileSync(crt, "utf8");
    writeFileSync(join(dir, "calls"), "");

    const result = renew(dir, HA_SETTINGS);
    expect(result.code).toBe(0);
    expect(readFileSync(crt, "utf8")).toBe(before);
    expect(calls(dir)).not.toContain("systemctl");
    expect(result.stderr).toContain("nothing to do");
  });

  it("does nothing, with one line, on a host without EFS settings", () => {
    const dir = sandbox();
    const result = renew(dir, "OPENEMR_MODE=ec2\nOPENEMR_TIER=standard\nAWS_REGION=eu-west-1\n");
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("no EFS_FILE_SYSTEM_ID");
    expect(existsSync(join(dir, "etc", "efs"))).toBe(false);
    expect(calls(dir)).not.toContain("systemctl");
  });

  it("fails, keeping the old certificate and stunnel as they are, when openssl cannot write a new one", () => {
    const dir = sandbox();
    const crt = join(dir, "etc", "efs", "client.crt");
    expect(hostBash(dir, "EFS_CLIENT_CERT_DAYS=3\nstep_shared_sites").code).toBe(0);
    const before = readFileSync(crt, "utf8");
    const openssl = spawnSync("bash", ["-c", "command -v openssl"], { encoding: "utf8" }).stdout.trim();
    writeFileSync(
      join(dir, "bin", "openssl"),
      `#!/usr/bin/env bash\n[[ $1 == req ]] && exit 1\nexec ${openssl} "$@"\n`,
    );
    chmodSync(join(dir, "bin", "openssl"), 0o755);
    writeFileSync(join(dir, "calls"), "");

    const result = renew(dir, HA_SETTINGS);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ERROR: cannot write the EFS client certificate ${crt}`);
    expect(readFileSync(crt, "utf8")).toBe(before);
    expect(readdirSync(join(dir, "etc", "efs")).filter((name) => name.startsWith("client.crt."))).toEqual([]);
    expect(calls(dir)).not.toContain("systemctl");
  });

  it("is refused before the bootstrap has set up the EFS mount", () => {
    const dir = sandbox();
    const result = renew(dir, HA_SETTINGS);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("stunnel.conf is missing");
    expect(calls(dir)).not.toContain("systemctl");
  });

  it("step_timers enables its timer where sites/ is on EFS, and only there", () => {
    const timers = (efs: string) => {
      const dir = sandbox();
      const script = `have_systemd() { :; }\nEFS_FILE_SYSTEM_ID=${efs}\nstep_timers`;
      expect(hostBash(dir, script).code).toBe(0);
      expect(existsSync(join(dir, "units", "openemr-renew-efs-certificate.service"))).toBe(true);
      return calls(dir);
    };
    expect(timers(FS_ID)).toContain("systemctl enable --now --quiet openemr-renew-efs-certificate.timer\n");
    const without = timers("");
    expect(without).toContain("systemctl enable --now --quiet openemr-backup.timer\n");
    expect(without).not.toContain("openemr-renew-efs-certificate.timer");
  });
});

/** download_release/unpack_release stand-ins: a release whose sites/default holds pristine.txt. */
const fakeRelease = (dir: string) =>
  [
    "download_release() { RELEASE_TARBALL=/dev/null; }",
    "unpack_release() {",
    `  RELEASE_STAGING=${dir}/staging RELEASE_DIR=${dir}/staging/openemr-7.0.3`,
    '  mkdir -p "$RELEASE_DIR/sites/default" && echo pristine >"$RELEASE_DIR/sites/default/pristine.txt"',
    "}",
    "OPENEMR_VERSION=7.0.3",
  ].join("\n");

describe("ha: the shared site and the code tree", () => {
  it("step_release replaces the code but leaves the shared sites/ untouched, linked from the new tree", () => {
    const dir = sandbox();
    const web = join(dir, "www", "openemr");
    // Another host is installing: the shared site holds its files and the unfinished marker.
    writeFileSync(join(dir, "shared", "sqlconf.php"), "<?php $config = 0;\n");
    writeFileSync(join(dir, "shared", ".openemr-aws-install-pending"), "");
    mkdirSync(join(web, "sites"), { recursive: true });
    spawnSync("ln", ["-s", join(dir, "shared"), join(web, "sites", "default")]);
    writeFileSync(join(web, "old-code.php"), "");

    const result = hostBash(dir, `${fakeRelease(dir)}\nstep_release`);
    expect(result.stderr).not.toContain("FAILED");
    expect(result.code).toBe(0);
    expect(readFileSync(join(dir, "shared", "sqlconf.php"), "utf8")).toBe("<?php $config = 0;\n");
    expect(existsSync(join(dir, "shared", ".openemr-aws-install-pending"))).toBe(true);
    expect(existsSync(join(dir, "shared", "pristine.txt"))).toBe(false);
    expect(existsSync(join(web, "old-code.php"))).toBe(false);
    expect(lstatSync(join(web, "sites", "default")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(web, "sites", "default"))).toBe(join(dir, "shared"));
    expect(readFileSync(join(dir, "state", "site-seed", "pristine.txt"), "utf8")).toBe("pristine\n");
  });

  it("seed_shared_site fills an empty shared directory, leaves an installed one, and resets an unfinished one", () => {
    const dir = sandbox();
    const shared = join(dir, "shared");
    expect(hostBash(dir, `${fakeRelease(dir)}\nstep_release\nseed_shared_site`).code).toBe(0);
    expect(readFileSync(join(shared, "pristine.txt"), "utf8")).toBe("pristine\n");
    expect(readFileSync(join(dir, "calls"), "utf8")).toContain(`chown -R www-data:www-data ${shared}\n`);

    writeFileSync(join(shared, "sqlconf.php"), "<?php $config = 1;\n");
    expect(hostBash(dir, "seed_shared_site").code).toBe(0);
    expect(readFileSync(join(shared, "sqlconf.php"), "utf8")).toBe("<?php $config = 1;\n");

    writeFileSync(join(shared, ".openemr-aws-install-pending"), "");
    expect(hostBash(dir, "seed_shared_site").code).toBe(0);
    expect(existsSync(join(shared, "sqlconf.php"))).toBe(false);
    expect(existsSync(join(shared, "pristine.txt"))).toBe(true);
    expect(existsSync(join(shared, ".openemr-aws-install-pending"))).toBe(true);
  });
});
