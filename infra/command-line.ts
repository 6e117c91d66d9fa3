// Shared by the offline command lines (plan, audit): parse with commander and turn its
// exits (--help, a usage error it has already printed) into our exit codes.
import { Command, CommanderError } from "commander";

/** Parses `argv`; returns an exit code when the command should stop (0 after --help, 2 on a usage error). */
export function parseCommandLine(program: Command, argv: string[]): number | undefined {
  try {
    program.exitOverride().parse(argv, { from: "user" });
    return undefined;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}
