// Entry of `npm run e2e:aws`: runs scripts/e2e/run.ts and exits with its code (0 every step ok,
// 1 a step failed, 2 usage or no AWS credentials).
import { runE2e } from "./run";

runE2e(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`e2e:aws: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
