// The NAT instance's packet filter (infra/nat/nftables.conf, as its user-data writes it) loaded
// for real in a network namespace between an "app subnet" namespace and an "internet" one: HTTPS
// from the VPC leaves masqueraded behind the NAT's address; any other port, and anything addressed
// to the NAT itself, gets nothing. Needs root, iproute2 and nft (nftables).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderNatFirewall } from "../../infra/components/nat-instance";

const VPC = "10.40.0.0/16";
const hasNft = (() => {
  try {
    execFileSync("nft", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasNft && process.env.OPENEMR_HOST_TESTS === "required") throw new Error("nat-firewall needs nft (nftables)");

const tag = `nat${process.pid}`;
const ns = { app: `${tag}-app`, nat: `${tag}-nat`, net: `${tag}-net` };
const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
const inNs = (name: string, ...command: string[]) =>
  execFileSync("ip", ["netns", "exec", name, ...command], { stdio: "pipe" });

/** What a TCP connection from namespace `from` to host:port reads back, or "no answer" within 2 s. */
function connect(from: string, host: string, port: number): string {
  const script =
    `const s = require("net").connect(${port}, "${host}"); let data = "";` +
    `s.on("data", (d) => (data += d)); s.on("end", () => { console.log(data.trim()); process.exit(0); });` +
    `s.on("error", () => { console.log("no answer"); process.exit(0); });` +
    `setTimeout(() => { console.log("no answer"); process.exit(0); }, 2000);`;
  return inNs(from, process.execPath, "-e", script).toString().trim();
}

describe.skipIf(!hasNft)("the NAT instance's nftables filter, in network namespaces", () => {
  let work: string;
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "nat-firewall-"));
    for (const name of Object.values(ns)) ip("netns", "add", name);
    ip("link", "add", `${tag}a`, "type", "veth", "peer", "name", `${tag}b`);
    ip("link", "set", `${tag}a`, "netns", ns.app);
    ip("link", "set", `${tag}b`, "netns", ns.nat);
    ip("link", "add", `${tag}c`, "type", "veth", "peer", "name", `${tag}d`);
    ip("link", "set", `${tag}c`, "netns", ns.nat);
    ip("link", "set", `${tag}d`, "netns", ns.net);
    const up = (name: string, device: string, address: string) => {
      inNs(name, "ip", "addr", "add", address, "dev", device);
      inNs(name, "ip", "link", "set", device, "up");
      inNs(name, "ip", "link", "set", "lo", "up");
    };
    up(ns.app, `${tag}a`, "10.40.64.10/24");
    up(ns.nat, `${tag}b`, "10.40.64.1/24");
    up(ns.nat, `${tag}c`, "198.51.100.2/24");
    up(ns.net, `${tag}d`, "198.51.100.1/24");
    inNs(ns.app, "ip", "route", "add", "default", "via", "10.40.64.1");
    inNs(ns.nat, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    writeFileSync(join(work, "nftables.conf"), renderNatFirewall(VPC));
    inNs(ns.nat, "nft", "-f", join(work, "nftables.conf"));
    // "The internet": answers each connection with the address it came from, on 443 and 8443.
    for (const [name, port] of [
      [ns.net, 443],
      [ns.net, 8443],
      [ns.nat, 2222],
    ] as const) {
      const server = spawn(
        "ip",
        [
          "netns",
          "exec",
          name,
          process.execPath,
          "-e",
          `require("net").createServer((s) => s.end(s.remoteAddress + "\\n"))` +
            `.listen(${port}, "0.0.0.0", () => console.log("up"))`,
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      servers.push(server);
      await new Promise((resolve) => server.stdout.once("data", resolve));
    }
  }, 60_000);

  afterAll(() => {
    for (const server of servers) server.kill();
    for (const name of Object.values(ns)) {
      try {
        ip("netns", "delete", name);
      } catch {
        // already gone
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it("forwards HTTPS from the VPC, masqueraded behind the NAT's own address", () => {
    expect(connect(ns.app, "198.51.100.1", 443)).toBe("198.51.100.2");
  });

  it("forwards no other port", () => {
    expect(connect(ns.app, "198.51.100.1", 8443)).toBe("no answer");
  });

  it("accepts nothing addressed to the NAT itself, from outside or from the VPC", () => {
    expect(connect(ns.net, "198.51.100.2", 2222)).toBe("no answer");
    expect(connect(ns.app, "10.40.64.1", 2222)).toBe("no answer");
  });

  it("the same server answers when the filter is not in the way (the test can tell)", () => {
    expect(connect(ns.nat, "198.51.100.1", 8443)).toBe("198.51.100.2");
    expect(connect(ns.nat, "127.0.0.1", 2222)).toBe("127.0.0.1");
  });
});
