// Starts the offline plan from JavaScript compiled once with tsc, not through ts-node: ts-node
// would load the TypeScript compiler and transpile the whole program on every run, several
// times the cost of the plan itself. Plain JavaScript because it runs before anything is
// compiled. The build is keyed by a hash of its sources, so an edit is never planned stale;
// each build lands in its own directory under bin/plan/, renamed into place when complete,
// so concurrent runs never read a half-written build.
"use strict";
const { createHash } = require("crypto");
const { spawnSync } = require("child_process");
const { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } = require("fs");
const { join, relative } = require("path");

const root = join(__dirname, "..", "..");
const builds = join(root, "bin", "plan");

/** Every file the compiled plan is made from (the host bundle is read at run time instead). */
function sources() {
  const files = [join(root, "tsconfig.json")];
  const walk = (directory) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) {
        if (path !== join(root, "infra", "host")) walk(path);
      } else if (/\.(ts|json)$/.test(entry.name)) {
        files.push(path);
      }
    }
  };
  walk(join(root, "infra"));
  walk(join(root, "config"));
  return files.sort();
}

function sourceHash() {
  const hash = createHash("sha256");
  for (const file of sources()) hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  return hash.digest("hex").slice(0, 16);
}

function build(target) {
  const staging = `${target}.${process.pid}.tmp`;
  process.stderr.write("plan: compiling the program once (it changed since the last plan)...\n");
  const tsc = spawnSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-p", join(root, "infra", "plan", "tsconfig.json"), "--outDir", staging],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  if (tsc.status !== 0 || !existsSync(join(staging, "infra", "plan", "cli.js"))) {
    rmSync(staging, { recursive: true, force: true });
    process.stderr.write("plan: compiling the program failed\n");
    process.exit(1);
  }
  try {
    renameSync(staging, target);
  } catch (error) {
    // Another run finished the same build first: use theirs.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(target)) throw error;
  }
  // Older builds go once they are an hour old: a run started just before may still be using one.
  for (const entry of readdirSync(builds)) {
    const path = join(builds, entry);
    if (path !== target && Date.now() - statSync(path).mtimeMs > 3_600_000)
      rmSync(path, { recursive: true, force: true });
  }
}

const target = join(builds, sourceHash());
if (!existsSync(target)) {
  mkdirSync(builds, { recursive: true });
  build(target);
}
// Pulumi's runtime records a stack trace for every promise it creates, for a leak report an
// offline plan never needs: about a sixth of the plan's time. OPENEMR_PLAN_STACK_TRACES=1
// keeps them (and full stacks on unexpected errors) when debugging the program.
if (!process.env.OPENEMR_PLAN_STACK_TRACES) Error.stackTraceLimit = 0;
require(join(target, "infra", "plan", "cli.js"));
