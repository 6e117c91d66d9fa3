// The shared host-test fixture itself: an isolated Debian 13 root, a MariaDB that only speaks
// TLS, and a teardown that leaves nothing mounted or namespaced behind.
import { existsSync, readFileSync } from "fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DebianRoot, MariadbServer, freshRoot, mariadbSql, startMariadb, stopMariadb } from "./lib/debian-root";

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
