// The shared host-test fixture itself: an isolated Debian 13 root, a MariaDB that only speaks
// TLS, a teardown that leaves nothing mounted or namespaced behind, two test runs on one machine
// that stay out of each other's way, and the host scripts' service helpers kept to their own root.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "fs";
import { join, resolve } from "path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DebianRoot,
  MariadbServer,
  RUN_ID,
  freshRoot,
  mariadbSql,
  pidsInRoot,
  startMariadb,
  stopMariadb,
  sweepStaleRuns,
} from "./lib/debian-root";

const HOST_LIB = resolve(__dirname, "../../infra/host/lib");

describe("host test fixture", () => {
  let root: DebianRoot;
  let db: MariadbServer;

  beforeAll(async () => {
    root = await freshRoot("fixture");
    db = await startMariadb(root);
  });
  afterAll(async () => {
    await root?.destroy();
  });

  it("is Debian 13 with the bootstrap's packages already in the image", async () => {
    expect(root.readFile("/etc/debian_version")).toMatch(/^13\./);
    const status = await root.run(["dpkg-query", "-W", "-f", "${Status}", "php8.4-fpm"]);
    expect(status.stdout).toBe("install ok installed");
  });

  it("reaches nothing outside its namespace", async () => {
    const routes = await root.run(["ip", "-4", "route", "show", "default"]);
    expect(routes.stdout.trim()).toBe("");
    const outside = await root.run(["curl", "-sS", "--max-time", "3", "http://1.1.1.1/"], { check: false });
    expect(outside.code).not.toBe(0);
  });

  it("serves MariaDB over TLS only, verified against the test CA", async () => {
    const client = [
      "mariadb",
      `--host=${db.host}`,
      `--user=${db.admin.username}`,
      `--ssl-ca=${db.caFileInRoot}`,
      "--ssl-verify-server-cert",
      "--batch",
      "--skip-column-names",
    ];
    const tls = await root.run([...client, "--execute=SHOW STATUS LIKE 'Ssl_version'"], {
      env: { MYSQL_PWD: db.admin.password },
    });
    expect(tls.stdout).toMatch(/Ssl_version\tTLSv1\.[23]/);
    const plain = await root.run(
      ["mariadb", `--host=${db.host}`, `--user=${db.admin.username}`, "--skip-ssl", "--execute=SELECT 1"],
      { env: { MYSQL_PWD: db.admin.password }, check: false },
    );
    expect(plain.code).not.toBe(0);
    expect(await mariadbSql(root, "SELECT @@character_set_server, @@local_infile")).toBe("utf8mb4\t1\n");
  });

  it("stops and restarts MariaDB", async () => {
    await stopMariadb(root);
    expect((await root.run(["mariadb-admin", "ping"], { check: false })).code).not.toBe(0);
    await startMariadb(root);
    expect(await mariadbSql(root, "SELECT 1")).toBe("1\n");
  });

  it("tears down mounts, processes and the namespace", async () => {
    const scratch = await freshRoot("fixture-scratch");
    await startMariadb(scratch);
    await scratch.destroy();
    expect(readFileSync("/proc/self/mounts", "utf8")).not.toContain(scratch.dir);
    expect(existsSync(`/run/netns/${scratch.netns}`)).toBe(false);
    expect(existsSync(scratch.dir)).toBe(false);
  });
});

describe("two test runs on one machine", () => {
  // Two roots with the same name, as a second clone or CI would make them beside this run.
  let mine: DebianRoot;
  let theirs: DebianRoot;

  beforeAll(async () => {
    theirs = await freshRoot("twin", { runId: `${RUN_ID}-other` });
    mine = await freshRoot("twin");
    for (const root of [mine, theirs]) {
      for (const file of readdirSync(HOST_LIB)) {
        root.writeFile(`/opt/openemr-aws/lib/${file}`, readFileSync(join(HOST_LIB, file)));
      }
    }
  });
  afterAll(async () => {
    await mine?.destroy();
    await theirs?.destroy();
  });

  /** Runs the host scripts' service helpers (infra/host/lib/common.sh) in a root. */
  const helpers = (root: DebianRoot, script: string, check = true) =>
    root.sh(`source /opt/openemr-aws/lib/common.sh\n${script}`, { check });

  it("gives each run its own directory, namespace, veth and address", () => {
    expect(mine.dir).not.toBe(theirs.dir);
    expect(mine.netns).not.toBe(theirs.netns);
    expect(mine.address).not.toBe(theirs.address);
    expect(existsSync(`/run/netns/${mine.netns}`) && existsSync(`/run/netns/${theirs.netns}`)).toBe(true);
  });

  it("never tears down the other run's root of the same name", async () => {
    theirs.writeFile("/root/marker", "theirs\n");
    await theirs.startDaemon("sleeper", ["sleep", "infinity"], async () => pidsInRoot(theirs.dir, "sleep").length > 0);
    const sleeper = pidsInRoot(theirs.dir, "sleep");
    expect(sleeper).toHaveLength(1);

    mine = await freshRoot("twin"); // this run's fresh "twin": its old one goes, theirs stays
    for (const file of readdirSync(HOST_LIB)) {
      mine.writeFile(`/opt/openemr-aws/lib/${file}`, readFileSync(join(HOST_LIB, file)));
    }
    expect(theirs.readFile("/root/marker")).toBe("theirs\n");
    expect(pidsInRoot(theirs.dir, "sleep")).toEqual(sleeper);
  });

  it("keeps the service helpers to their own root's apache2, PHP-FPM and MariaDB", async () => {
    const services = ["apache2", "php8.4-fpm", "mariadb"];
    for (const name of services) await helpers(theirs, `service_start ${name}`);
    const before = {
      apache2: pidsInRoot(theirs.dir, "apache2").sort(),
      fpm: pidsInRoot(theirs.dir, "php-fpm8.4").sort(),
      mariadb: pidsInRoot(theirs.dir, "mariadbd"),
    };
    expect(before.apache2.length && before.fpm.length && before.mariadb.length).toBeGreaterThan(0);

    for (const name of services) {
      expect((await helpers(mine, `service_running ${name}`, false)).code, `${name} seen running`).not.toBe(0);
      await helpers(mine, `service_restart ${name}`);
      expect((await helpers(mine, `service_running ${name}`, false)).code, `${name} not running`).toBe(0);
      await helpers(mine, `service_reload ${name}`);
      await helpers(mine, `service_stop ${name}`);
      expect((await helpers(mine, `service_running ${name}`, false)).code, `${name} still running`).not.toBe(0);
      await helpers(mine, `service_stop ${name}`); // stopping a stopped service is fine
    }
    expect(pidsInRoot(mine.dir, "apache2")).toEqual([]);
    expect(pidsInRoot(mine.dir, "mariadbd")).toEqual([]);
    expect(pidsInRoot(theirs.dir, "apache2").sort()).toEqual(before.apache2);
    expect(pidsInRoot(theirs.dir, "php-fpm8.4").sort()).toEqual(before.fpm);
    expect(pidsInRoot(theirs.dir, "mariadbd")).toEqual(before.mariadb);
    for (const name of services) expect((await helpers(theirs, `service_running ${name}`, false)).code).toBe(0);
  });

  it("removes the roots of a run whose process is gone, and only those", async () => {
    const dead = await freshRoot("gone", { runId: `${RUN_ID}-dead` });
    const owner = join(dead.dir, "../owner.json");
    // the owner's pid, but not its start time: a later process given the same pid
    writeFileSync(owner, JSON.stringify({ ...JSON.parse(readFileSync(owner, "utf8")), startTime: "0" }));
    expect(sweepStaleRuns()).toContain(`${RUN_ID}-dead`);
    expect(existsSync(join(dead.dir, ".."))).toBe(false);
    expect(existsSync(`/run/netns/${dead.netns}`)).toBe(false);
    expect(existsSync(mine.dir) && existsSync(theirs.dir)).toBe(true);
  });
});
