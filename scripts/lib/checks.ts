// Checks and their verdict: every check runs concurrently under its own timeout and yields
// findings of OK, WARN or CRIT with the evidence that decided it and, when not OK, what to do.
import { OpsError } from "./errors";
import { renderTable } from "./printing";
import type { Progress } from "./progress";

export type Status = "OK" | "WARN" | "CRIT";

export interface Finding {
  /** Stable id, `area.what`, e.g. `https.tls`. */
  check: string;
  status: Status;
  /** One line: what was found. */
  summary: string;
  /** The values that decided the status. */
  evidence: Record<string, unknown>;
  /** What to do about a WARN or CRIT. */
  action?: string;
}

export interface Check {
  /** Id of the finding reported when the check fails or times out. */
  name: string;
  timeoutMs: number;
  run(): Promise<Finding[]>;
}

const RANK: Record<Status, number> = { OK: 0, WARN: 1, CRIT: 2 };

export function worst(statuses: Status[]): Status {
  return statuses.reduce<Status>((current, status) => (RANK[status] > RANK[current] ? status : current), "OK");
}

/** The verdict of a set of findings; only CRIT fails the command. */
export function verdictOf(findings: Finding[]): Status {
  return worst(findings.map((finding) => finding.status));
}

/**
 * Runs the checks concurrently as one progress step, titled `title`: a line as each check
 * ends, and the step closes with their verdict. A check that throws or overruns becomes one
 * CRIT finding.
 */
export async function runChecks(title: string, checks: Check[], progress: Progress): Promise<Finding[]> {
  const run = async (check: Check) => {
    const findings = await withTimeout(check).catch((error: unknown) => [failedCheck(check, error)]);
    progress.line(`${check.name}: ${verdictOf(findings)}`);
    return findings;
  };
  return progress.step(
    title,
    async () => (await Promise.all(checks.map(run))).flat(),
    (findings) => {
      const verdict = verdictOf(findings);
      return verdict === "OK" ? "ok" : verdict;
    },
  );
}

/** The finding of a check that threw: what failed and, from the error when it knows, what to do. */
function failedCheck(check: Check, error: unknown): Finding {
  const summary = error instanceof OpsError ? error.problem : error instanceof Error ? error.message : String(error);
  return {
    check: check.name,
    status: "CRIT",
    summary: summary || `the check failed without a message (${String(error)})`,
    evidence: {},
    action:
      (error instanceof OpsError ? error.action : undefined) ??
      "the check could not run: fix what its finding names, then run health again",
  };
}

async function withTimeout(check: Check): Promise<Finding[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Finding[]>((resolve) => {
    timer = setTimeout(
      () =>
        resolve([
          {
            check: check.name,
            status: "CRIT",
            summary: `no answer within ${check.timeoutMs / 1000}s`,
            evidence: { timeoutMs: check.timeoutMs },
            action: "run health again; if it persists, check the network path and the service behind this check",
          },
        ]),
      check.timeoutMs,
    );
  });
  try {
    return await Promise.race([check.run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function evidenceText(evidence: Record<string, unknown>): string {
  return Object.entries(evidence)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
}

/**
 * The findings table, worst first; then each WARN and CRIT again with its summary, its
 * evidence and what to do; then the verdict line.
 */
export function renderFindings(findings: Finding[], subject: string): string {
  const sorted = [...findings].sort((a, b) => RANK[b.status] - RANK[a.status] || a.check.localeCompare(b.check));
  const rows = sorted.map((finding) => [finding.status, finding.check, finding.summary]);
  const details = sorted
    .filter((finding) => finding.status !== "OK")
    .map((finding) => {
      const evidence = evidenceText(finding.evidence);
      return [
        `${finding.status} ${finding.check}: ${finding.summary}`,
        ...(evidence ? [`  evidence: ${evidence}`] : []),
        ...(finding.action ? [`  -> ${finding.action}`] : []),
      ].join("\n");
    });
  const counts = (status: Status) => findings.filter((finding) => finding.status === status).length;
  const verdict =
    `Verdict: ${verdictOf(findings)} for ${subject}: ` +
    `${counts("CRIT")} critical, ${counts("WARN")} warning, ${counts("OK")} ok`;
  return [
    renderTable(["STATUS", "CHECK", "FINDING"], rows),
    ...(details.length ? ["", ...details] : []),
    "",
    verdict,
  ].join("\n");
}
