/**
 * Worker liveness: when the scheduler last heard from each worker, and which workers went
 * longer than their time-to-live without a heartbeat. Pure: the caller passes the clock and
 * runs the timer; a check is O(workers), never O(tasks).
 *
 * @module
 */

/** Dask's default worker-ttl: 5 minutes (ms), from the one table of default timeouts. */
export { DEFAULT_WORKER_TTL } from "../comm/timeouts.ts";

/** Last-seen times per worker address. */
export class Liveness {
  #lastSeen = new Map<string, number>();

  /** `address` was heard from at `now` (ms): it joined or sent a heartbeat. */
  seen(address: string, now: number): void {
    this.#lastSeen.set(address, now);
  }

  /** `address` left; it is no longer tracked. */
  forget(address: string): void {
    this.#lastSeen.delete(address);
  }

  /** When `address` was last heard from (ms), or undefined if it is not tracked. */
  lastSeen(address: string): number | undefined {
    return this.#lastSeen.get(address);
  }

  /** Workers not heard from for more than `ttl` ms at `now`, oldest first. */
  expired(now: number, ttl: number): string[] {
    const out: [string, number][] = [];
    for (const [address, at] of this.#lastSeen) if (now - at > ttl) out.push([address, at]);
    return out.sort((a, b) => a[1] - b[1]).map(([a]) => a);
  }
}

/** How often the scheduler checks the TTL: often enough to remove a worker soon after it expires. */
export function ttlCheckInterval(ttl: number): number {
  return Math.max(10, Math.min(1000, Math.floor(ttl / 4)));
}
