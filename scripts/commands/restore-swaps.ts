// The copies a live restore keeps on the host: `openemr-restore status`, `commit SWAP` and
// `rollback SWAP` (docs/host-interface.md), run through SSM. A restore swaps the backup in and
// keeps the database and site from before it until it is committed (dropped) or rolled back
// (swapped back in), or RESTORE_KEEP_DAYS pass.
import { quote } from "zx";
import type { Context } from "../lib/context";
import { EXIT_FAILED, EXIT_OK, OpsError } from "../lib/errors";
import { emit, formatBytes, lastLine, renderTable } from "../lib/printing";
import { swapId } from "../lib/parse";
import { requireOutputs } from "../lib/stack-outputs";
import { lastJsonLine, runOnHost } from "../lib/ssm";

const RESTORE = "/opt/openemr-aws/bin/openemr-restore";
const STATUS_TIMEOUT_SECONDS = 600;
/** A rollback or commit renames tables and drops a database copy: minutes, not hours. */
const SWAP_TIMEOUT_SECONDS = 3600;

/** One kept swap, as `openemr-restore status --json` reports it. */
interface HostSwap {
  id: string;
  backup: string;
  database: string;
  phase: string;
  swapped_at: string | null;
  before_db: string;
  held_site: string;
  kept_bytes: number;
  commit_after_days: number;
}

export interface KeptSwap {
  id: string;
  backup: string;
  database: string;
  phase: string;
  swappedAt: string | null;
  beforeDb: string;
  heldSite: string;
  keptBytes: number;
  commitAfterDays: number;
}

export async function restoreStatus(ctx: Context): Promise<number> {
  const { hostInstanceId } = requireOutputs(ctx.outputs, "restore status", ["hostInstanceId"]);
  const result = await ctx.progress.step("reading the kept restores (openemr-restore status)", () =>
    runOnHost(ctx, {
      instanceId: hostInstanceId,
      purpose: "restore status",
      script: `${RESTORE} status --json`,
      timeoutSeconds: STATUS_TIMEOUT_SECONDS,
    }),
  );
  if (result.exitCode !== 0)
    throw new OpsError(
      `openemr-restore status failed on the host (exit ${result.exitCode}): ` +
        lastLine(result.stderr || result.stdout),
      "see `openemr-ops logs --log openemr-backup`",
    );
  const printed = lastJsonLine(result.stdout, "restore status");
  if (!Array.isArray(printed)) throw new OpsError("restore status: the host's report is not a JSON array");
  const swaps = (printed as HostSwap[]).map((swap): KeptSwap => ({
    id: String(swap.id),
    backup: String(swap.backup),
    database: String(swap.database),
    phase: String(swap.phase),
    swappedAt: swap.swapped_at ?? null,
    beforeDb: String(swap.before_db),
    heldSite: String(swap.held_site),
    keptBytes: Number(swap.kept_bytes),
    commitAfterDays: Number(swap.commit_after_days),
  }));
  emit(ctx, { command: "restore status", swaps }, () =>
    swaps.length === 0
      ? "No restore is waiting for commit or rollback"
      : [
          renderTable(
            ["SWAP", "BACKUP", "DATABASE", "SWAPPED AT", "KEPT", "COMMITS AFTER"],
            swaps.map((swap) => [
              swap.phase === "kept" ? swap.id : `${swap.id} (${swap.phase})`,
              swap.backup,
              swap.database,
              swap.swappedAt ?? "-",
              formatBytes(swap.keptBytes),
              commitsAfter(swap),
            ]),
          ),
          "",
          (swaps.length === 1
            ? "1 restore keeps the copy from before it: "
            : `${swaps.length} restores keep the copies from before them: `) +
            "`openemr-ops restore rollback SWAP` puts it back, `openemr-ops restore commit SWAP` drops it",
        ].join("\n"),
  );
  return EXIT_OK;
}

/** `7 days (2026-12-08)`: when the backup service commits the swap on its own. */
function commitsAfter(swap: KeptSwap): string {
  const days = `${swap.commitAfterDays} day${swap.commitAfterDays === 1 ? "" : "s"}`;
  const swapped = swap.swappedAt ? Date.parse(swap.swappedAt) : NaN;
  if (Number.isNaN(swapped)) return days;
  return `${days} (${new Date(swapped + swap.commitAfterDays * 86_400_000).toISOString().slice(0, 10)})`;
}

/** `commit` drops the copy from before the swap; `rollback` swaps it back in. */
export async function settleSwap(ctx: Context, action: "commit" | "rollback", swap: string): Promise<number> {
  // Checked again here, so nothing reaches the host that the command line would refuse.
  swapId(swap);
  const { hostInstanceId } = requireOutputs(ctx.outputs, `restore ${action}`, ["hostInstanceId"]);
  const result = await ctx.progress.step(
    action === "commit" ? `committing swap ${swap}: dropping the copy from before it` : `rolling back swap ${swap}`,
    () =>
      runOnHost(ctx, {
        instanceId: hostInstanceId,
        purpose: `restore ${action}`,
        script: `${RESTORE} ${action} ${quote(swap)}`,
        timeoutSeconds: SWAP_TIMEOUT_SECONDS,
        stream: true,
      }),
  );
  const ok = result.exitCode === 0;
  emit(ctx, { command: `restore ${action}`, ok, swapId: swap, exitCode: result.exitCode }, () =>
    !ok
      ? `Verdict: FAILED: openemr-restore ${action} ${swap} exited ${result.exitCode}: ` +
        lastLine(result.stderr || result.stdout)
      : action === "commit"
        ? `Verdict: OK: swap ${swap} committed: the database and site from before it are dropped`
        : `Verdict: OK: swap ${swap} rolled back: the database and site are as they were before the restore; ` +
          "run `openemr-ops health`",
  );
  return ok ? EXIT_OK : EXIT_FAILED;
}
