/**
 * The scheduler's timers: work stealing's balancing pass, the worker time-to-live check, and the
 * check for tasks that stay unrunnable (unrunnable_watch.ts).
 * A timer changes nothing itself: it sends the actor a `tick` stimulus, handled like any other
 * input.
 *
 * @module
 */
import type { TimerRelease } from "../comm/unref.ts";
import type { Tick } from "./stimulus.ts";

/** The tick of the balancing pass (one object: a tick allocates nothing). */
export const BALANCE_TICK: Tick = Object.freeze({ kind: "tick", timer: "balance" });
/** The tick of the worker time-to-live check. */
export const TTL_TICK: Tick = Object.freeze({ kind: "tick", timer: "worker-ttl" });
/** The tick of the check for tasks no worker may run. */
export const UNRUNNABLE_TICK: Tick = Object.freeze({ kind: "tick", timer: "unrunnable" });

/** How often each timer fires (ms); an absent one does not run. */
export interface TimerPeriods {
  balance?: number;
  workerTtl?: number;
  unrunnable?: number;
}

/** How often to look for tasks that stay unrunnable, to warn about them `after` ms: ≤ 1 s. */
export function unrunnableCheckInterval(after: number): number {
  return Math.max(10, Math.min(1000, after / 4));
}

/** The running timers. */
export class SchedulerTimers {
  #intervals: ReturnType<typeof setInterval>[] = [];

  /** Starts the timers of `periods`; each tick goes to `post`; each timer goes by `release`. */
  constructor(post: (tick: Tick) => void, periods: TimerPeriods, release: TimerRelease) {
    if (periods.balance !== undefined) {
      this.#intervals.push(setInterval(() => post(BALANCE_TICK), periods.balance));
    }
    if (periods.workerTtl !== undefined) {
      this.#intervals.push(setInterval(() => post(TTL_TICK), periods.workerTtl));
    }
    if (periods.unrunnable !== undefined) {
      this.#intervals.push(setInterval(() => post(UNRUNNABLE_TICK), periods.unrunnable));
    }
    for (const t of this.#intervals) release(t);
  }

  /** Stops every timer. */
  stop(): void {
    for (const t of this.#intervals) clearInterval(t);
    this.#intervals = [];
  }
}
