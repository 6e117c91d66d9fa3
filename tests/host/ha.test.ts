// The ha tier's hosts, several at once on one shared database: one installer across them (the
// install lock), one schema upgrade when a newer release reaches them, one host for each timer
// job's period (elected_node), and PHP sessions shared through Valkey.
//
// One Debian 13 root runs MariaDB with TLS required and Valkey with TLS and AUTH (standing for
// RDS and ElastiCache). Each node is a network namespace of its own joined to the root's, with
// its own host name (a UTS namespace), its own settings, code tree and state, running the
// bundle's real step_release, step_database and step_install. The nodes share the root's files:
// /srv/openemr-sites, owned by www-data like the EFS access point's root directory, stands for
// the EFS file system; this machine's kernel has no NFS client, so it is a directory, not a
// mount. OpenEMR's release is a stand-in whose installer and schema upgrade record each run,
// change the database and take the time they are told.
import { createHash, randomBytes } from "crypto";
import { execFileSync } from "child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join, resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DebianRoot,
  MariadbServer,
  RootNode,
  RunResult,
  TestCa,
  freshRoot,
  issueCert,
  makeTestCa,
  mariadbSql,
  startMariadb,
} from "./lib/debian-root";
import { FAKE_SECRETS_MANAGER_CLI } from "./lib/fake-secrets-manager";

const SHARED_SITES = "/srv/openemr-sites";
const INSTALLER_RUNS = "/srv/runs/installer";
const UPGRADE_RUNS = "/srv/runs/upgrade";
const SESSION_CACHE_HOST = "sessions.clinic.test";
const EFS_ID = "fs-0123456789abcdef0";
const EFS_ACCESS_POINT = "fsap-0123456789abcdef0";
const EFS_HOST = `${EFS_ID}.efs.eu-west-1.amazonaws.com`;
const PHP_SESSION_FILES = "/var/lib/php/sessions";

// The database's connection as OpenEMR's installer writes it in sqlconf.php, over TLS verified
// against the site's mysql-ca as OpenEMR connects.
const CONNECT = `function stand_in_connect($site) {
    include "$site/sqlconf.php";
    $db = mysqli_init();
    $db->ssl_set(null, null, "$site/documents/certificates/mysql-ca", null, null);
    $db->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
    return $db->real_connect($host, $login, $pass, $dbase, (int) $port, null, MYSQLI_CLIENT_SSL) ? $db : false;
}`;

// Stand-in for OpenEMR's InstallerAuto.php: records its run, makes OpenEMR's version table and a
// table of its own, takes its time, then writes sqlconf.php as the real one does.
const STAND_IN_INSTALLER = `<?php
$args = [];
foreach (array_slice($argv, 1) as $arg) {
    if (strpos($arg, '=') !== false) {
        [$key, $value] = explode('=', $arg, 2);
        $args[$key] = $value;
    }
}
$top = __DIR__ . '/../../..';
$node = getenv('STAND_IN_NODE');
file_put_contents('${INSTALLER_RUNS}', "$node\\n", FILE_APPEND | LOCK_EX);
include "$top/version.php";
$db = mysqli_init();
$db->ssl_set(null, null, "$top/sites/{$args['site']}/documents/certificates/mysql-ca", null, null);
$db->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
$db->real_connect(
    $args['server'], $args['login'], $args['pass'], $args['dbname'], (int) $args['port'], null, MYSQLI_CLIENT_SSL
);
try {
    $db->query('CREATE TABLE version (v_major INT, v_minor INT, v_patch INT, v_database INT)');
    $db->query("INSERT INTO version VALUES ($v_major, $v_minor, $v_patch, $v_database)");
    $db->query('CREATE TABLE installed_by (node VARCHAR(32))');
    $db->query("INSERT INTO installed_by VALUES ('$node')");
} catch (Throwable $error) {
    echo 'ERROR: ' . $error->getMessage() . "\\n";
    exit(0);
}
sleep((int) getenv('STAND_IN_SECONDS'));
$conf = "<?php\\n\\$host = '{$args['server']}';\\n\\$port = '{$args['port']}';\\n\\$login = '{$args['login']}';\\n" .
    "\\$pass = '{$args['pass']}';\\n\\$dbase = '{$args['dbname']}';\\n\\$db_encoding = 'utf8mb4';\\n\\$config = 1;\\n";
file_put_contents("$top/sites/{$args['site']}/sqlconf.php", $conf);
echo "stand-in installer finished\\n";
`;

// Stand-in for OpenEMR's sql_upgrade.php --from=X: records its run, takes its time, moves the
// version table to the code's release.
const STAND_IN_UPGRADE = `<?php
${CONNECT}
$from = substr($argv[1], strlen('--from='));
$node = getenv('STAND_IN_NODE');
file_put_contents('${UPGRADE_RUNS}', "$node $from\\n", FILE_APPEND | LOCK_EX);
include __DIR__ . '/version.php';
$db = stand_in_connect(__DIR__ . '/sites/default');
sleep((int) getenv('STAND_IN_SECONDS'));
$db->query("UPDATE version SET v_major = $v_major, v_minor = $v_minor, v_patch = $v_patch, v_database = $v_database");
echo "stand-in upgrade from $from finished\\n";
`;

// A page that keeps a user in PHP's session, and says which host served it.
const SESSION_PAGE = `<?php
session_start();
if (isset($_GET['user'])) {
    $_SESSION['user'] = $_GET['user'];
}
header('Content-Type: application/json');
echo json_encode(['host' => gethostname(), 'session' => session_id(), 'user' => $_SESSION['user'] ?? null]);
`;

// Names the node's host: only ever in a UTS namespace of its own, never the machine's.
const NODE_HOST_NAME =
  '[[ $(readlink /proc/self/ns/uts) != $(readlink /proc/1/ns/uts) ]] || { echo "no UTS namespace" >&2; exit 99; }\n' +
  'echo "node-$1" >/proc/sys/kernel/hostname';

// A page that connects to the database as OpenEMR does, with what the site's sqlconf.php says.
const DB_PAGE = `<?php
${CONNECT}
mysqli_report(MYSQLI_REPORT_OFF);
echo @stand_in_connect(__DIR__ . '/sites/default') ? "connected\n" : "refused\n";
`;

/** A stand-in OpenEMR release tarball, openemr-VERSION.tar.gz, in DIR; resolves to its sha256. */
function buildStandInRelease(dir: string, version: string, databaseVersion: number): string {
  const work = mkdtempSync(join(tmpdir(), "ha-release-"));
  const top = join(work, `openemr-${version}`);
  const [major, minor, patch] = version.split(".");
  const files: Record<string, string> = {
    "index.php": `<?php include __DIR__ . '/version.php'; echo "OpenEMR $v_major.$v_minor.$v_patch\\n";\n`,
    "version.php":
      `<?php\n$v_major = '${major}';\n$v_minor = '${minor}';\n$v_patch = '${patch}';\n` +
      `$v_database = ${databaseVersion};\n`,
    "contrib/util/installScripts/InstallerAuto.php": STAND_IN_INSTALLER,
    "sql_upgrade.php": STAND_IN_UPGRADE,
    "session.php": SESSION_PAGE,
    "db.php": DB_PAGE,
    "sites/default/sqlconf.php": "<?php\n$config = 0;\n",
    "sites/default/documents/.keep": "",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(top, path, ".."), { recursive: true });
    writeFileSync(join(top, path), text);
  }
  const tarball = join(dir, `openemr-${version}.tar.gz`);
  execFileSync("tar", ["-C", work, "--owner=0", "--group=0", "-czf", tarball, `openemr-${version}`]);
  rmSync(work, { recursive: true, force: true });
  return createHash("sha256").update(readFileSync(tarball)).digest("hex");
}

describe("ha: hosts on one shared database, shared sites/ and shared sessions", () => {
  let root: DebianRoot;
  let db: MariadbServer;
  const sessionToken = randomBytes(24).toString("base64").replace(/[+/=]/g, "x");
  let ca: TestCa;
  const releases: Record<string, string> = {};
  const nodes = new Map<string, RootNode>();
  const node = (name: string): RootNode => {
    if (!nodes.has(name)) nodes.set(name, root.addNode(name));
    return nodes.get(name)!;
  };

  // A new instance of the group booting release VERSION: a fresh code tree and state, the
  // bootstrap's release, database and install steps, in its own process group (its id in
  // /srv/node-NAME.pid, for a kill of the whole host). Its stand-ins take `seconds`.
  const boot = (name: string, version: string, seconds: number): Promise<RunResult> => {
    const settings = [
      "OPENEMR_MODE=onprem",
      "OPENEMR_TIER=ha",
      "OPENEMR_STACK=clinic-test",
      "OPENEMR_SITE=default",
      `OPENEMR_VERSION=${version}`,
      `OPENEMR_RELEASE_URL=file:///srv/releases/openemr-${version}.tar.gz`,
      `OPENEMR_SHA256=${releases[version]}`,
      `OPENEMR_WEB_ROOT=/srv/node-${name}/openemr`,
      `DB_HOST=${db.host}`,
      `DB_PORT=${db.port}`,
      "DB_NAME=openemr",
      "DB_APP_HOST=%",
      `DB_CA_FILE=${db.caFileInRoot}`,
      "SECRET_DB_APP=app",
      "SECRET_ADMIN=admin",
      `EFS_FILE_SYSTEM_ID=${EFS_ID}`,
      `EFS_ACCESS_POINT_ID=${EFS_ACCESS_POINT}`,
      "AWS_REGION=eu-west-1",
      `SHARED_SITES_DIR=${SHARED_SITES}`,
      `SESSION_CACHE_HOST=${SESSION_CACHE_HOST}`,
      "SECRET_SESSION_CACHE=sessions",
    ];
    rmSync(root.path(`/srv/node-${name}`), { recursive: true, force: true });
    root.writeFile(`/srv/node-${name}/etc/settings.env`, settings.join("\n") + "\n", 0o600);
    root.writeFile(`/srv/node-${name}/etc/secrets.json`, root.readFile("/srv/secrets.json"), 0o600);
    return node(name).run(["unshare", "--uts", "setsid", "--wait", "bash", "/srv/boot.sh", name, String(seconds)], {
      check: false,
      timeoutMs: 600_000,
    });
  };
  const lines = (file: string) => root.readFile(file).split("\n").filter(Boolean);
  const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));
  const holderOf = (waiter: RunResult, work: string) =>
    new RegExp(
      `waiting for the install lock openemr-aws-install-openemr, held by session \\d+ from ([\\d.]+):\\d+ ` +
        `\\(another host ${work}\\)`,
    ).exec(waiter.stderr)?.[1];

  beforeAll(async () => {
    root = await freshRoot("ha");
    db = await startMariadb(root);
    execFileSync("cp", ["-a", `${resolve(__dirname, "../../infra/host")}/.`, root.path("/opt/openemr-aws")]);
    const app = { username: "openemr_app", password: randomBytes(24).toString("base64").replace(/[+/=]/g, "x") };
    const admin = { username: "admin", password: randomBytes(24).toString("base64").replace(/[+/=]/g, "x") };
    root.writeFile("/srv/secrets.json", JSON.stringify({ app, admin, sessions: { password: sessionToken } }), 0o600);
    await mariadbSql(
      root,
      "CREATE DATABASE openemr CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n" +
        `CREATE USER 'openemr_app'@'%' IDENTIFIED BY '${app.password}' REQUIRE SSL;\n` +
        "GRANT ALL PRIVILEGES ON openemr.* TO 'openemr_app'@'%';\n",
    );

    // Valkey (ElastiCache) and the EFS endpoint have certificates from a CA in the hosts' trust
    // store, as AWS's are in Debian's, for names the hosts resolve to the root's address.
    ca = await makeTestCa(root.path("/srv/test-ca"), "openemr-aws test AWS endpoints CA");
    const cert = await issueCert(ca, root.path("/etc/valkey/tls"), "valkey", {
      cn: SESSION_CACHE_HOST,
      dnsNames: [SESSION_CACHE_HOST],
    });
    root.writeFile("/usr/local/share/ca-certificates/openemr-aws-test-endpoints.crt", ca.caPem);
    await root.run(["update-ca-certificates"]);
    root.writeFile(
      "/etc/hosts",
      `${root.readFile("/etc/hosts")}${root.address} ${SESSION_CACHE_HOST}\n${root.address} ${EFS_HOST}\n`,
    );
    const inRoot = (path: string) => "/" + path.slice(root.dir.length).replace(/^\/+/, "");
    root.writeFile(
      "/etc/valkey/sessions.conf",
      [
        `bind ${root.address}`,
        "port 0",
        "tls-port 6379",
        `tls-cert-file ${inRoot(cert.cert)}`,
        `tls-key-file ${inRoot(cert.key)}`,
        "tls-auth-clients no",
        `requirepass ${sessionToken}`,
        'save ""',
        "appendonly no",
      ].join("\n") + "\n",
      0o600,
    );
    await root.startDaemon("valkey", ["valkey-server", "/etc/valkey/sessions.conf"], async () => {
      const ping = await root.run(valkeyCli("PING"), { check: false });
      return ping.stdout.trim() === "PONG";
    });

    for (const [version, databaseVersion] of [
      ["7.0.3", 400],
      ["7.0.4", 410],
      ["7.0.5", 420],
    ] as const) {
      mkdirSync(root.path("/srv/releases"), { recursive: true });
      releases[version] = buildStandInRelease(root.path("/srv/releases"), version, databaseVersion);
    }
    await root.sh(
      `install -d -m 1777 /srv/runs && : >${INSTALLER_RUNS} && : >${UPGRADE_RUNS} && chmod 0666 /srv/runs/* && ` +
        `install -d -o www-data -g www-data -m 0750 ${SHARED_SITES}`,
    );
    root.writeFile(
      "/srv/boot.sh",
      [
        "set -euo pipefail",
        'echo $$ >"/srv/node-$1.pid"',
        NODE_HOST_NAME,
        "export STAND_IN_NODE=$1 STAND_IN_SECONDS=$2",
        "export OPENEMR_AWS_ETC=/srv/node-$1/etc OPENEMR_AWS_STATE=/srv/node-$1/state",
        'BUNDLE_DIR=/opt/openemr-aws PROG="node-$1" RUN_DIR=$(mktemp -d) SECRET_VALUES=()',
        "source $BUNDLE_DIR/lib/common.sh",
        "source $BUNDLE_DIR/lib/verify.sh",
        "source $BUNDLE_DIR/lib/release.sh",
        "source $BUNDLE_DIR/lib/steps.sh",
        "read_settings_file",
        "load_credentials DB_APP $SECRET_DB_APP",
        "load_credentials ADMIN $SECRET_ADMIN",
        "install -d -m 0700 $OPENEMR_AWS_STATE",
        "step_release",
        "step_database",
        "step_install",
      ].join("\n"),
    );
    // A node serving its code tree with PHP's built-in server, with the hardened php.ini and the
    // session configuration the bootstrap renders for PHP-FPM on ha.
    root.writeFile(
      "/srv/serve.sh",
      [
        "set -euo pipefail",
        NODE_HOST_NAME,
        "export OPENEMR_AWS_ETC=/srv/node-$1/etc",
        'BUNDLE_DIR=/opt/openemr-aws PROG="serve-$1" RUN_DIR=$(mktemp -d) SECRET_VALUES=()',
        "source $BUNDLE_DIR/lib/common.sh",
        "source $BUNDLE_DIR/lib/steps.sh",
        "read_settings_file",
        "read_session_cache_token",
        "port=${2:-8080} conf=/srv/node-$1/php-${2:-8080}",
        "install -d -m 0750 -g www-data $conf",
        "cp $BUNDLE_DIR/conf/php/90-openemr.ini $conf/",
        "render_session_config | install_text $conf/92-openemr-sessions.ini 0640 root:www-data >/dev/null",
        // As PHP-FPM on ha: the shared site's sqlconf.php kept out of OPcache (unless told "cached").
        "if [[ ${3:-} != cached ]]; then",
        "  OPCACHE_BLACKLIST=$conf/opcache-blacklist.txt",
        "  render_opcache_blacklist | install_text $OPCACHE_BLACKLIST >/dev/null",
        "  render_shared_site_opcache_config | install_text $conf/93-openemr-shared-site.ini >/dev/null",
        "fi",
        // OPcache on, as in PHP-FPM (90-openemr.ini turns it off for the command line).
        "exec runuser -u www-data -- env PHP_INI_SCAN_DIR=/etc/php/8.4/cli/conf.d:$conf " +
          "php -d opcache.enable_cli=1 -S 0.0.0.0:$port -t $OPENEMR_WEB_ROOT",
      ].join("\n"),
    );
    // A node's half of the EFS mount: its client certificate and stunnel's configuration, made
    // by the bootstrap's own functions (step_shared_sites without systemd and mount).
    root.writeFile(
      "/srv/efs-tls.sh",
      [
        "set -euo pipefail",
        NODE_HOST_NAME,
        "export OPENEMR_AWS_ETC=/srv/node-$1/etc",
        'BUNDLE_DIR=/opt/openemr-aws PROG="efs-$1" RUN_DIR=$(mktemp -d) SECRET_VALUES=()',
        "source $BUNDLE_DIR/lib/common.sh",
        "source $BUNDLE_DIR/lib/steps.sh",
        "read_settings_file",
        "dir=/srv/node-$1/efs",
        "install -d -m 0700 $dir",
        "ensure_efs_client_certificate $dir >/dev/null",
        "render_efs_stunnel_config $dir >$dir/stunnel.conf",
      ].join("\n"),
    );
    root.writeFile(
      "/srv/job.sh",
      [
        "set -Eeuo pipefail",
        NODE_HOST_NAME,
        "export OPENEMR_AWS_ETC=/srv/node-$1/etc",
        'PROG="node-$1"',
        "source /opt/openemr-aws/lib/backup-common.sh",
        "read_settings_file",
        "RUN_DIR=$(mktemp -d)",
        // What systemd sets in a unit: the run is the timer's.
        "INVOCATION_ID=stand-in-timer",
        'if elected_node backup "$2"; then echo ran; sleep 5; else echo skipped; fi',
      ].join("\n"),
    );
  }, 1_200_000);

  afterAll(async () => {
    await root?.destroy();
  });

  const valkeyCli = (...command: string[]) => [
    "valkey-cli",
    "--tls",
    "-h",
    SESSION_CACHE_HOST,
    "-p",
    "6379",
    "-a",
    sessionToken,
    "--no-auth-warning",
    ...command,
  ];

  it("two nodes booting at once: exactly one runs the installer, the other waits naming the holder", async () => {
    // The installer takes longer than one 10-s ask for the lock, so the waiter always says who holds it.
    const [a, b] = await Promise.all([boot("a", "7.0.3", 25), boot("b", "7.0.3", 25)]);
    expect(a.stderr + b.stderr).not.toContain("ERROR");
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(lines(INSTALLER_RUNS)).toHaveLength(1);
    const [installer, waiter] = lines(INSTALLER_RUNS)[0] === "a" ? ["a", b] : ["b", a];
    expect(holderOf(waiter, "installs OpenEMR")).toBe(node(installer).address);
    expect(waiter.stderr).toContain("site default already installed");
    expect(waiter.stdout).not.toContain("installer:");
    expect(await mariadbSql(root, "SELECT node FROM installed_by", "openemr")).toBe(`${installer}\n`);
    // Each node's sites/default is the one shared site.
    for (const name of ["a", "b"]) {
      expect((await root.run(["readlink", `/srv/node-${name}/openemr/sites/default`])).stdout).toBe(
        `${SHARED_SITES}\n`,
      );
    }
    expect(root.readFile(`${SHARED_SITES}/sqlconf.php`)).toContain("$config = 1;");
  });

  it("a node killed mid-install frees the lock: the waiting one empties the partial database, installs", async () => {
    await root.sh(`find ${SHARED_SITES} -mindepth 1 -delete && : >${INSTALLER_RUNS}`);
    await mariadbSql(root, "DROP DATABASE openemr; CREATE DATABASE openemr;");
    const c = boot("c", "7.0.3", 300);
    while (!lines(INSTALLER_RUNS).includes("c")) await sleep(500);
    const d = boot("d", "7.0.3", 1);
    // d asks for the lock every 10 s and says who holds it each time.
    await sleep(15_000);
    const pid = root.readFile("/srv/node-c.pid").trim();
    await root.run(["kill", "-KILL", "--", `-${pid}`]);
    expect((await c).code).not.toBe(0);
    const taken = await d;
    expect(holderOf(taken, "installs OpenEMR")).toBe(node("c").address);
    expect(taken.stderr).toContain("a previous install of openemr did not finish: emptying its partial database");
    expect(taken.stderr).toContain("site default installed");
    expect(taken.code).toBe(0);
    expect(lines(INSTALLER_RUNS)).toEqual(["c", "d"]);
    expect(await mariadbSql(root, "SELECT node FROM installed_by", "openemr")).toBe("d\n");
  });

  it("a node added later joins without installing or taking the lock", async () => {
    const joined = await boot("e", "7.0.3", 1);
    expect(joined.code).toBe(0);
    expect(joined.stderr).toContain("sites/default linked to the shared /srv/openemr-sites");
    expect(joined.stderr).toContain("site default already installed");
    expect(joined.stderr).not.toContain("install lock");
    expect(lines(INSTALLER_RUNS)).toEqual(["c", "d"]);
  });

  it("both nodes serve; a session made through one is accepted by the other once the first is gone", async () => {
    const serve = async (name: string) => {
      await node(name).startDaemon(`serve-${name}`, ["unshare", "--uts", "bash", "/srv/serve.sh", name], async () => {
        const up = await root.run(["curl", "-s", "-o", "/dev/null", `http://${node(name).address}:8080/`], {
          check: false,
        });
        return up.code === 0;
      });
    };
    const get = (name: string, path: string, cookie?: string) =>
      root.run([
        "curl",
        "-si",
        ...(cookie ? ["-H", `Cookie: ${cookie}`] : []),
        `http://${node(name).address}:8080${path}`,
      ]);
    const body = (response: RunResult) => JSON.parse(response.stdout.slice(response.stdout.indexOf("\r\n\r\n") + 4));
    await serve("d");
    await serve("e");
    for (const name of ["d", "e"]) {
      expect((await get(name, "/")).stdout).toContain("OpenEMR 7.0.3");
    }

    const signedIn = await get("d", "/session.php?user=alice");
    const cookie = /^Set-Cookie: (PHPSESSID=[A-Za-z0-9,-]+);/im.exec(signedIn.stdout)?.[1];
    expect(cookie).toBeDefined();
    expect(body(signedIn)).toMatchObject({ host: "node-d", user: "alice" });
    const sessionId = cookie!.slice("PHPSESSID=".length);
    // The session is in Valkey, not in a file: the nodes share a file system here, EFS does not
    // hold sessions in production.
    expect((await root.run(valkeyCli("EXISTS", `PHPREDIS_SESSION:${sessionId}`))).stdout.trim()).toBe("1");
    expect((await root.run(["find", PHP_SESSION_FILES, "-type", "f"])).stdout).toBe("");

    // The node that served the user goes away; the other carries on with their session.
    await node("d").run(["pkill", "-KILL", "-f", "0.0.0.0:8080 -t /srv/node-d/"]);
    expect((await root.run(["curl", "-s", `http://${node("d").address}:8080/`], { check: false })).code).not.toBe(0);
    expect(body(await get("e", "/session.php", cookie))).toEqual({ host: "node-e", session: sessionId, user: "alice" });

    // Strict mode: an id Valkey does not hold is not taken; the user gets a new, empty session.
    const forged = body(await get("e", "/session.php", "PHPSESSID=forgedsessionid0123456789abc"));
    expect(forged.user).toBeNull();
    expect(forged.session).not.toBe("forgedsessionid0123456789abc");
  });

  it("a newer release on two new nodes at once: exactly one upgrades the schema, the other finds it done", async () => {
    // As for the installer: the upgrade outlasts one 10-s ask for the lock.
    const [f, g] = await Promise.all([boot("f", "7.0.4", 25), boot("g", "7.0.4", 25)]);
    expect(f.stderr + g.stderr).not.toContain("ERROR");
    expect([f.code, g.code]).toEqual([0, 0]);
    expect(lines(UPGRADE_RUNS)).toHaveLength(1);
    const [upgrader, from] = lines(UPGRADE_RUNS)[0].split(" ");
    expect(from).toBe("7.0.3");
    const [done, waiter] = upgrader === "f" ? [f, g] : [g, f];
    expect(done.stderr).toContain("upgrading the database's schema from OpenEMR 7.0.3 to 7.0.4");
    expect(done.stdout).toContain("sql_upgrade: stand-in upgrade from 7.0.3 finished");
    expect(waiter.stdout).not.toContain("sql_upgrade:");
    expect(holderOf(waiter, "upgrades OpenEMR's database")).toBe(node(upgrader).address);
    expect(waiter.stderr).toContain("the database's schema is at OpenEMR 7.0.4 already (another host upgraded it)");
    expect(await mariadbSql(root, "SELECT v_major, v_minor, v_patch, v_database FROM version", "openemr")).toBe(
      "7\t0\t4\t410\n",
    );
    expect(lines(INSTALLER_RUNS)).toEqual(["c", "d"]);

    // A node of the earlier release (a refresh rolling back) serves on the later schema, and says so.
    const earlier = await boot("h", "7.0.3", 1);
    expect(earlier.code).toBe(0);
    expect(earlier.stderr).toContain(
      "WARNING: the database's schema is at OpenEMR 7.0.4, later than this host's 7.0.3; serving 7.0.3 on it",
    );
    expect(lines(UPGRADE_RUNS)).toHaveLength(1);
  });

  it("a node killed mid-upgrade frees the lock: the waiting one upgrades the schema from where it was", async () => {
    await root.sh(`: >${UPGRADE_RUNS}`);
    const i = boot("i", "7.0.5", 300);
    while (!lines(UPGRADE_RUNS).some((line) => line.startsWith("i "))) await sleep(500);
    const j = boot("j", "7.0.5", 1);
    await sleep(15_000);
    await root.run(["kill", "-KILL", "--", `-${root.readFile("/srv/node-i.pid").trim()}`]);
    expect((await i).code).not.toBe(0);
    const taken = await j;
    expect(taken.code).toBe(0);
    expect(holderOf(taken, "upgrades OpenEMR's database")).toBe(node("i").address);
    expect(taken.stderr).toContain("upgrading the database's schema from OpenEMR 7.0.4 to 7.0.5");
    expect(lines(UPGRADE_RUNS)).toEqual(["i 7.0.4", "j 7.0.4"]);
    expect(await mariadbSql(root, "SELECT v_major, v_minor, v_patch, v_database FROM version", "openemr")).toBe(
      "7\t0\t5\t420\n",
    );
  });

  it("a node reaches EFS through stunnel as the bootstrap sets it: name, chain, access point", async () => {
    // The stand-in EFS endpoint: TLS on 2049, asking for a client certificate (any: EFS's are
    // self-signed), printing the one it gets and the bytes that come through.
    const efsEndpoint = async (name: string, dnsName: string) => {
      const cert = await issueCert(ca, root.path("/etc/efs-stand-in"), name, { cn: dnsName, dnsNames: [dnsName] });
      const inRoot = (path: string) => "/" + path.slice(root.dir.length).replace(/^\/+/, "");
      await root.sh("pkill -x openssl || true");
      root.writeFile(`/var/log/${name}.fixture.log`, "");
      await root.startDaemon(
        name,
        [
          "bash",
          "-c",
          `sleep 600 | openssl s_server -accept ${root.address}:2049 -cert ${inRoot(cert.cert)} ` +
            `-key ${inRoot(cert.key)} -verify 1`,
        ],
        async () => root.readFile(`/var/log/${name}.fixture.log`).includes("ACCEPT"),
      );
      return () => root.readFile(`/var/log/${name}.fixture.log`);
    };
    const probe = (text: string) =>
      node("e").run(["bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/20049 && printf '${text}\\n' >&3 && sleep 2`], {
        check: false,
      });
    const until = async (check: () => boolean) => {
      for (let tries = 0; tries < 40 && !check(); tries++) await sleep(250);
      return check();
    };

    const served = await efsEndpoint("efs", EFS_HOST);
    await node("e").run(["unshare", "--uts", "bash", "/srv/efs-tls.sh", "e"]);
    await node("e").startDaemon("stunnel-e", ["stunnel4", "/srv/node-e/efs/stunnel.conf"], async () => {
      const listening = await node("e").run(["ss", "-Hltn", "sport = :20049"]);
      // SO_BINDTODEVICE=lo shows as 127.0.0.1%lo.
      return /127\.0\.0\.1(%lo)?:20049/.test(listening.stdout);
    });
    await probe("nfs-through-tls");
    expect(await until(() => served().includes("nfs-through-tls"))).toBe(true);
    const presented = /Client certificate\n(-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----)/.exec(
      served(),
    )?.[1];
    expect(presented).toBeDefined();
    const text = (await root.run(["openssl", "x509", "-noout", "-text"], { input: presented })).stdout;
    expect(text).toMatch(new RegExp(`1\\.3\\.6\\.1\\.4\\.1\\.4843\\.7\\.1:\\s*\\S*${EFS_ACCESS_POINT}`));
    expect(text).toMatch(new RegExp(`1\\.3\\.6\\.1\\.4\\.1\\.4843\\.7\\.3:\\s*\\S*${EFS_ID}`));

    // An endpoint whose certificate names another host gets nothing through.
    const impostor = await efsEndpoint("efs-impostor", "fs-0fffffffffffffff0.efs.eu-west-1.amazonaws.com");
    await probe("must-not-arrive");
    await sleep(2_000);
    expect(impostor()).toContain("ACCEPT");
    expect(impostor()).not.toContain("must-not-arrive");
    expect(root.readFile("/var/log/stunnel-e.fixture.log")).toMatch(
      /CERT: Host name mismatch|certificate verify failed/i,
    );
  });

  it("the backup's timer firing on two nodes at once, and on a third later, runs it once", async () => {
    const job = (name: string, period: string) =>
      node(name).run(["unshare", "--uts", "bash", "/srv/job.sh", name, period], { check: false });
    const both = await Promise.all([job("a", "2026-12-02"), job("b", "2026-12-02")]);
    expect(both.map((result) => result.code)).toEqual([0, 0]);
    expect(both.map((result) => result.stdout).sort()).toEqual(["ran\n", "skipped\n"]);
    const ranOn = both[0].stdout === "ran\n" ? "node-a" : "node-b";
    const later = await job("e", "2026-12-02");
    expect(later.stdout).toBe("skipped\n");
    expect(later.stderr).toContain(`skipped: backup for 2026-12-02 ran on ${ranOn}`);
    expect(await mariadbSql(root, "SELECT job, period, node FROM openemr_aws_jobs", "openemr")).toBe(
      `backup\t2026-12-02\t${ranOn}\n`,
    );
    // The next day's is a new election.
    expect((await job("e", "2026-12-03")).stdout).toBe("ran\n");
  });
  // Last: the app account's password changes, which the nodes' onprem secrets.json does not follow.
  it("one node a day rotates the database password; the others read its sqlconf.php at once", async () => {
    root.writeFile("/usr/local/bin/aws", FAKE_SECRETS_MANAGER_CLI, 0o755);
    const app = JSON.parse(root.readFile("/srv/secrets.json")).app;
    root.writeFile("/srv/sm/versions/v1", JSON.stringify(app), 0o600);
    root.writeFile("/srv/sm/stages/AWSCURRENT", "v1\n", 0o600);
    for (const name of ["d", "e"]) {
      const settings = root
        .readFile(`/srv/node-${name}/etc/settings.env`)
        .replace("OPENEMR_MODE=onprem", "OPENEMR_MODE=ec2")
        .replace("SECRET_DB_APP=app", "SECRET_DB_APP=db-app");
      root.writeFile(`/srv/node-${name}/rotate-etc/settings.env`, `${settings}DB_PASSWORD_ROTATION_DAYS=30\n`, 0o600);
    }
    // The rotating host reloads its own PHP-FPM: one runs in the root.
    await root.run(["php-fpm8.4", "--daemonize"]);
    // Node e serves twice: as PHP-FPM does on ha, and with sqlconf.php left in OPcache.
    const serve = (port: number, mode: string) =>
      node("e").startDaemon(
        `serve-e-${port}`,
        ["unshare", "--uts", "bash", "/srv/serve.sh", "e", String(port), mode],
        async () => {
          const up = await root.run(["curl", "-s", "-o", "/dev/null", `http://${node("e").address}:${port}/`], {
            check: false,
          });
          return up.code === 0;
        },
      );
    const database = async (port: number) =>
      (await root.run(["curl", "-s", `http://${node("e").address}:${port}/db.php`])).stdout;
    await serve(8082, "blacklisted");
    await serve(8083, "cached");
    expect([await database(8082), await database(8083)]).toEqual(["connected\n", "connected\n"]);

    // Each host's timer fires (systemd's INVOCATION_ID); the day's first rotates. One after the
    // other here: on MariaDB, unlike RDS MySQL, the old password stops working at once, so a
    // host starting just then could be refused.
    const rotate = (name: string) =>
      node(name).run(
        [
          "unshare",
          "--uts",
          "bash",
          "-c",
          `${NODE_HOST_NAME}\nexec /opt/openemr-aws/bin/openemr-rotate-db-password --if-due`,
          "rotate",
          name,
        ],
        { check: false, env: { OPENEMR_AWS_ETC: `/srv/node-${name}/rotate-etc`, INVOCATION_ID: "stand-in-timer" } },
      );
    const rotated = await rotate("d");
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/rotate-db-password for \d{4}-\d\d-\d\d runs on this host \(node-d\)/);
    expect(rotated.stderr).toContain("OK: the password of openemr_app was rotated");
    const skipped = await rotate("e");
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(/skipped: rotate-db-password for \d{4}-\d\d-\d\d ran on node-d/);

    const current = root.readFile("/srv/sm/stages/AWSCURRENT").trim();
    const newPassword: string = JSON.parse(root.readFile(`/srv/sm/versions/${current}`)).password;
    expect(newPassword).not.toBe(app.password);
    expect(root.readFile(`${SHARED_SITES}/sqlconf.php`)).toContain(`$pass\t= '${newPassword}';`);
    // Node e's PHP reads the new sqlconf.php at its next request; with sqlconf.php in OPcache
    // it keeps the old password, which the server now refuses.
    expect(await database(8082)).toBe("connected\n");
    expect(await database(8083)).toBe("refused\n");
  });
});
