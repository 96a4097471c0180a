/**
 * What `progress()` prints: a bar per task prefix redrawn in place on a terminal, or plain lines
 * (`slowinc 120/200 60%`) on anything else. Pure string work; progress.ts does the writing.
 * @module
 */

/** Completions of one task prefix. */
export interface PrefixCount {
  readonly prefix: string;
  total: number;
  /** Finished, erred, cancelled or lost. */
  done: number;
  erred: number;
  /** When its last task settled (ms since the start), once all have. */
  finishedAt: number | null;
}

/** Bars drawn at most; the rest are summed up in one line. */
export const MAX_BARS = 30;
const BAR_WIDTH = 30;
const ESC = "\x1b[";

function percent(c: { done: number; total: number }): number {
  return c.total === 0 ? 100 : Math.floor((c.done * 100) / c.total);
}

function erredNote(erred: number): string {
  return erred > 0 ? ` (${erred} erred)` : "";
}

/** One plain line: `slowinc 120/200 60%`, with ` (3 erred)` when some erred. */
export function plainLine(c: PrefixCount): string {
  return `${c.prefix} ${c.done}/${c.total} ${percent(c)}%${erredNote(c.erred)}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The bar lines of a terminal frame, names padded to one width, the overflow summed up. */
export function barLines(counts: readonly PrefixCount[], elapsed: number): string[] {
  const shown = counts.slice(0, MAX_BARS);
  const rest = counts.slice(MAX_BARS);
  if (rest.length > 0) {
    shown.push({
      prefix: `(${rest.length} more)`,
      total: rest.reduce((n, c) => n + c.total, 0),
      done: rest.reduce((n, c) => n + c.done, 0),
      erred: rest.reduce((n, c) => n + c.erred, 0),
      finishedAt: rest.every((c) => c.finishedAt !== null)
        ? Math.max(...rest.map((c) => c.finishedAt!))
        : null,
    });
  }
  const width = Math.max(...shown.map((c) => c.prefix.length));
  return shown.map((c) => {
    const filled = c.total === 0 ? BAR_WIDTH : Math.floor((c.done * BAR_WIDTH) / c.total);
    const bar = "#".repeat(filled) + " ".repeat(BAR_WIDTH - filled);
    const pct = `${percent(c)}%`.padStart(4);
    const count = `${c.done}/${c.total}`.padStart(2 * String(c.total).length + 1);
    return `${c.prefix.padEnd(width)} [${bar}] ${count} ${pct} | ${
      seconds(c.finishedAt ?? elapsed)
    }${erredNote(c.erred)}`;
  });
}

/**
 * A terminal frame: the lines, each cleared first; after the first frame the cursor first goes
 * back up over the previous frame's `previousLines` lines, so the bars redraw in place.
 */
export function terminalFrame(lines: readonly string[], previousLines: number): string {
  const up = previousLines > 0 ? `\r${ESC}${previousLines}A` : "";
  return up + lines.map((l) => `${ESC}2K${l}\n`).join("");
}
