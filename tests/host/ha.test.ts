// The ha tier's agreements between hosts, on the shared database: one installer across the
// hosts (the install lock), and one host for each timer job's period (elected_node). One Debian
// 13 root runs MariaDB with TLS required; each "host" is a process of its own in that root, with
// its own host name (a UTS namespace) and its own database session, running the bundle's real
// step_database and step_install. Their web root is one directory both use: it stands for the
// EFS file system the hosts of the group share. OpenEMR's installer is replaced by a stand-in
// that records each run, leaves a table in the database, takes the time it is told, then writes
// sqlconf.php as the real one does.
import { randomBytes } from "crypto";
import { execFileSync } from "child_process";
import { resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebianRoot, MariadbServer, RunResult, freshRoot, mariadbSql, startMariadb } from "./lib/debian-root";

const WEB_ROOT = "/srv/shared/openemr";
const RUNS = `${WEB_ROOT}/installer-runs`;

const STAND_IN_INSTALLER = `<?php
// Stand-in for OpenEMR's InstallerAuto.php: records its run, leaves a table, takes its time.
$args = [];
foreach (array_slice($argv, 1) as $arg) {
    if (strpos($arg, '=') !== false) {
        [$key, $value] = explode('=', $arg, 2);
        $args[$key] = $value;
    }
}
$node = getenv('STAND_IN_NODE');
file_put_contents(__DIR__ . '/../../../installer-runs', "$node\\n", FILE_APPEND | LOCK_EX);
$db = mysqli_init();
$db->ssl_set(null, null, __DIR__ . "/../../../sites/{$args['site']}/documents/certificates/mysql-ca", null, null);
$db->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
$db->real_connect(
    $args['server'], $args['login'], $args['pass'], $args['dbname'], (int) $args['port'], null, MYSQLI_CLIENT_SSL
);
try {
    $db->query('CREATE TABLE installed_by (node VARCHAR(32))');
    $db->query("INSERT INTO installed_by VALUES ('$node')");
} catch (Throwable $error) {
    echo 'ERROR: ' . $error->getMessage() . "\\n";
    exit(0);
}
sleep((int) getenv('STAND_IN_SECONDS'));
file_put_contents(__DIR__ . "/../../../sites/{$args['site']}/sqlconf.php", "<?php\\n\\$config = 1;\\n");
echo "stand-in installer finished\\n";
`;

describe("ha: one installer across hosts, one host per timer job", () => {
  let root: DebianRoot;
  let db: MariadbServer;
  const settings = () =>
    [
      "OPENEMR_MODE=onprem OPENEMR_TIER=ha OPENEMR_STACK=clinic-test OPENEMR_SITE=default",
      `OPENEMR_WEB_ROOT=${WEB_ROOT}`,
      `DB_HOST=${db.host} DB_PORT=${db.port} DB_NAME=openemr DB_APP_HOST=% DB_CA_FILE=${db.caFileInRoot}`,
      "SECRET_DB_APP=app SECRET_VALUES=() RUN_DIR=$(mktemp -d)",
    ].join("\n");

  // A host: the bootstrap's database and install steps, in its own session and process group
  // (its pid, the group's id, in /srv/host-NAME.pid, for a kill of the whole host).
  const host = (name: string, installerSeconds: number): Promise<RunResult> =>
    root.run(["unshare", "--uts", "setsid", "--wait", "bash", "/srv/host.sh", name, String(installerSeconds)], {
      check: false,
      timeoutMs: 600_000,
    });
  const runs = () => root.readFile(RUNS).split("\n").filter(Boolean);
  const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

  beforeAll(async () => {
    root = await freshRoot("ha");
    db = await startMariadb(root);
    execFileSync("cp", ["-a", `${resolve(__dirname, "../../infra/host")}/.`, root.path("/opt/openemr-aws")]);
    const app = { username: "openemr_app", password: randomBytes(24).toString("base64").replace(/[+/=]/g, "x") };
    root.writeFile("/etc/openemr-aws/secrets.json", JSON.stringify({ app }), 0o600);
    await mariadbSql(
      root,
      "CREATE DATABASE openemr CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n" +
        `CREATE USER 'openemr_app'@'%' IDENTIFIED BY '${app.password}' REQUIRE SSL;\n` +
        "GRANT ALL PRIVILEGES ON openemr.* TO 'openemr_app'@'%';\n",
    );
    root.writeFile(`${WEB_ROOT}/contrib/util/installScripts/InstallerAuto.php`, STAND_IN_INSTALLER);
    root.writeFile(`${WEB_ROOT}/sites/default/.keep`, "");
    root.writeFile(RUNS, "");
    root.writeFile(
      "/srv/host.sh",
      [
        "set -euo pipefail",
        'echo $$ >"/srv/host-$1.pid"',
        'echo "host-$1" >/proc/sys/kernel/hostname',
        "export STAND_IN_NODE=$1 STAND_IN_SECONDS=$2",
        'BUNDLE_DIR=/opt/openemr-aws PROG="host-$1"',
        "source $BUNDLE_DIR/lib/common.sh",
        "source $BUNDLE_DIR/lib/steps.sh",
        settings(),
        "ADMIN_USER=admin ADMIN_PASSWORD=stand-in-admin-password",
        "load_credentials DB_APP app",
        "step_database",
        "step_install",
      ].join("\n"),
    );
    root.writeFile(
      "/srv/job.sh",
      [
        "set -Eeuo pipefail",
        'echo "host-$1" >/proc/sys/kernel/hostname',
        'PROG="host-$1"',
        "source /opt/openemr-aws/lib/backup-common.sh",
        settings(),
        // What systemd sets in a unit: the run is the timer's.
        "INVOCATION_ID=stand-in-timer",
        'if elected_node backup "$2"; then echo ran; sleep 5; else echo skipped; fi',
      ].join("\n"),
    );
  }, 1_200_000);

  afterAll(async () => {
    await root?.destroy();
  });

  it("two hosts bootstrapping at once: exactly one runs the installer, the other waits naming the holder", async () => {
    const [a, b] = await Promise.all([host("a", 15), host("b", 15)]);
    expect(a.stderr + b.stderr).not.toContain("ERROR");
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(runs()).toHaveLength(1);
    const waiter = runs()[0] === "a" ? b : a;
    expect(waiter.stderr).toMatch(
      new RegExp(
        "waiting for the install lock openemr-aws-install-openemr, held by session \\d+ from \\S+:\\d+ " +
          "\\(another host installs OpenEMR\\)",
      ),
    );
    expect(waiter.stderr).toContain("site default already installed");
    expect(waiter.stdout).not.toContain("installer:");
    expect(await mariadbSql(root, "SELECT node FROM installed_by", "openemr")).toBe(`${runs()[0]}\n`);
  });

  it("a host killed mid-install frees the lock: the waiting one empties the partial database, installs", async () => {
    await root.sh(`rm -f ${WEB_ROOT}/sites/default/sqlconf.php && : >${RUNS}`);
    await mariadbSql(root, "DROP DATABASE openemr; CREATE DATABASE openemr;");
    const a = host("a", 300);
    while (!runs().includes("a")) await sleep(500);
    const b = host("b", 1);
    // b asks for the lock every 10 s and says who holds it each time.
    await sleep(15_000);
    const pid = root.readFile("/srv/host-a.pid").trim();
    await root.run(["kill", "-KILL", "--", `-${pid}`]);
    expect((await a).code).not.toBe(0);
    const taken = await b;
    expect(taken.stderr).toMatch(/waiting for the install lock openemr-aws-install-openemr, held by session \d+/);
    expect(taken.stderr).toContain("a previous install of openemr did not finish: emptying its partial database");
    expect(taken.stderr).toContain("site default installed");
    expect(taken.code).toBe(0);
    expect(runs()).toEqual(["a", "b"]);
    expect(await mariadbSql(root, "SELECT node FROM installed_by", "openemr")).toBe("b\n");
  });

  it("a host added later joins without installing or taking the lock", async () => {
    const joined = await host("c", 1);
    expect(joined.code).toBe(0);
    expect(joined.stderr).toContain("site default already installed");
    expect(joined.stderr).not.toContain("install lock");
    expect(runs()).toEqual(["a", "b"]);
  });

  it("the backup's timer firing on two hosts at once, and on a third later, runs it once", async () => {
    const job = (name: string) =>
      root.run(["unshare", "--uts", "bash", "/srv/job.sh", name, "2026-12-02"], { check: false });
    const both = await Promise.all([job("a"), job("b")]);
    expect(both.map((result) => result.code)).toEqual([0, 0]);
    expect(both.map((result) => result.stdout).sort()).toEqual(["ran\n", "skipped\n"]);
    const ranOn = both[0].stdout === "ran\n" ? "host-a" : "host-b";
    const later = await job("c");
    expect(later.stdout).toBe("skipped\n");
    expect(later.stderr).toContain(`skipped: backup for 2026-12-02 ran on ${ranOn}`);
    expect(await mariadbSql(root, "SELECT job, period, node FROM openemr_aws_jobs", "openemr")).toBe(
      `backup\t2026-12-02\t${ranOn}\n`,
    );
    // The next day's is a new election.
    const nextDay = await root.run(["unshare", "--uts", "bash", "/srv/job.sh", "c", "2026-12-03"], { check: false });
    expect(nextDay.stdout).toBe("ran\n");
  });
});
