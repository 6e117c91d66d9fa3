// How long the offline plan takes next to the floor every Pulumi AWS program pays: a fresh
// Node process that only loads @pulumi/aws. Runs each several times, alternating so load
// from other processes falls on both alike, and prints the medians and their ratio, in wall
// time (the target) and in CPU time (steadier on a shared machine).
// Usage: npm run bench:plan [-- --runs N]
import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";
import { Command, InvalidArgumentError } from "commander";

const root = join(__dirname, "..");
const stackFile = join(root, "config", "examples", "Pulumi.standard.yaml");
const target = 2;

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new InvalidArgumentError(`expected a whole number of at least 1, got "${text}"`);
  return value;
}

interface Timing {
  wall: number;
  cpu: number;
}

// Node reports no CPU time for a child it spawned; Linux keeps it, with every descendant the
// child waited for (npm, its shell, the plan), in /proc/self/stat (fields 16-17, clock ticks).
function childrenCpuSeconds(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** Wall-clock and CPU seconds of one run; a failed run stops the benchmark. */
function timed(label: string, command: string, args: string[]): Timing {
  const cpuBefore = childrenCpuSeconds();
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: root, encoding: "utf8" });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    process.stderr.write(`bench: ${label} failed (exit ${result.status}):\n${result.stderr}`);
    process.exit(1);
  }
  return { wall, cpu: childrenCpuSeconds() - cpuBefore };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const { runs } = new Command("bench:plan")
  .option("--runs <n>", "runs of each command", positiveInteger, 5)
  .parse()
  .opts<{ runs: number }>();
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const loadAws = () => timed("loading @pulumi/aws", process.execPath, ["-e", "require('@pulumi/aws')"]);
const plan = () => timed("npm run plan", npm, ["run", "--silent", "plan", "--", stackFile]);

// One plan first, not counted: it compiles the program if its sources changed since the last plan.
plan();
const awsTimes: Timing[] = [];
const planTimes: Timing[] = [];
for (let run = 0; run < runs; run++) {
  awsTimes.push(loadAws());
  planTimes.push(plan());
}
for (const measure of ["wall", "cpu"] as const) {
  const awsMedian = median(awsTimes.map((time) => time[measure]));
  const planMedian = median(planTimes.map((time) => time[measure]));
  const ratio = planMedian / awsMedian;
  const list = (times: Timing[]) => times.map((time) => time[measure].toFixed(2)).join(", ");
  console.log(`${measure} time`);
  console.log(`  node -e "require('@pulumi/aws')"   median ${awsMedian.toFixed(2)} s  (runs: ${list(awsTimes)})`);
  console.log(`  npm run plan (standard tier)      median ${planMedian.toFixed(2)} s  (runs: ${list(planTimes)})`);
  console.log(`  ratio ${ratio.toFixed(2)} (target <= ${target}): ${ratio <= target ? "met" : "not met"}`);
}
