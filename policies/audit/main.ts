// Entry point of `npm run audit`; the command itself is in cli.ts.
import { runAuditCli } from "./cli";

void runAuditCli(process.argv.slice(2)).then((code) => process.exit(code));
