/**
 * A worker's last log lines, as Dask keeps them for `get_worker_logs` and the dashboard's worker
 * page: `[level, message]` pairs, the message stamped with the time it was logged, the level
 * guessed from the line ("ERROR", "WARNING" or "INFO").
 *
 * @module
 */

/** Lines a worker keeps (Dask's `distributed.admin.log-length` is of this order). */
export const LOG_LINES_KEPT = 200;

/** A log line's level, guessed from its text: dtask's lines carry none. */
export function guessLevel(line: string): string {
  if (/\b(error|exception|failed|crash(ed)?)\b/i.test(line)) return "ERROR";
  if (/\b(warn(ing)?|refused|dropping|lost)\b/i.test(line)) return "WARNING";
  return "INFO";
}

/** The newest `capacity` log lines, oldest first. */
export class LogLines {
  readonly #lines: [string, string][] = [];
  #head = 0;

  constructor(readonly capacity: number = LOG_LINES_KEPT) {}

  /** Keeps `line`, logged at `time` (ms since the epoch). */
  add(line: string, time: number = Date.now()): void {
    const entry: [string, string] = [guessLevel(line), `${new Date(time).toISOString()} ${line}`];
    if (this.#lines.length < this.capacity) this.#lines.push(entry);
    else {
      this.#lines[this.#head] = entry;
      this.#head = (this.#head + 1) % this.capacity;
    }
  }

  /** The lines kept, oldest first. */
  lines(): [string, string][] {
    const l = this.#lines;
    return [...l.slice(this.#head), ...l.slice(0, this.#head)].map(([a, b]) => [a, b]);
  }
}
