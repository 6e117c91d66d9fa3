// Loads the program the way Pulumi's Node.js language host does: ts-node registered with type
// checking and the project's tsconfig, then `require` of the `main` Pulumi.yaml names, here
// under the offline mocks. A type error or a load error anywhere the program reaches fails it.
import { spawnSync } from "child_process";
import { describe, expect, it } from "vitest";

// Mirrors @pulumi/pulumi/cmd/run/run.js:
// tsn.register({ compiler, transpileOnly, project, skipProject, compilerOptions }).
const child = `
const path = require("path");
const { parse } = require("yaml");
require("ts-node").register({
  compiler: "typescript",
  transpileOnly: false,
  project: "tsconfig.json",
  skipProject: false,
  compilerOptions: {},
});
const main = path.resolve(parse(require("fs").readFileSync("Pulumi.yaml", "utf8")).main);
const { runOffline } = require("./infra/offline/run");
(async () => {
  const results = {};
  for (const tier of ["single", "standard"]) {
    const run = await runOffline(() => require(main), { config: { "openemr:tier": tier } });
    delete require.cache[require.resolve(main)];
    results[tier] = { resources: run.resources.length, outputs: Object.keys(run.outputs).sort() };
  }
  process.stdout.write(JSON.stringify(results));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

describe("program loader", () => {
  it("loader: Pulumi.yaml's main loads with type checking and declares both tiers", { timeout: 180_000 }, () => {
    const result = spawnSync(process.execPath, ["-e", child], {
      encoding: "utf8",
      env: { ...process.env, PULUMI_NODEJS_TRANSPILE_ONLY: "" },
    });
    expect(result.status, result.stderr).toBe(0);
    const results = JSON.parse(result.stdout);
    expect([
      results.single.outputs.includes("hostInstanceId"),
      results.standard.outputs.includes("dbInstanceIdentifier"),
      results.standard.resources > results.single.resources,
    ]).toEqual([true, true, true]);
  });
});
