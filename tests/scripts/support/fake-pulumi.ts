// A `pulumi` executable written by the test and put first on PATH: it records its arguments
// and answers as the CLI would, from files the test writes.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FakePulumi {
  dir: string;
  /** Each invocation's arguments. */
  calls(): string[][];
  /** What `pulumi stack output --json` prints. */
  setOutputs(outputs: Record<string, unknown>): void;
  /** Exit code of `pulumi up` (0 by default). */
  setUpExitCode(code: number): void;
  /** Makes `pulumi stack output` print `stderr` and exit with `code`, as when the backend is unreachable. */
  failStackOutput(code: number, stderr: string): void;
  restorePath(): void;
}

export function installFakePulumi(): FakePulumi {
  const dir = mkdtempSync(join(tmpdir(), "fake-pulumi-"));
  const log = join(dir, "calls.log");
  writeFileSync(join(dir, "up-exit"), "0");
  writeFileSync(
    join(dir, "pulumi"),
    `#!/usr/bin/env bash
printf '%s\\n' "$*" >> ${JSON.stringify(log)}
case "$1 $2" in
  "version "*) echo v3.265.0 ;;
  "preview "*) echo "Previewing update (test):"; echo " +  aws:ec2/instance:Instance host create" ;;
  "config set") echo "" ;;
  "up "*)
    echo "Updating (test):"; echo "Resources: + 84 created"
    exit "$(cat ${JSON.stringify(join(dir, "up-exit"))})" ;;
  "stack output")
    if [ -f ${JSON.stringify(join(dir, "stack-output-stderr"))} ]; then
      cat ${JSON.stringify(join(dir, "stack-output-stderr"))} >&2
      exit "$(cat ${JSON.stringify(join(dir, "stack-output-exit"))})"
    fi
    cat ${JSON.stringify(join(dir, "outputs.json"))} ;;
  *) echo "fake pulumi: unexpected $*" >&2; exit 9 ;;
esac
`,
  );
  chmodSync(join(dir, "pulumi"), 0o755);
  const originalPath = process.env.PATH;
  process.env.PATH = `${dir}:${originalPath}`;
  return {
    dir,
    calls: () =>
      existsSync(log)
        ? readFileSync(log, "utf8")
            .trim()
            .split("\n")
            .filter(Boolean)
            .map((line) => line.split(" "))
        : [],
    setOutputs: (outputs) => writeFileSync(join(dir, "outputs.json"), JSON.stringify(outputs)),
    setUpExitCode: (code) => writeFileSync(join(dir, "up-exit"), String(code)),
    failStackOutput: (code, stderr) => {
      writeFileSync(join(dir, "stack-output-exit"), String(code));
      writeFileSync(join(dir, "stack-output-stderr"), stderr);
    },
    restorePath: () => {
      process.env.PATH = originalPath;
    },
  };
}
