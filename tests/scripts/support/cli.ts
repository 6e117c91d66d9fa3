// Runs the whole command line in-process, as a user would, and captures what they would see.
import { main } from "../../../scripts/cli";
import type { Io } from "../../../scripts/lib/io";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Questions the CLI asked. */
  asked: string[];
}

export interface TerminalOptions {
  stdoutIsTTY?: boolean;
  stdinIsTTY?: boolean;
  /** Answers to typed confirmations, in order. */
  answers?: string[];
}

export async function runCli(argv: string[], terminal: TerminalOptions = {}): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const asked: string[] = [];
  const answers = [...(terminal.answers ?? [])];
  const io: Io = {
    out: (text) => out.push(text),
    err: (text) => err.push(text),
    stdoutIsTTY: terminal.stdoutIsTTY ?? false,
    stderrIsTTY: false,
    stdinIsTTY: terminal.stdinIsTTY ?? false,
    ask: async (question) => {
      asked.push(question);
      return answers.shift() ?? "";
    },
  };
  const code = await main(argv, { io, pollIntervalMs: 1 });
  return { code, stdout: out.join("\n"), stderr: err.join("\n"), asked };
}
