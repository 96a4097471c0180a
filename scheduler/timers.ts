/**
 * The scheduler's timers: work stealing's balancing pass, the worker time-to-live check, the
 * check for tasks that stay unrunnable (unrunnable_watch.ts), the live dashboard's feed (it
 * runs only while a page is connected: `feed(true)` starts it) and the system samples.
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

/** The tick of the live dashboard's feed. */
export const FEED_TICK: Tick = Object.freeze({ kind: "tick", timer: "dashboard" });
/** The tick of the scheduler's samples of itself (the dashboard's system page). */
export const SYSTEM_TICK: Tick = Object.freeze({ kind: "tick", timer: "system-sample" });

/** How often each timer fires (ms); an absent one does not run. */
export interface TimerPeriods {
  balance?: number;
  workerTtl?: number;
  unrunnable?: number;
  /** The dashboard's feed, while it runs (see `feed`). */
  feed?: number;
  system?: number;
}

/** How often to look for tasks that stay unrunnable, to warn about them `after` ms: ≤ 1 s. */
export function unrunnableCheckInterval(after: number): number {
  return Math.max(10, Math.min(1000, after / 4));
}

/** The running timers. */
export class SchedulerTimers {
  #intervals: ReturnType<typeof setInterval>[] = [];
  #feed: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  readonly #post: (tick: Tick) => void;
  readonly #periods: TimerPeriods;
  readonly #release: TimerRelease;

  /**
   * Starts the timers of `periods` (the feed's once asked); each tick goes to `post`; each
   * timer goes by `release`.
   */
  constructor(post: (tick: Tick) => void, periods: TimerPeriods, release: TimerRelease) {
    this.#post = post;
    this.#periods = periods;
    this.#release = release;
    if (periods.balance !== undefined) {
      this.#intervals.push(setInterval(() => post(BALANCE_TICK), periods.balance));
    }
    if (periods.workerTtl !== undefined) {
      this.#intervals.push(setInterval(() => post(TTL_TICK), periods.workerTtl));
    }
    if (periods.unrunnable !== undefined) {
      this.#intervals.push(setInterval(() => post(UNRUNNABLE_TICK), periods.unrunnable));
    }
    if (periods.system !== undefined) {
      this.#intervals.push(setInterval(() => post(SYSTEM_TICK), periods.system));
    }
    for (const t of this.#intervals) release(t);
  }

  /** Starts (true) or stops the dashboard feed's timer; a no-op when it already is so. */
  feed(on: boolean): void {
    const period = this.#periods.feed;
    if (on && this.#feed === undefined && period !== undefined && !this.#stopped) {
      this.#feed = setInterval(() => this.#post(FEED_TICK), period);
      this.#release(this.#feed);
    } else if (!on && this.#feed !== undefined) {
      clearInterval(this.#feed);
      this.#feed = undefined;
    }
  }

  /** Stops every timer. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#intervals) clearInterval(t);
    this.#intervals = [];
    this.feed(false);
  }
}
