// The Pulumi CLI as provision and upgrade run it: in the project directory, its output
// forwarded line by line as progress, a non-zero exit an OpsError.
import { $ } from "zx";
import { OpsError } from "./errors";
import type { Context } from "./context";

/** Runs `pulumi <args>` in `cwd`, its output streamed as progress lines. */
export async function runPulumi(ctx: Context, cwd: string, args: string[]): Promise<void> {
  const run = $({ nothrow: true, quiet: true, cwd })`pulumi ${args}`;
  let pending = "";
  const forward = (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split("\n");
    pending = lines.pop() ?? "";
    lines.filter((line) => line.trim()).forEach((line) => ctx.progress.line(line));
  };
  run.stdout.on("data", forward);
  run.stderr.on("data", forward);
  const result = await run;
  if (pending.trim()) ctx.progress.line(pending);
  // `pulumi up`, `pulumi config set`: the sub-command, without its arguments.
  const command = args.slice(0, args[0] === "config" ? 2 : 1).join(" ");
  if (result.exitCode !== 0)
    throw new OpsError(`pulumi ${command} failed (exit ${result.exitCode}); see its output above`);
}
