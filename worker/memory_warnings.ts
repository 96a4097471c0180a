/**
 * The warnings of a worker's memory manager, in Dask's words, and their rate limit: a worker
 * that stays over its memory thresholds would otherwise repeat the same line on every tick. Pure:
 * the time comes in as an argument.
 *
 * @module
 */
import { formatBytes } from "../core/format_bytes.ts";

/** What a memory warning is about. */
export type MemoryWarning = "unmanaged-high" | "max-spill" | "spill-failed";

/** The least time between two warnings of a rate-limited kind (ms), as Dask's log filter. */
export const WARNING_INTERVAL_MS = 5 * 60_000;

/** Remembers when each kind of warning was last given, to give it at most once an interval. */
export class WarningRateLimit {
  readonly #lastAt = new Map<MemoryWarning, number>();

  /** `interval`: the least time between two warnings of one kind (ms). */
  constructor(readonly interval = WARNING_INTERVAL_MS) {}

  /** Whether a warning of `kind` may be given at `now` (ms); if so, it counts as given. */
  allow(kind: MemoryWarning, now: number): boolean {
    const last = this.#lastAt.get(kind);
    if (last !== undefined && now - last < this.interval) return false;
    this.#lastAt.set(kind, now);
    return true;
  }
}

/** The line when a value stays in memory because the disk cap (`maxSpill`) is reached. */
export function maxSpillLine(onDisk: number, maxSpill: number): string {
  return "Spill file on disk reached capacity; keeping data in memory " +
    `(${formatBytes(onDisk)} on disk of a maxSpill of ${formatBytes(maxSpill)}; ` +
    "raise maxSpill, or give the worker more memory)";
}

/** The line when process memory stays over the threshold with nothing left to spill. */
export function unmanagedHighLine(unmanaged: number, limit: number): string {
  return "Unmanaged memory use is high. This may indicate a memory leak or the memory may not " +
    "be released to the OS; no value is left to spill. -- " +
    `Unmanaged memory: ${formatBytes(unmanaged)} -- Worker memory limit: ${formatBytes(limit)}`;
}

/** The line when writing a value to disk failed: the value stays in memory. */
export function spillFailedLine(message: string): string {
  return `Spill to disk failed; keeping data in memory: ${message}`;
}
