// scripts/host/upgrade.sh and rollback.sh run for real under sh + bash on a temporary tree
// standing in for the host: a release tarball built here, fake systemctl, runuser (the
// schema upgrade) and openemr-restore. The scripts' fixed paths are pointed into the tree.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { asBash, hostScript } from "../../scripts/lib/ssm";

interface FakeHost {
  root: string;
  code: string;
  tarball: string;
  sha256: string;
  run(
    name: "upgrade" | "rollback",
    inputs: Record<string, string>,
  ): { status: number | null; stdout: string; stderr: string };
  read(path: string): string;
  calls(): string[];
}

function fakeHost(schemaUpgradeOutput: string): FakeHost {
  const root = mkdtempSync(join(tmpdir(), "fake-upgrade-"));
  const code = join(root, "www", "openemr");
  const bin = join(root, "bin");
  for (const dir of [
    join(code, "sites", "default", "documents"),
    bin,
    join(root, "etc"),
    join(root, "state"),
    join(root, "release", "openemr-8.3.1", "sites", "default"),
  ])
    mkdirSync(dir, { recursive: true });
  writeFileSync(join(code, "index.php"), "<?php // 8.3.0\n");
  writeFileSync(join(code, "sites", "default", "sqlconf.php"), "<?php $config = 1;\n");
  writeFileSync(join(code, "sites", "default", "documents", "scan.pdf"), "patient document");
  writeFileSync(join(root, "release", "openemr-8.3.1", "index.php"), "<?php // 8.3.1\n");
  writeFileSync(join(root, "release", "openemr-8.3.1", "sql_upgrade.php"), "<?php // upgrade\n");
  writeFileSync(
    join(root, "release", "openemr-8.3.1", "sites", "default", "sqlconf.php"),
    "<?php $config = 0; // release default\n",
  );
  const tarball = join(root, "openemr-8.3.1.tar.gz");
  execFileSync("tar", ["-czf", tarball, "-C", join(root, "release"), "openemr-8.3.1"]);
  writeFileSync(join(root, "etc", "settings.env"), "OPENEMR_SITE=default\nOPENEMR_VERSION=8.3.0\nDB_NAME=openemr\n");
  const log = join(root, "calls.log");
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool("systemctl", "");
  tool("runuser", `printf '%s\\n' ${JSON.stringify(schemaUpgradeOutput)}`);
  tool("openemr-restore", "");
  const localize = (script: string) =>
    script
      .replaceAll("/opt/openemr-aws/lib/", `${resolve("infra/host/lib")}/`)
      .replaceAll("/opt/openemr-aws/bin/openemr-restore", join(bin, "openemr-restore"));
  return {
    root,
    code,
    tarball,
    sha256: createHash("sha256").update(readFileSync(tarball)).digest("hex"),
    run: (name, inputs) =>
      spawnSync("sh", ["-c", asBash(localize(hostScript(name, inputs)))], {
        encoding: "utf8",
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH}`,
          OPENEMR_AWS_ETC: join(root, "etc"),
          OPENEMR_AWS_STATE: join(root, "state"),
          OPENEMR_WEB_ROOT: code,
        },
      }),
    read: (path) => readFileSync(join(root, path), "utf8"),
    calls: () => (existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : []),
  };
}

describe("upgrade.sh and rollback.sh", () => {
  it("swaps in the verified release keeping sites/, runs the schema upgrade as www-data, records the version", () => {
    const host = fakeHost("Upgrading database from 8.3.0 ... done");
    const run = host.run("upgrade", {
      FROM_VERSION: "8.3.0",
      TO_VERSION: "8.3.1",
      RELEASE_URL: `file://${host.tarball}`,
      RELEASE_SHA256: host.sha256,
    });
    expect(run.stderr).not.toContain("ERROR");
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`openemr-upgrade: release openemr-8.3.1 verified: sha256 ${host.sha256}`);
    expect(run.stdout).toContain("openemr-upgrade: code swapped");
    expect(host.read("www/openemr/index.php")).toContain("8.3.1");
    expect(host.read("www/openemr/sites/default/sqlconf.php")).toContain("$config = 1;");
    expect(host.read("www/openemr/sites/default/documents/scan.pdf")).toBe("patient document");
    expect(host.read("www/openemr.previous/index.php")).toContain("8.3.0");
    expect(existsSync(join(host.code, "sql_upgrade.php"))).toBe(false);
    expect(statSync(join(host.code, "index.php")).mode & 0o777).toBe(0o440);
    expect(host.read("state/openemr.version")).toBe("8.3.1\n");
    expect(host.read("etc/settings.env")).toContain("OPENEMR_VERSION=8.3.1\n");
    expect(host.calls()).toEqual([
      "systemctl stop apache2",
      "runuser -u www-data -- php sql_upgrade.php --from=8.3.0",
      "systemctl restart php*-fpm.service",
      "systemctl start apache2",
    ]);
  });

  it("a checksum mismatch stops before anything changes, and Apache was never stopped", () => {
    const host = fakeHost("");
    const run = host.run("upgrade", {
      FROM_VERSION: "8.3.0",
      TO_VERSION: "8.3.1",
      RELEASE_URL: `file://${host.tarball}`,
      RELEASE_SHA256: "0".repeat(64),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`sha256 mismatch for openemr-8.3.1.tar.gz.part: expected ${"0".repeat(64)}`);
    expect(run.stderr).toContain(`got ${host.sha256}`);
    expect(run.stderr).toMatch(/openemr-upgrade: ERROR: refusing OpenEMR 8\.3\.1 from file:.*: checksum mismatch/);
    expect(run.stdout).not.toContain("code swapped");
    expect(host.read("www/openemr/index.php")).toContain("8.3.0");
    expect(host.calls()).toEqual([]);
  });

  it("a schema upgrade printing ERROR fails after the swap; rollback restores the previous code and backup", () => {
    const host = fakeHost("ERROR: query failed: ALTER TABLE `patient_data` ...");
    const upgrade = host.run("upgrade", {
      FROM_VERSION: "8.3.0",
      TO_VERSION: "8.3.1",
      RELEASE_URL: `file://${host.tarball}`,
      RELEASE_SHA256: host.sha256,
    });
    expect(upgrade.status).toBe(1);
    expect(upgrade.stdout).toContain("openemr-upgrade: code swapped");
    expect(upgrade.stderr).toContain(
      "openemr-upgrade: ERROR: sql_upgrade.php from 8.3.0 failed (exit 0): ERROR: query failed: ALTER TABLE",
    );
    expect(host.read("etc/settings.env")).toContain("OPENEMR_VERSION=8.3.0\n");

    const rollback = host.run("rollback", { FROM_VERSION: "8.3.0", BACKUP_ID: "20261126T023000Z" });
    expect(rollback.stderr).not.toContain("ERROR");
    expect(rollback.status).toBe(0);
    expect(host.read("www/openemr/index.php")).toContain("8.3.0");
    expect(host.read("www/openemr.failed/index.php")).toContain("8.3.1");
    expect(host.read("state/openemr.version")).toBe("8.3.0\n");
    expect(host.calls().slice(-4)).toEqual([
      "systemctl stop apache2",
      `openemr-restore --backup 20261126T023000Z --database openemr --sites-dir ${host.code}/sites --yes`,
      "systemctl restart php*-fpm.service",
      "systemctl start apache2",
    ]);
  });
});
