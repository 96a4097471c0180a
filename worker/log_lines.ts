/**
 * A worker's last log lines, as Dask keeps them for `get_worker_logs` and the dashboard's worker
 * page: `[level, message]` pairs, the message stamped with the time it was logged, the level
 * guessed from the line ("ERROR", "WARNING" or "INFO").
 *
 * @module
 */
import { Ring } from "../core/ring.ts";

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
  readonly #lines: Ring<[string, string]>;

  constructor(readonly capacity: number = LOG_LINES_KEPT) {
    this.#lines = new Ring(capacity);
  }

  /** Keeps `line`, logged at `time` (ms since the epoch). */
  add(line: string, time: number = Date.now()): void {
    this.#lines.push([guessLevel(line), `${new Date(time).toISOString()} ${line}`]);
  }

  /** The lines kept, oldest first. */
  lines(): [string, string][] {
    return this.#lines.toArray().map(([a, b]) => [a, b]);
  }
}
