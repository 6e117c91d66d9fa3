// Progress of long work. On a terminal a spinner (zx's) shows the running step; otherwise
// each step is one plain line on stderr, so logs and CI output stay readable and --json
// output on stdout stays clean.
import { spinner } from "zx";
import type { Io } from "./io";

export interface Progress {
  /**
   * Runs one step, showing it as running, then as failed or done: `ok`, or the word
   * `outcome` gives for the result (a step of checks closes with their verdict).
   */
  step<T>(title: string, work: () => Promise<T>, outcome?: (result: T) => string): Promise<T>;
  /** A line of output from the work (e.g. streamed host output). */
  line(text: string): void;
}

export function progressFor(io: Io): Progress {
  return {
    async step(title, work, outcome) {
      const started = Date.now();
      if (!io.stderrIsTTY) io.err(`... ${title}`);
      try {
        const result = io.stderrIsTTY ? await spinner(title, work) : await work();
        io.err(`${(outcome?.(result) ?? "ok").padEnd(3)} ${title} (${seconds(started)})`);
        return result;
      } catch (error) {
        io.err(`FAILED ${title} (${seconds(started)})`);
        throw error;
      }
    },
    line: (text) => io.err(`    ${text}`),
  };
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}
