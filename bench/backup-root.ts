// Runs bench/backup.sh inside a fresh Debian 13 root, the host tests' image (tests/host/lib):
// the MariaDB, mariadb-dump, zstd and perl a host runs, whatever this machine has. The checkout
// is bind-mounted read-only at /opt/openemr-aws-src, OpenEMR's SQL copied in, and the
// benchmark's directory (generated data, reused by the next run) bind-mounted from BENCH_DIR
// on this machine. Started by bench/backup.sh itself; needs root.
import { spawn, execFileSync } from "child_process";
import { cpSync, mkdirSync } from "fs";
import { join, resolve } from "path";
import { freshRoot } from "../tests/host/lib/debian-root";

const repoRoot = resolve(__dirname, "..");
const sharedOpenemr = process.env.OPENEMR_SHARED_DIR ?? resolve(repoRoot, "../shared/openemr");
const benchDir = process.env.BENCH_DIR ?? "/var/tmp/openemr-backup-bench";
const SOURCE_IN_ROOT = "/opt/openemr-aws-src";
const SHARED_IN_ROOT = "/opt/openemr-shared";
const BENCH_DIR_IN_ROOT = "/var/tmp/openemr-backup-bench";
// Settings the benchmark reads, passed through to the root when given.
const PASSED_ENV = ["BENCH_SCALE", "BENCH_PORT", "BENCH_BINLOG_PERIODS", "BENCH_BINLOG_PROBE_SECONDS"];

async function main(): Promise<number> {
  const root = await freshRoot("bench-backup");
  const mounts: string[] = [];
  const bind = (from: string, to: string, readOnly: boolean) => {
    mkdirSync(from, { recursive: true });
    mkdirSync(root.path(to), { recursive: true });
    execFileSync("mount", ["--bind", from, root.path(to)]);
    mounts.unshift(root.path(to));
    if (readOnly) execFileSync("mount", ["-o", "remount,bind,ro", root.path(to)]);
  };
  try {
    bind(repoRoot, SOURCE_IN_ROOT, true);
    bind(benchDir, BENCH_DIR_IN_ROOT, false);
    cpSync(sharedOpenemr, root.path(SHARED_IN_ROOT), { recursive: true });
    const env = [
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/root",
      "LANG=C.UTF-8",
      "BENCH_IN_ROOT=1",
      `BENCH_DIR=${BENCH_DIR_IN_ROOT}`,
      `OPENEMR_SHARED_DIR=${SHARED_IN_ROOT}`,
      ...PASSED_ENV.filter((key) => process.env[key] !== undefined).map((key) => `${key}=${process.env[key]}`),
    ];
    // Streamed, not buffered: the run takes many minutes and reports each round as it goes.
    const child = spawn(
      "nsenter",
      [
        `--net=/run/netns/${root.netns}`,
        "chroot",
        root.dir,
        "/usr/bin/env",
        "-i",
        ...env,
        "bash",
        join(SOURCE_IN_ROOT, "bench/backup.sh"),
      ],
      { stdio: "inherit" },
    );
    return await new Promise<number>((done) => child.on("exit", (code, signal) => done(code ?? (signal ? 1 : 0))));
  } finally {
    for (const mountPoint of mounts) execFileSync("umount", ["-l", mountPoint]);
    await root.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
