// The bootstrap shares the host's memory out: InnoDB's buffer pool on `single`, and as many
// PHP-FPM workers as the rest carries, so the 2 GiB Graviton host that `single` defaults to
// does not run 20 workers beside MariaDB. Run from the bootstrap's own library.
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const HOST = resolve(__dirname, "../../infra/host");

function sized(tier: string, memoryMb: number): { workers: number; bufferPoolMb: number } {
  const run = spawnSync(
    "bash",
    [
      "--norc",
      "--noprofile",
      "-c",
      `set -euo pipefail; source ${HOST}/lib/common.sh; source ${HOST}/lib/steps.sh; ` +
        'echo "$(php_max_children "$MEMORY_MB") $(mariadb_buffer_pool_mb "$MEMORY_MB")"',
    ],
    {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", OPENEMR_TIER: tier, MEMORY_MB: `${memoryMb}` },
    },
  );
  expect(run.status, run.stderr).toBe(0);
  const [workers, bufferPoolMb] = run.stdout.trim().split(" ").map(Number);
  return { workers, bufferPoolMb };
}

describe("memory sizing of PHP-FPM and MariaDB", () => {
  // MemTotal as EC2 reports it for t4g.small (2 GiB), t4g.medium (4 GiB) and a large host.
  it.each([
    ["single", 1900, 8, 475],
    ["single", 3860, 20, 965],
    ["standard", 1900, 17, 475],
    ["standard", 3860, 20, 965],
    ["single", 24000, 20, 6000],
  ])("%s with %i MB: %i workers, a %i MB buffer pool", (tier, memoryMb, workers, bufferPoolMb) => {
    expect(sized(tier, memoryMb)).toEqual({ workers, bufferPoolMb });
  });

  it("never fewer than 8 workers nor a pool under MariaDB's 128 MB default", () => {
    expect(sized("single", 400)).toEqual({ workers: 8, bufferPoolMb: 128 });
  });

  it("keeps the worker budget inside the memory on a 2 GiB single host", () => {
    const { workers, bufferPoolMb } = sized("single", 1900);
    expect(512 + bufferPoolMb + 256 + workers * 80).toBeLessThanOrEqual(1900);
  });
});
