// Where the command line writes and reads. Commands get an Io rather than touching
// process.stdout, so tests can run the whole CLI in-process and see exactly what a user sees.
import * as readline from "node:readline/promises";

export interface Io {
  /** Results: the table or the --json document. */
  out(text: string): void;
  /** Progress, streamed host output and error lines. */
  err(text: string): void;
  /** stdout is a terminal (secrets may be shown; tables may use colour). */
  stdoutIsTTY: boolean;
  /** stderr is a terminal (a spinner may redraw lines). */
  stderrIsTTY: boolean;
  /** stdin is a terminal (a typed confirmation can be asked). */
  stdinIsTTY: boolean;
  /** Asks one question on the terminal and returns the answer. */
  ask(question: string): Promise<string>;
}

export function processIo(): Io {
  return {
    out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    stdinIsTTY: process.stdin.isTTY === true,
    ask: async (question) => {
      const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await prompt.question(question);
      } finally {
        prompt.close();
      }
    },
  };
}
