/**
 * Test fixture for the host tests: fresh Debian 13 (trixie) roots, each isolated in its own
 * network namespace, with helpers to run commands and daemons inside and a MariaDB with TLS.
 * Needs root and the Debian packages debootstrap, iproute2, openssl, zstd, util-linux.
 *
 * API
 * - `ensureDebianRoot(): Promise<string>`: path of the cached root tarball, built on first use with
 *   debootstrap (minbase) from `http://deb.debian.org/debian` plus every package the bootstrap
 *   installs (`infra/host/packages/*.txt`) and `EXTRA_TEST_PACKAGES`. Cached under
 *   `$OPENEMR_TEST_CACHE` (default `/var/cache/openemr-aws-tests`), keyed by suite, mirror,
 *   package list and build script. In the image `/usr/sbin/policy-rc.d` exits 101: there is no
 *   init system, so nothing starts a daemon but the code under test or the fixture.
 * - `freshRoot(name, { packages?, runId? }): Promise<DebianRoot>`: a writable copy of that image
 *   (or of one with only `packages`, e.g. `MINIMAL_PACKAGES` for a bare minbase baseline) in
 *   `$OPENEMR_TEST_ROOTS/<run>/<name>` (default `/var/tmp/openemr-aws-roots`), with /proc, /sys,
 *   /dev and /dev/pts mounted, and a network namespace `oe-<run>-<name>` joined to the host by a
 *   veth pair (host side `hostAddress`, root side `address`, a 10.231.N.0/30). The namespace has no
 *   default route: processes in the root reach nothing outside it; tests reach the root on `address`.
 * - Runs: `<run>` is `RUN_ID`, a hash of this checkout's path and the test process's pid, so two
 *   runs on one machine (two clones, a developer and CI) never share a root, a namespace or a veth
 *   name, and a run only ever tears down its own. `$OPENEMR_TEST_ROOTS/<run>/owner.json` names the
 *   owning process; the roots of a run whose process is gone (a killed run) are removed at the next
 *   `freshRoot` of any run. Only the cached image tarball is shared, built under a lock.
 * - Progress: each slow step (building the image, unpacking a root, starting MariaDB, any command
 *   in a root that runs 10 s or more, such as lynis) prints one line with its time to stderr,
 *   `[host tests] <step> ... 95 s`, and a line every minute while it runs; `progress(text)` and
 *   `timed(label, fn)` do the same for a test's own steps.
 * - `DebianRoot`:
 *   - `run(argv, options)`: runs argv chrooted into the root inside its namespace; resolves to
 *     `{ code, stdout, stderr }`; rejects on a non-zero exit unless `options.check === false`.
 *   - `sh(script, options)`: the same for a bash script.
 *   - `path(p)`: the host path of `p` inside the root; `writeFile(p, text, mode)`, `readFile(p)`.
 *   - `startDaemon(label, argv, ready)`: starts a foreground daemon detached, output to
 *     `/var/log/<label>.fixture.log` in the root, and waits until `ready()` resolves true.
 *   - `addNode(name)`: a node of a multi-host test: a network namespace of its own
 *     (`<netns>.<name>`), joined to the root's by a veth pair (root side `gateway`, node side
 *     `address`, a 10.232.N.0/30, its default route through the root's namespace), sharing the
 *     root's files. `run`, `sh` and `startDaemon` as the root's, from the node's namespace.
 *   - `destroy()`: kills every process whose root is this root or that runs in its namespace,
 *     unmounts, deletes the namespace and the directory. Safe to call twice; also runs at process
 *     exit for roots a test forgot, and at the next `freshRoot` after a crash (see Runs).
 * - `makeTestCa(dir)`: an openssl-made CA (`caCert`, `caKey` paths, `caPem` text) in `dir`;
 *   `issueCert(ca, dir, name, { cn, ips, dnsNames })`: a server certificate signed by it.
 * - `startMariadb(root, options)`: configures and starts MariaDB in the root with TLS on
 *   (`require_secure_transport`, a certificate for `root.address` from a fresh test CA),
 *   listening on `root.address:3306`, utf8mb4 defaults and `local_infile` on, plus an
 *   administrator `dbadmin@'%'` standing in for RDS's master user. Resolves to `MariadbServer`:
 *   `{ host, port, caPem, caFileInRoot, admin: { username, password } }`.
 *   `stopMariadb(root)` shuts it down; `mariadbSql(root, sql, database?)` runs SQL as the
 *   server's root over the local socket and returns the tab-separated output.
 */
import { execFile, execFileSync, spawn } from "child_process";
import { createHash, randomBytes } from "crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "fs";
import { dirname, join, resolve } from "path";

const REPO_ROOT = resolve(__dirname, "../../..");
const BUILD_SCRIPT = join(__dirname, "build-root.sh");
const PACKAGE_LISTS = ["web.txt", "db-server.txt", "ha.txt"].map((file) =>
  join(REPO_ROOT, "infra/host/packages", file),
);

export const SUITE = "trixie";
export const MIRROR = "http://deb.debian.org/debian";
/**
 * Packages in the test image that the bootstrap does not install: the scanners run inside;
 * python3-moto (with python3-flask-cors, which its server mode needs) is the S3-compatible
 * server the backup tests run on the root's loopback; valkey-server stands for ElastiCache in
 * the ha tests.
 */
export const EXTRA_TEST_PACKAGES = ["lynis", "iproute2", "python3-moto", "python3-flask-cors", "valkey-server"];
export const CACHE_DIR = process.env.OPENEMR_TEST_CACHE ?? "/var/cache/openemr-aws-tests";
export const ROOTS_DIR = process.env.OPENEMR_TEST_ROOTS ?? "/var/tmp/openemr-aws-roots";
const PATH_IN_ROOT = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/**
 * This run: the checkout (two clones differ) and the test process (a developer's run and CI's
 * differ), in roots' directories and namespaces' names; see "Runs" in the file header.
 */
export const RUN_ID = `${createHash("sha256").update(REPO_ROOT).digest("hex").slice(0, 6)}-${process.pid}`;

/** One line to stderr at once, past Vitest's console capture, so a long step is never silent. */
export function progress(text: string): void {
  writeSync(2, `[host tests] ${text}\n`);
}

/**
 * Runs `fn` and prints `label ... N s` when it took `quietMs` or more (default: always), and
 * `label ... still running, N s` every minute until then; a failure prints `failed after N s`.
 */
export async function timed<T>(label: string, fn: () => Promise<T>, quietMs = 0): Promise<T> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  const ticker = setInterval(() => progress(`${label} ... still running, ${seconds()} s`), 60_000);
  ticker.unref();
  try {
    const result = await fn();
    if (Date.now() - started >= quietMs) progress(`${label} ... ${seconds()} s`);
    return result;
  } catch (error) {
    progress(`${label} ... failed after ${seconds()} s`);
    throw error;
  } finally {
    clearInterval(ticker);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  /** Reject on a non-zero exit (default true). */
  check?: boolean;
  timeoutMs?: number;
}

/** Reads a package list: one name a line, `#` comments. */
export function readPackageList(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter(Boolean);
}

export function imagePackages(): string[] {
  return [...new Set([...PACKAGE_LISTS.flatMap(readPackageList), ...EXTRA_TEST_PACKAGES])].sort();
}

function runHost(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      argv[0],
      argv.slice(1),
      { maxBuffer: 256 * 1024 * 1024, timeout: options.timeoutMs ?? 0, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as any).code === "number" ? (error as any).code : 1) : 0;
        const result = { code, stdout: String(stdout), stderr: String(stderr) };
        if (code !== 0 && options.check !== false) {
          reject(
            new Error(`${argv.join(" ")} exited ${code}\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`),
          );
        } else resolvePromise(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** A fresh minimal Debian 13 (minbase plus lynis): the baseline a new server starts from. */
export const MINIMAL_PACKAGES = ["lynis"];

/** Builds (once, under a lock) and returns the cached Debian 13 root tarball with `packages`. */
export async function ensureDebianRoot(packages: string[] = imagePackages()): Promise<string> {
  const key = createHash("sha256")
    .update(JSON.stringify({ SUITE, MIRROR, packages, script: readFileSync(BUILD_SCRIPT, "utf8") }))
    .digest("hex")
    .slice(0, 16);
  mkdirSync(CACHE_DIR, { recursive: true });
  const tarball = join(CACHE_DIR, `debian-${SUITE}-${key}.tar.zst`);
  if (existsSync(tarball)) return tarball;
  // flock serialises concurrent test processes; the script returns at once if another built it.
  const lock = join(CACHE_DIR, ".build.lock");
  if ((await runHost(["flock", "-n", lock, "true"], { check: false })).code !== 0) {
    progress(`another test run is building the Debian ${SUITE} image; waiting for its lock ${lock}`);
  }
  await timed(
    `building the Debian 13 (${SUITE}) image, ${packages.length} packages: debootstrap and apt-get (once a ` +
      `machine, minutes)`,
    () =>
      runHost(["flock", "-x", lock, "bash", BUILD_SCRIPT, tarball, SUITE, MIRROR, ...packages], {
        timeoutMs: 1_500_000,
      }),
  );
  // Images of older package lists are kept a day (another checkout may still use one), then go.
  for (const entry of readdirSync(CACHE_DIR)) {
    const stale = join(CACHE_DIR, entry);
    if (
      entry.startsWith(`debian-${SUITE}-`) &&
      entry.endsWith(".tar.zst") &&
      stale !== tarball &&
      Date.now() - statSync(stale).mtimeMs > 86_400_000
    ) {
      rmSync(stale, { force: true });
    }
  }
  return tarball;
}

export interface DebianRoot {
  name: string;
  dir: string;
  netns: string;
  hostAddress: string;
  address: string;
  path(pathInRoot: string): string;
  run(argv: string[], options?: RunOptions): Promise<RunResult>;
  sh(script: string, options?: RunOptions): Promise<RunResult>;
  writeFile(pathInRoot: string, text: string | Buffer, mode?: number): void;
  readFile(pathInRoot: string): string;
  startDaemon(label: string, argv: string[], ready: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  addNode(name: string): RootNode;
  destroy(): Promise<void>;
}

/** A node of a multi-host test: the root's files, a network namespace of its own (see addNode). */
export interface RootNode {
  name: string;
  netns: string;
  /** The node's address; `gateway`, the root namespace's end of their link. */
  address: string;
  gateway: string;
  run(argv: string[], options?: RunOptions): Promise<RunResult>;
  sh(script: string, options?: RunOptions): Promise<RunResult>;
  startDaemon(label: string, argv: string[], ready: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
}

/** This process's roots, by directory, for the exit handler. */
const liveRoots = new Map<string, { dir: string; netns: string; vethHost: string }>();

/** A run's roots' directory, namespace and veth names (a veth name is at most 15 characters). */
function rootNames(runId: string, name: string): { dir: string; netns: string; vethHost: string; vethRoot: string } {
  const hash = createHash("sha256").update(`${runId}/${name}`).digest("hex").slice(0, 8);
  return {
    dir: join(ROOTS_DIR, runId, name),
    netns: `oe-${runId}-${name}`,
    vethHost: `oeh-${hash}`,
    vethRoot: `oer-${hash}`,
  };
}

/** A process's start time (clock ticks after boot): tells it from a later process given its pid. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

const ownedRuns = new Set<string>();

/** The run's directory, with `owner.json` naming this process as the one whose roots these are. */
function ownRunDir(runId: string): string {
  const dir = join(ROOTS_DIR, runId);
  const owner = join(dir, "owner.json");
  if (!existsSync(owner)) {
    mkdirSync(dir, { recursive: true });
    const startTime = processStartTime(process.pid);
    writeFileSync(owner, JSON.stringify({ pid: process.pid, startTime, checkout: REPO_ROOT }) + "\n");
  }
  ownedRuns.add(runId);
  return dir;
}

/**
 * Tears down the roots of every run whose owning process is gone (a killed or crashed run) and
 * returns those runs' ids. Directories without `owner.json` are not runs and are left alone.
 */
export function sweepStaleRuns(): string[] {
  const swept: string[] = [];
  if (!existsSync(ROOTS_DIR)) return swept;
  for (const runId of readdirSync(ROOTS_DIR)) {
    const dir = join(ROOTS_DIR, runId);
    let owner: { pid: number; startTime?: string };
    try {
      owner = JSON.parse(readFileSync(join(dir, "owner.json"), "utf8"));
    } catch {
      continue;
    }
    if (processStartTime(owner.pid) === owner.startTime) continue;
    progress(`removing the roots of run ${runId}: its process ${owner.pid} is gone`);
    for (const name of readdirSync(dir)) {
      if (name === "owner.json") continue;
      const names = rootNames(runId, name);
      safeTeardown(names.dir, names.netns, names.vethHost);
    }
    // a namespace whose directory never got made, or was already removed
    for (const netns of existsSync("/run/netns") ? readdirSync("/run/netns") : []) {
      if (netns.startsWith(`oe-${runId}-`)) safeTeardown(join(dir, netns.slice(`oe-${runId}-`.length)), netns, "");
    }
    if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
    swept.push(runId);
  }
  return swept;
}

function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter(
      (mountPoint): mountPoint is string => !!mountPoint && (mountPoint === dir || mountPoint.startsWith(dir + "/")),
    )
    .map((mountPoint) => mountPoint.replace(/\\040/g, " "));
}

/** Processes chrooted into `dir` (optionally only those whose command name is `command`). */
export function pidsInRoot(dir: string, command?: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const rootLink = readlinkSync(`/proc/${entry}/root`);
      if (rootLink !== dir && !rootLink.startsWith(dir + "/")) continue;
      if (command && readFileSync(`/proc/${entry}/comm`, "utf8").trim() !== command) continue;
      pids.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

function pidsOf(dir: string, netns: string): number[] {
  const pids = new Set<number>(pidsInRoot(dir));
  try {
    for (const pid of execFileSync("ip", ["netns", "pids", netns], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).split(/\s+/)) {
      if (pid) pids.add(Number(pid));
    }
  } catch {
    // no such namespace
  }
  return [...pids];
}

/** Synchronous so it can also run from the process's exit handler. */
function teardown(dir: string, netns: string, vethHost: string): void {
  for (let attempt = 0; attempt < 20; attempt++) {
    const pids = pidsOf(dir, netns);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    execFileSync("sleep", ["0.1"]);
  }
  for (const mountPoint of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    execFileSync("umount", ["-l", mountPoint]);
  }
  if (namespaceExists(netns)) execFileSync("ip", ["netns", "delete", netns]);
  // The root's nodes (addNode): their processes are chrooted into dir, so gone by now.
  for (const node of existsSync("/run/netns") ? readdirSync("/run/netns") : []) {
    if (node.startsWith(`${netns}.`)) execFileSync("ip", ["netns", "delete", node]);
  }
  try {
    if (vethHost) execFileSync("ip", ["link", "delete", vethHost], { stdio: "ignore" });
  } catch {
    // deleting the namespace already removed the pair
  }
  if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
}

function safeTeardown(dir: string, netns: string, vethHost: string): void {
  try {
    teardown(dir, netns, vethHost);
  } catch {
    // the namespace may not exist; the rest of teardown still ran in order above
    for (const mountPoint of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
      try {
        execFileSync("umount", ["-l", mountPoint]);
      } catch {
        // already unmounted
      }
    }
    if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
  }
}

process.on("exit", () => {
  for (const { dir, netns, vethHost } of liveRoots.values()) safeTeardown(dir, netns, vethHost);
  for (const runId of ownedRuns) removeRunDirIfEmpty(runId);
});

/** Vitest may end a test process without its exit handler: each destroy() tidies up after itself. */
function removeRunDirIfEmpty(runId: string): void {
  const dir = join(ROOTS_DIR, runId);
  const left = existsSync(dir) ? readdirSync(dir).filter((entry) => entry !== "owner.json") : [];
  if (left.length === 0) rmSync(dir, { recursive: true, force: true });
}

function namespaceExists(netns: string): boolean {
  return existsSync(`/run/netns/${netns}`);
}

/**
 * Makes the veth pair and gives the host side the first free 10.231.N.1/30 (N from the name, then
 * the next free one), under a lock so two runs never pick the same N; prints N.
 */
const NETWORK_SETUP = `set -eu
netns=$1 veth_host=$2 veth_root=$3 start=$4
used=$(ip -o -4 addr show)
for offset in $(seq 0 249); do
  n=$(((start + offset) % 250))
  case $used in *" 10.231.$n.1/30"*) continue ;; esac
  ip link add "$veth_host" type veth peer name "$veth_root"
  ip link set "$veth_root" netns "$netns"
  ip addr add "10.231.$n.1/30" dev "$veth_host"
  echo "$n"
  exit 0
done
echo "no free 10.231.N.0/30 subnet for a test root" >&2
exit 1`;

/**
 * A fresh writable Debian 13 root in its own network namespace (see the file header). `runId`
 * (default `RUN_ID`, this run) is for the fixture's own test of two runs side by side.
 */
export async function freshRoot(
  name: string,
  options: { packages?: string[]; runId?: string } = {},
): Promise<DebianRoot> {
  if (!/^[a-z0-9-]{1,20}$/.test(name)) throw new Error(`freshRoot: name must match [a-z0-9-]{1,20}, got "${name}"`);
  const runId = options.runId ?? RUN_ID;
  const tarball = await ensureDebianRoot(options.packages);
  sweepStaleRuns();
  const { dir, netns, vethHost, vethRoot } = rootNames(runId, name);
  ownRunDir(runId);
  safeTeardown(dir, netns, vethHost);
  if (namespaceExists(netns)) execFileSync("ip", ["netns", "delete", netns]);

  mkdirSync(dir, { recursive: true });
  liveRoots.set(dir, { dir, netns, vethHost });
  await timed(`${name}: unpacking a fresh root in ${dir}`, () =>
    runHost(["tar", "--numeric-owner", "--zstd", "-xpf", tarball, "-C", dir]),
  );
  execFileSync("mount", ["-t", "proc", "proc", join(dir, "proc")]);
  execFileSync("mount", ["-t", "sysfs", "sysfs", join(dir, "sys")]);
  execFileSync("mount", ["--bind", "/dev", join(dir, "dev")]);
  execFileSync("mount", ["--bind", "/dev/pts", join(dir, "dev/pts")]);
  writeFileSync(join(dir, "etc/hostname"), `${name}\n`);
  writeFileSync(join(dir, "etc/hosts"), `127.0.0.1 localhost\n::1 localhost ip6-localhost\n`);

  execFileSync("ip", ["netns", "add", netns]);
  const start = createHash("sha256").update(`${runId}/${name}`).digest()[0];
  const n = execFileSync(
    "flock",
    [
      "-w",
      "60",
      join(ROOTS_DIR, ".network.lock"),
      "sh",
      "-c",
      NETWORK_SETUP,
      "sh",
      netns,
      vethHost,
      vethRoot,
      `${start}`,
    ],
    { encoding: "utf8" },
  ).trim();
  const hostAddress = `10.231.${n}.1`;
  const address = `10.231.${n}.2`;
  execFileSync("ip", ["link", "set", vethHost, "up"]);
  execFileSync("ip", ["-n", netns, "addr", "add", `${address}/30`, "dev", vethRoot]);
  execFileSync("ip", ["-n", netns, "link", "set", vethRoot, "up"]);
  execFileSync("ip", ["-n", netns, "link", "set", "lo", "up"]);
  writeFileSync(join(dir, "etc/hosts"), `127.0.0.1 localhost\n${address} ${name}\n`);

  // nsenter joins the network namespace only; `ip netns exec` would also give each command a
  // mount namespace of its own, and a mount the code under test makes (the bootstrap's bind
  // of DATA_DIR) would vanish when the command ends. destroy() unmounts what stays.
  const inRoot = (argv: string[], env: Record<string, string> = {}, inNetns = netns): string[] => [
    "nsenter",
    `--net=/run/netns/${inNetns}`,
    "chroot",
    dir,
    "/usr/bin/env",
    "-i",
    `PATH=${PATH_IN_ROOT}`,
    "HOME=/root",
    "LANG=C.UTF-8",
    "TERM=dumb",
    ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
    ...argv,
  ];
  const pathIn = (pathInRoot: string) => join(dir, pathInRoot.replace(/^\/+/, ""));

  // Any command that takes 10 s or more (lynis, the bootstrap) says so, with its time.
  const runIn =
    (label: string, inNetns: string) =>
    (argv: string[], options: RunOptions = {}): Promise<RunResult> =>
      timed(
        `${label}: ${argv.join(" ").slice(0, 80)}`,
        () => runHost(inRoot(argv, options.env, inNetns), { ...options, env: undefined }),
        10_000,
      );
  const shIn =
    (label: string, inNetns: string) =>
    (script: string, options: RunOptions = {}): Promise<RunResult> =>
      timed(
        `${label}: ${script.replace(/\s+/g, " ").trim().slice(0, 80)}`,
        () => runHost(inRoot(["bash", "-c", script], options.env, inNetns), { ...options, env: undefined }),
        10_000,
      );
  const startDaemonIn =
    (inNetns: string) =>
    async (label: string, argv: string[], ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
      const logFile = pathIn(`/var/log/${label}.fixture.log`);
      const fd = openSync(logFile, "a");
      const command = inRoot(argv, {}, inNetns);
      const child = spawn(command[0], command.slice(1), { detached: true, stdio: ["ignore", fd, fd] });
      closeSync(fd);
      child.unref();
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null)
          throw new Error(`${label} exited ${child.exitCode}: ${readFileSync(logFile, "utf8").slice(-3000)}`);
        if (await ready()) return;
        await new Promise((wake) => setTimeout(wake, 250));
      }
      throw new Error(`${label} not ready after ${timeoutMs} ms: ${readFileSync(logFile, "utf8").slice(-3000)}`);
    };
  const nodes: string[] = [];

  const root: DebianRoot = {
    name,
    dir,
    netns,
    hostAddress,
    address,
    path: pathIn,
    run: runIn(name, netns),
    sh: shIn(name, netns),
    writeFile(pathInRoot, text, mode = 0o644) {
      const target = pathIn(pathInRoot);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
      chmodSync(target, mode);
    },
    readFile: (pathInRoot) => readFileSync(pathIn(pathInRoot), "utf8"),
    startDaemon: startDaemonIn(netns),
    addNode(nodeName) {
      if (!/^[a-z0-9-]{1,20}$/.test(nodeName) || nodes.includes(nodeName))
        throw new Error(`addNode: name must match [a-z0-9-]{1,20} and be new, got "${nodeName}"`);
      nodes.push(nodeName);
      const nodeNetns = `${netns}.${nodeName}`;
      const hash = createHash("sha256").update(nodeNetns).digest("hex").slice(0, 8);
      const [vethRootSide, vethNode] = [`oeg-${hash}`, `oen-${hash}`];
      const subnet = `10.232.${nodes.length}`;
      const [gateway, nodeAddress] = [`${subnet}.1`, `${subnet}.2`];
      execFileSync("ip", ["netns", "add", nodeNetns]);
      execFileSync("ip", ["link", "add", vethRootSide, "type", "veth", "peer", "name", vethNode]);
      execFileSync("ip", ["link", "set", vethRootSide, "netns", netns]);
      execFileSync("ip", ["link", "set", vethNode, "netns", nodeNetns]);
      execFileSync("ip", ["-n", netns, "addr", "add", `${gateway}/30`, "dev", vethRootSide]);
      execFileSync("ip", ["-n", netns, "link", "set", vethRootSide, "up"]);
      execFileSync("ip", ["-n", nodeNetns, "addr", "add", `${nodeAddress}/30`, "dev", vethNode]);
      execFileSync("ip", ["-n", nodeNetns, "link", "set", vethNode, "up"]);
      execFileSync("ip", ["-n", nodeNetns, "link", "set", "lo", "up"]);
      // Packets for the root's own address arrive in its namespace; nothing is forwarded further.
      execFileSync("ip", ["-n", nodeNetns, "route", "add", "default", "via", gateway]);
      return {
        name: nodeName,
        netns: nodeNetns,
        address: nodeAddress,
        gateway,
        run: runIn(`${name}.${nodeName}`, nodeNetns),
        sh: shIn(`${name}.${nodeName}`, nodeNetns),
        startDaemon: startDaemonIn(nodeNetns),
      };
    },
    async destroy() {
      safeTeardown(dir, netns, vethHost);
      liveRoots.delete(dir);
      removeRunDirIfEmpty(runId);
    },
  };
  return root;
}

export interface TestCa {
  dir: string;
  caCert: string;
  caKey: string;
  caPem: string;
}

export async function makeTestCa(dir: string, commonName = "openemr-aws test CA"): Promise<TestCa> {
  mkdirSync(dir, { recursive: true });
  const caKey = join(dir, "ca.key");
  const caCert = join(dir, "ca.pem");
  await runHost([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:3072",
    "-nodes",
    "-sha256",
    "-days",
    "365",
    "-subj",
    `/CN=${commonName}`,
    "-keyout",
    caKey,
    "-out",
    caCert,
  ]);
  return { dir, caCert, caKey, caPem: readFileSync(caCert, "utf8") };
}

export interface IssuedCert {
  cert: string;
  key: string;
}

export async function issueCert(
  ca: TestCa,
  dir: string,
  name: string,
  subject: { cn: string; ips?: string[]; dnsNames?: string[] },
): Promise<IssuedCert> {
  mkdirSync(dir, { recursive: true });
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  const altNames = [
    ...(subject.ips ?? []).map((ip) => `IP:${ip}`),
    ...(subject.dnsNames ?? []).map((dns) => `DNS:${dns}`),
  ];
  writeFileSync(
    ext,
    `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n` +
      (altNames.length ? `subjectAltName=${altNames.join(",")}\n` : ""),
  );
  await runHost([
    "openssl",
    "req",
    "-new",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${subject.cn}`,
    "-keyout",
    key,
    "-out",
    csr,
  ]);
  await runHost([
    "openssl",
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.caCert,
    "-CAkey",
    ca.caKey,
    "-CAcreateserial",
    "-days",
    "365",
    "-sha256",
    "-extfile",
    ext,
    "-out",
    cert,
  ]);
  return { cert, key };
}

export interface MariadbServer {
  host: string;
  port: number;
  /** The test CA that signed the server's certificate (PEM). */
  caPem: string;
  /** Where that CA is inside the root. */
  caFileInRoot: string;
  /** An administrator reachable over TCP+TLS, standing in for RDS's master user. */
  admin: { username: string; password: string };
}

const MARIADB_TLS_DIR = "/etc/mysql/test-tls";

export async function mariadbSql(root: DebianRoot, sql: string, database?: string): Promise<string> {
  const argv = ["mariadb", "--batch", "--skip-column-names", ...(database ? [database] : [])];
  return (await root.run(argv, { input: sql })).stdout;
}

async function mariadbAlive(root: DebianRoot): Promise<boolean> {
  return (await root.run(["mariadb-admin", "--connect-timeout=2", "ping"], { check: false })).code === 0;
}

/** Configures (once per root) and starts MariaDB with TLS required; see the file header. */
export async function startMariadb(root: DebianRoot): Promise<MariadbServer> {
  const tlsDir = root.path(MARIADB_TLS_DIR);
  const adminFile = root.path("/root/.fixture-dbadmin");
  if (!existsSync(join(tlsDir, "server.pem"))) {
    const ca = await makeTestCa(join(tlsDir, "ca"), `${root.name} test CA`);
    await issueCert(ca, tlsDir, "server", {
      cn: root.address,
      ips: [root.address, "127.0.0.1"],
      dnsNames: [root.name, "localhost"],
    });
    root.writeFile(`${MARIADB_TLS_DIR}/ca.pem`, ca.caPem, 0o644);
    rmSync(join(tlsDir, "ca"), { recursive: true, force: true });
    await root.run(["chown", "-R", "mysql:mysql", MARIADB_TLS_DIR]);
    await root.run(["chmod", "0600", `${MARIADB_TLS_DIR}/server.key`]);
    root.writeFile(
      "/etc/mysql/mariadb.conf.d/90-openemr-test.cnf",
      [
        "[mariadbd]",
        `bind-address = ${root.address}`,
        `ssl_ca = ${MARIADB_TLS_DIR}/ca.pem`,
        `ssl_cert = ${MARIADB_TLS_DIR}/server.pem`,
        `ssl_key = ${MARIADB_TLS_DIR}/server.key`,
        "require_secure_transport = ON",
        "local_infile = ON",
        "character_set_server = utf8mb4",
        "collation_server = utf8mb4_general_ci",
        "innodb_buffer_pool_size = 256M",
        "",
      ].join("\n"),
    );
    writeFileSync(adminFile, randomBytes(18).toString("base64url").replace(/[-_]/g, "x"), { mode: 0o600 });
  }
  await root.run(["install", "-d", "-o", "mysql", "-g", "mysql", "-m", "0755", "/run/mysqld"]);
  if (!(await mariadbAlive(root))) {
    await timed(
      `${root.name}: starting MariaDB`,
      () => root.startDaemon("mariadb", ["/usr/sbin/mariadbd", "--user=mysql"], () => mariadbAlive(root), 120_000),
      5_000,
    );
  }
  const password = readFileSync(adminFile, "utf8");
  await mariadbSql(
    root,
    `CREATE USER IF NOT EXISTS 'dbadmin'@'%' IDENTIFIED BY '${password}';\n` +
      "GRANT ALL PRIVILEGES ON *.* TO 'dbadmin'@'%' WITH GRANT OPTION;\n",
  );
  return {
    host: root.address,
    port: 3306,
    caPem: root.readFile(`${MARIADB_TLS_DIR}/ca.pem`),
    caFileInRoot: `${MARIADB_TLS_DIR}/ca.pem`,
    admin: { username: "dbadmin", password },
  };
}

export async function stopMariadb(root: DebianRoot): Promise<void> {
  if (!(await mariadbAlive(root))) return;
  await root.run(["mariadb-admin", "shutdown"]);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (pidsInRoot(root.dir, "mariadbd").length === 0) return;
    await new Promise((wake) => setTimeout(wake, 250));
  }
  throw new Error("mariadbd did not stop within 60 s");
}
