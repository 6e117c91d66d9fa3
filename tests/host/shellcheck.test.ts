// Every shell script in the repository passes shellcheck with no finding at all: tracked *.sh
// files (the ops tool's host scripts among them) plus files under infra/ and bench/ whose
// shebang names sh or bash.
import { execFileSync, spawnSync } from "child_process";
import { readFileSync } from "fs";
import { resolve } from "path";
import { describe, expect, it } from "vitest";

const REPO_ROOT = resolve(__dirname, "../..");

function shellScripts(): string[] {
  const tracked = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  return tracked.filter((path) => {
    if (path.endsWith(".sh")) return true;
    if (!/^(infra|bench)\//.test(path)) return false;
    try {
      const firstLine = readFileSync(resolve(REPO_ROOT, path), "utf8").split("\n", 1)[0];
      return /^#!.*\b(ba)?sh\b/.test(firstLine);
    } catch {
      return false;
    }
  });
}

describe("shellcheck", () => {
  const scripts = shellScripts();

  it("finds the host scripts", () => {
    expect(scripts).toContain("infra/host/bin/openemr-bootstrap");
    expect(scripts).toContain("infra/host/lib/steps.sh");
  });

  it.each(scripts)("%s has no finding", (script) => {
    const run = spawnSync("shellcheck", ["--external-sources", "--severity=style", "--format=gcc", script], {
      cwd: REPO_ROOT,
      encoding: "utf8",
    });
    expect(run.error).toBeUndefined();
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
