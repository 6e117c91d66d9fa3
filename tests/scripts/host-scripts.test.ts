// The health script the tooling runs on the host: its report parses into findings when run by
// bash against fake system tools (tests/host/shellcheck.test.ts checks every host script).
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { HOST_HEALTH_SCRIPT, hostFindings, parseHostReport } from "../../scripts/health/host";
import { asBash } from "../../scripts/lib/ssm";
import { backupIdAgo } from "./support/stack";

/** A host with fake systemctl, mariadb-admin and openemr-backup; the script's fixed paths point into it. */
function fakeHost(units: Record<string, string>, backupList: string, backupExit = 0) {
  const root = mkdtempSync(join(tmpdir(), "fake-host-"));
  const bin = join(root, "bin");
  mkdirSync(bin);
  const tool = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool(
    "systemctl",
    `case "$1" in
  is-active) case "$2" in ${Object.entries(units)
    .map(([unit, state]) => `${unit}) echo ${state}; [ ${state} = active ] ;;`)
    .join(" ")} *) echo inactive; exit 3 ;; esac ;;
  list-unit-files) echo "php8.4-fpm.service enabled enabled" ;;
esac`,
  );
  tool("mariadb-admin", 'echo "mysqld is alive"');
  tool("openemr-backup", `[ "$*" = "list --json" ] || exit 2\nprintf '%s\\n' '${backupList}'\nexit ${backupExit}`);
  writeFileSync(join(root, "settings.env"), "OPENEMR_TIER=single\nOPENEMR_STACK=clinic-prod\n");
  const script = HOST_HEALTH_SCRIPT.replace("/opt/openemr-aws/lib/", `${resolve("infra/host/lib")}/`).replace(
    "/opt/openemr-aws/bin/",
    `${bin}/`,
  );
  // Run as SSM would: `sh` running the wrapped command.
  const stdout = execFileSync("sh", ["-c", asBash(script)], {
    encoding: "utf8",
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OPENEMR_AWS_ETC: root },
  });
  return parseHostReport(stdout);
}

describe("scripts/host/health.sh", () => {
  it("reports a healthy single-tier host that parses into OK findings", () => {
    const newest = backupIdAgo(2);
    const report = fakeHost(
      { apache2: "active", "php8.4-fpm.service": "active", mariadb: "active" },
      JSON.stringify([{ id: newest, complete: true }]),
    );
    expect(report.services).toEqual({ apache2: "active", "php-fpm": "active", mariadb: "active" });
    expect(report.disks.map((disk) => disk.path)).toContain("/");
    expect(report.memory.total_mb).toBeGreaterThan(0);
    const findings = hostFindings(report);
    expect(
      findings
        .filter((finding) => finding.check !== "host.disk" && finding.check !== "host.memory")
        .map((finding) => [finding.check, finding.status]),
    ).toEqual([
      ["host.apache2", "OK"],
      ["host.php-fpm", "OK"],
      ["host.mariadb", "OK"],
      ["host.database", "OK"],
      ["host.backup", "OK"],
    ]);
  });

  it("carries a stopped service and a failing backup list through to CRIT findings", () => {
    const report = fakeHost(
      { apache2: "active", "php8.4-fpm.service": "failed", mariadb: "active" },
      'openemr-backup: cannot reach the bucket "x"',
      1,
    );
    const findings = Object.fromEntries(hostFindings(report).map((finding) => [finding.check, finding]));
    expect(findings["host.php-fpm"]).toMatchObject({ status: "CRIT", summary: "php-fpm is failed" });
    expect(findings["host.backup"]).toMatchObject({ status: "CRIT", summary: "openemr-backup list failed (exit 1)" });
    expect(findings["host.backup"].evidence.output).toBe('openemr-backup: cannot reach the bucket "x"');
  });
});
