// Rotates OpenEMR's database password now, through SSM, with the host's own
// openemr-rotate-db-password: the host generates the password, stages it as AWSPENDING, sets it
// on the account and in sqlconf.php, reloads PHP-FPM and only then makes it AWSCURRENT. The
// same script runs from the host's timer, so one code path owns every rotation. On ha it runs on
// the first in-service node.
import { EXIT_FAILED, EXIT_OK } from "../lib/errors";
import type { Context } from "../lib/context";
import { emit } from "../lib/printing";
import { commandHost } from "../lib/host-group";
import { runOnHost } from "../lib/ssm";

export const ROTATE_DB_PASSWORD_SCRIPT = "/opt/openemr-aws/bin/openemr-rotate-db-password";

export async function rotateDbPassword(ctx: Context): Promise<number> {
  // On ha one node rotates for all: the others read the shared sqlconf.php afresh.
  const instanceId = await commandHost(ctx, "rotate-db-password");
  const result = await ctx.progress.step("rotating on the host (openemr-rotate-db-password)", () =>
    runOnHost(ctx, {
      instanceId,
      purpose: "database password rotation",
      script: ROTATE_DB_PASSWORD_SCRIPT,
      timeoutSeconds: 300,
    }),
  );
  if (result.exitCode !== 0) {
    const reason = result.stderr.trim().split("\n").pop() ?? `exit ${result.exitCode}`;
    emit(
      ctx,
      { command: "rotate-db-password", ok: false },
      () =>
        `Verdict: FAILED: ${reason}; AWSCURRENT still names the password in use or AWSPENDING does, ` +
        "and running the command again finishes the rotation",
    );
    return EXIT_FAILED;
  }
  emit(
    ctx,
    { command: "rotate-db-password", ok: true },
    () => "Verdict: OK: OpenEMR's database password was rotated; the new one is AWSCURRENT in Secrets Manager",
  );
  return EXIT_OK;
}
