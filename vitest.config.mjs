// @ts-check
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { defineConfig } from "vitest/config";

// The AWS SDK warns once per process that its releases after January 2027 need Node 22; the
// tests run on 20 on purpose (package.json engines) and CI also runs them on 22 and 24 (.ci/run).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// The host tests build Debian roots and network namespaces: they need root and these commands.
const HOST_COMMANDS = ["debootstrap", "ip", "nsenter", "chroot", "mount", "umount", "flock", "zstd", "tar", "openssl"];
const onPath = (/** @type {string} */ command) =>
  (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
const missing = [...(process.getuid?.() === 0 ? [] : ["root"]), ...HOST_COMMANDS.filter((command) => !onPath(command))];
let hostInclude = ["tests/host/**/*.test.ts"];
if (missing.length > 0) {
  const why =
    `host tests skipped: they need root and debootstrap, iproute2, util-linux, zstd, openssl ` +
    `(missing: ${missing.join(", ")}): run sudo bash .ci/run`;
  // CI must run them: there a missing prerequisite fails the run instead of skipping.
  if (process.env.OPENEMR_HOST_TESTS === "required") throw new Error(why);
  process.stderr.write(`[host tests] ${why}\n`);
  hostInclude = [];
}

// Two projects: fast unit tests run in parallel; host tests share one Debian 13 root and
// run one file at a time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["tests/**/*.test.ts"],
          exclude: ["tests/host/**", "node_modules/**"],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "host",
          include: hostInclude,
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
