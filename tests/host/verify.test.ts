// The EC2-only pieces that cannot run here (AWS downloads, Secrets Manager) are checked where
// they can be: the signature check the agent downloads go through, against a test-made key, and
// the CloudWatch agent config the bootstrap renders. Also the DATA_DIR checks of settings.env,
// which need no root to run.
import { execFileSync, spawnSync } from "child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HOST = resolve(__dirname, "../../infra/host");

function bash(script: string, env: Record<string, string> = {}) {
  return spawnSync(
    "bash",
    [
      "--norc",
      "--noprofile",
      "-c",
      `set -euo pipefail; source ${HOST}/lib/common.sh; source ${HOST}/lib/verify.sh; ` +
        `source ${HOST}/lib/release.sh; source ${HOST}/lib/steps.sh; ${script}`,
    ],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", BUNDLE_DIR: HOST, ...env },
    },
  );
}

describe("signed downloads", () => {
  let work: string;
  let fingerprint: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "verify-"));
    const gpg = (...args: string[]) =>
      execFileSync("gpg", ["--homedir", join(work, "gnupg"), "--batch", "--quiet", ...args], { encoding: "utf8" });
    execFileSync("install", ["-d", "-m", "0700", join(work, "gnupg")]);
    gpg("--passphrase", "", "--quick-generate-key", "Test Signer <signer@example.org>", "ed25519", "sign", "never");
    fingerprint = gpg("--with-colons", "--list-keys")
      .split("\n")
      .find((line) => line.startsWith("fpr"))!
      .split(":")[9];
    gpg("--armor", "--output", join(work, "signer.asc"), "--export", fingerprint);
    writeFileSync(join(work, "agent.deb"), "package bytes\n");
    gpg("--output", join(work, "agent.deb.sig"), "--detach-sign", join(work, "agent.deb"));
    writeFileSync(join(work, "other.asc"), readFileSync(join(HOST, "keys/amazon-ssm-agent.asc")));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("accepts a good signature by the pinned key", () => {
    const run = bash(`verify_signature ${work}/agent.deb ${work}/agent.deb.sig ${work}/signer.asc ${fingerprint}`);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("refuses a file changed after signing", () => {
    writeFileSync(join(work, "tampered.deb"), "package bytes!\n");
    const run = bash(`verify_signature ${work}/tampered.deb ${work}/agent.deb.sig ${work}/signer.asc ${fingerprint}`);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/^bad signature on tampered\.deb/);
  });

  it("refuses a key whose fingerprint is not the pinned one", () => {
    const run = bash(`verify_signature ${work}/agent.deb ${work}/agent.deb.sig ${work}/signer.asc ${"0".repeat(40)}`);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(`signing key signer.asc has fingerprint ${fingerprint}; expected ${"0".repeat(40)}`);
  });

  it("pins the SSM agent key shipped in the bundle", () => {
    const run = bash(
      `gpg --homedir "$(mktemp -d)" --batch --with-colons --show-keys ${HOST}/keys/amazon-ssm-agent.asc 2>/dev/null` +
        ` | awk -F: '$1 == "fpr" { print $10; exit }'; echo "$SSM_AGENT_KEY_FINGERPRINT"`,
    );
    const [shipped, pinned] = run.stdout.trim().split("\n");
    expect(shipped).toBe(pinned);
  });

  it("checks a release's sha256", () => {
    const sum = execFileSync("sha256sum", [join(work, "agent.deb")], { encoding: "utf8" }).split(" ")[0];
    expect(bash(`verify_sha256 ${work}/agent.deb ${sum}`).status).toBe(0);
    const bad = bash(`verify_sha256 ${work}/agent.deb ${"f".repeat(64)}`);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toBe(`sha256 mismatch for agent.deb: expected ${"f".repeat(64)}, got ${sum}\n`);
  });
});

describe("CloudWatch agent config", () => {
  const rendered = (tier = "standard") => {
    const run = bash("render_cloudwatch_config", {
      OPENEMR_STACK: "clinic-prod",
      OPENEMR_TIER: tier,
      LOG_GROUP_PREFIX: "/openemr-aws/clinic-prod",
    });
    expect(run.stderr).toBe("");
    return JSON.parse(run.stdout);
  };

  it("ships every log file of the host interface, named under the prefix (the SSM agent writes ssm-sessions)", () => {
    const groups = rendered()
      .logs.logs_collected.files.collect_list.map((entry: { log_group_name: string }) => entry.log_group_name)
      .sort();
    expect(groups).toEqual(
      ["apache-access", "apache-error", "auditd", "openemr-backup", "openemr-bootstrap", "php-fpm", "system"].map(
        (name) => `/openemr-aws/clinic-prod/${name}`,
      ),
    );
  });

  it("publishes memory and disk use per instance, with the data volume's path", () => {
    const metrics = rendered().metrics;
    expect(metrics.namespace).toBe("CWAgent");
    expect(metrics.append_dimensions).toEqual({ InstanceId: "${aws:InstanceId}" });
    expect(metrics.metrics_collected.mem.measurement).toEqual(["mem_used_percent"]);
    expect(metrics.metrics_collected.disk.measurement).toEqual(["used_percent"]);
    expect(metrics.metrics_collected.disk.resources).toEqual(["/", "/srv/openemr-data"]);
  });

  it.each(["single", "standard"])("%s: per instance only (the group's name would need ec2:DescribeTags)", (tier) => {
    const metrics = rendered(tier).metrics;
    expect(metrics.append_dimensions).toEqual({ InstanceId: "${aws:InstanceId}" });
    expect(metrics.aggregation_dimensions).toEqual([["InstanceId"], ["InstanceId", "path"]]);
  });

  it("ha: also under the Auto Scaling group's name, which the stack's memory and disk alarms watch", () => {
    const ha = rendered("ha");
    expect(ha.metrics.append_dimensions).toEqual({
      InstanceId: "${aws:InstanceId}",
      AutoScalingGroupName: "${aws:AutoScalingGroupName}",
    });
    expect(ha.metrics.aggregation_dimensions).toEqual([
      ["InstanceId"],
      ["InstanceId", "path"],
      ["AutoScalingGroupName"],
      ["AutoScalingGroupName", "path"],
    ]);
    const { metrics: haMetrics, ...haRest } = ha;
    const { metrics: standardMetrics, ...standardRest } = rendered("standard");
    expect(haMetrics.metrics_collected).toEqual(standardMetrics.metrics_collected);
    expect(haRest).toEqual(standardRest);
  });
});

describe("DATA_DIR in settings.env", () => {
  let etc: string;
  const settings = readFileSync(join(HOST, "settings.onprem.example.env"), "utf8");
  beforeAll(() => (etc = mkdtempSync(join(tmpdir(), "settings-"))));
  afterAll(() => rmSync(etc, { recursive: true, force: true }));
  const load = (extra: string) => {
    writeFileSync(join(etc, "settings.env"), `${settings}${extra}\n`);
    return bash("load_settings; echo loaded", { OPENEMR_AWS_ETC: etc });
  };

  it("takes an absolute directory", () => {
    expect(load("DATA_DIR=/srv/openemr-data").stdout).toBe("loaded\n");
  });
  it.each([
    [
      "srv/openemr-data",
      "DATA_DIR is 'srv/openemr-data'; expected an absolute directory path such as /srv/openemr-data, or empty",
    ],
    [
      "/var/www/data",
      "DATA_DIR is '/var/www/data'; expected a directory outside /var/www, which is bind-mounted from it",
    ],
  ])("refuses DATA_DIR=%s, naming it", (value, message) => {
    const run = load(`DATA_DIR=${value}`);
    expect(run.stderr).toContain(message);
    expect(run.status).toBe(1);
  });
  it("refuses DATA_VOLUME_ID without DATA_DIR", () => {
    const run = load("DATA_VOLUME_ID=vol-0123456789abcdef0");
    expect(run.stderr).toContain("DATA_DIR is empty; DATA_VOLUME_ID needs the directory to mount the volume at");
    expect(run.status).toBe(1);
  });
});
