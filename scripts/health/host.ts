// The host, seen from inside through one SSM RunShellScript: services, disk, memory, the
// database over TLS and the newest backup the host knows of. The script prints one line,
// `OPENEMR-HEALTH <json>`, which is parsed here into findings.
import type { Finding } from "../lib/checks";
import { ageHours, backupIdTime, BACKUP_AGE_CRIT_HOURS, BACKUP_AGE_WARN_HOURS } from "../lib/backups";
import { formatAge } from "../lib/printing";
import { hostScript } from "../lib/ssm";

export const HOST_REPORT_MARKER = "OPENEMR-HEALTH ";

/** The script run on the host; kept as a plain file so it can be read and shellchecked. */
export const HOST_HEALTH_SCRIPT = hostScript("health");

export interface HostReport {
  format: number;
  tier: string;
  services: { apache2: string; "php-fpm": string; mariadb: string };
  disks: { path: string; used_percent: number }[];
  memory: { total_mb: number; available_mb: number };
  db: { exit_code: number; tls: boolean; output_b64: string };
  backups: { exit_code: number; output_b64: string };
}

export const DISK_WARN_PERCENT = 80;
export const DISK_CRIT_PERCENT = 90;
export const MEMORY_WARN_FREE_PERCENT = 10;
export const MEMORY_CRIT_FREE_PERCENT = 5;

export function parseHostReport(stdout: string): HostReport {
  const line = stdout.split("\n").find((text) => text.startsWith(HOST_REPORT_MARKER));
  if (!line) throw new Error(`the host check printed no report (output: ${JSON.stringify(stdout.slice(-200))})`);
  try {
    return JSON.parse(line.slice(HOST_REPORT_MARKER.length)) as HostReport;
  } catch {
    throw new Error(`the host check's report is not valid JSON: ${JSON.stringify(line.slice(0, 200))}`);
  }
}

const decode = (text: string) => Buffer.from(text, "base64").toString("utf8").trim();

export function hostFindings(report: HostReport, now = new Date()): Finding[] {
  const findings: Finding[] = [];
  const units: [keyof HostReport["services"], string][] = [
    ["apache2", "apache2"],
    ["php-fpm", "php*-fpm"],
  ];
  if (report.tier === "single") units.push(["mariadb", "mariadb"]);
  for (const [key, unit] of units) {
    const state = report.services[key] || "unknown";
    findings.push(
      state === "active"
        ? { check: `host.${key}`, status: "OK", summary: `${key} active`, evidence: { state } }
        : {
            check: `host.${key}`,
            status: "CRIT",
            summary: `${key} is ${state}`,
            evidence: { state },
            action:
              `on the host (SSM Session Manager): \`systemctl status ${unit}\` and \`journalctl -u ${unit} -n 50\`, ` +
              `then \`systemctl restart ${unit}\``,
          },
    );
  }
  for (const disk of report.disks) {
    const evidence = { path: disk.path, usedPercent: disk.used_percent };
    const status =
      disk.used_percent >= DISK_CRIT_PERCENT ? "CRIT" : disk.used_percent >= DISK_WARN_PERCENT ? "WARN" : "OK";
    findings.push({
      check: `host.disk${disk.path === "/" ? "" : disk.path}`,
      status,
      summary: `${disk.path} ${disk.used_percent}% used`,
      evidence,
      ...(status === "OK"
        ? {}
        : {
            action:
              "free space (old logs, /var/backups) or grow the volume: " +
              "`rootVolumeGb`/`dataVolumeGb` then `pulumi up`, then `resize2fs`",
          }),
    });
  }
  const freePercent =
    report.memory.total_mb > 0 ? Math.round((report.memory.available_mb / report.memory.total_mb) * 100) : 0;
  const memoryStatus =
    freePercent < MEMORY_CRIT_FREE_PERCENT ? "CRIT" : freePercent < MEMORY_WARN_FREE_PERCENT ? "WARN" : "OK";
  findings.push({
    check: "host.memory",
    status: memoryStatus,
    summary: `${freePercent}% memory available`,
    evidence: { availableMb: report.memory.available_mb, totalMb: report.memory.total_mb },
    ...(memoryStatus === "OK"
      ? {}
      : { action: "check PHP-FPM's pool size against memory_limit, or choose a larger `instanceType`" }),
  });

  const dbEvidence = {
    exitCode: report.db.exit_code,
    tls: report.db.tls,
    output: decode(report.db.output_b64).split("\n").slice(-3).join(" | "),
  };
  findings.push(
    report.db.exit_code === 0
      ? {
          check: "host.database",
          status: "OK",
          summary: report.db.tls ? "database reachable, TLS certificate verified" : "local MariaDB answers",
          evidence: dbEvidence,
        }
      : {
          check: "host.database",
          status: "CRIT",
          summary: report.db.tls ? "database not reachable over verified TLS" : "local MariaDB does not answer",
          evidence: dbEvidence,
          action: report.db.tls
            ? "check the RDS instance's status, the security group host -> DB 3306 and DB_CA_FILE on the host"
            : "on the host: `systemctl status mariadb` and its journal",
        },
  );
  findings.push(backupFinding(report, now));
  return findings;
}

function backupFinding(report: HostReport, now: Date): Finding {
  const output = decode(report.backups.output_b64);
  if (report.backups.exit_code !== 0) {
    return {
      check: "host.backup",
      status: "CRIT",
      summary: `openemr-backup list failed (exit ${report.backups.exit_code})`,
      evidence: { output: output.slice(-200) },
      action: "on the host: `journalctl -u openemr-backup -n 50`",
    };
  }
  let entries: { id?: string; complete?: boolean }[];
  try {
    const parsed = JSON.parse(output.split("\n").pop() ?? "");
    entries = Array.isArray(parsed) ? parsed : (parsed.backups ?? []);
  } catch {
    return {
      check: "host.backup",
      status: "CRIT",
      summary: "openemr-backup list did not print JSON",
      evidence: { output: output.slice(-200) },
      action: "check the host bundle's version",
    };
  }
  const newest = entries.find((entry) => entry.complete === true && entry.id && backupIdTime(entry.id));
  if (!newest)
    return {
      check: "host.backup",
      status: "CRIT",
      summary: "no complete backup",
      evidence: { listed: entries.length },
      action: "run `openemr-ops backup` now and check the backup timer",
    };
  const hours = ageHours(backupIdTime(newest.id!)!, now);
  const evidence = { newest: newest.id, ageHours: Math.round(hours * 10) / 10 };
  if (hours > BACKUP_AGE_CRIT_HOURS)
    return {
      check: "host.backup",
      status: "CRIT",
      summary: `newest backup is ${formatAge(hours)} old`,
      evidence,
      action:
        "the daily backup is not running: `systemctl status openemr-backup.timer` on the host, " +
        "then `openemr-ops backup`",
    };
  if (hours > BACKUP_AGE_WARN_HOURS)
    return {
      check: "host.backup",
      status: "WARN",
      summary: `newest backup is ${formatAge(hours)} old`,
      evidence,
      action: "check `systemctl list-timers openemr-backup.timer` on the host",
    };
  return { check: "host.backup", status: "OK", summary: `newest backup ${formatAge(hours)} old`, evidence };
}
