import { defineConfig } from "vitest/config";

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
          include: ["tests/host/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
