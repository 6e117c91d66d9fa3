// Printing a command's result in its two forms: a plain text table with a verdict line for
// people, or one JSON document on stdout for machines (shapes in docs/ops-json.md); and the
// formatters of sizes, ages and output lines the messages share.
import type { Context } from "./context";

/** Columns padded to their widest cell; no colour, so it reads the same in a log. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** Writes the command's result: `json` under --json, else the human text. */
export function emit(ctx: Pick<Context, "io" | "json">, json: Record<string, unknown>, human: () => string): void {
  ctx.io.out(ctx.json ? JSON.stringify(json, null, 2) : human());
}

/** Bytes as a short human size. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** A duration in hours as `5h` or `2d 3h`. */
export function formatAge(hours: number): string {
  if (hours < 1) return `${Math.round(hours * 60)}m`;
  if (hours < 48) return `${Math.round(hours)}h`;
  return `${Math.floor(hours / 24)}d ${Math.round(hours % 24)}h`;
}

/** The last line of a command's output, for a one-line message. */
export function lastLine(text: string): string {
  return text.trim().split("\n").pop()?.slice(0, 300) ?? "";
}
