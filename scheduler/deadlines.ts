/**
 * Deadlines of the scheduler's extensions (a Lock's `acquire({ timeout })`, a Queue's `get`,
 * an Event's `wait`...): a timer that posts a `deadline` stimulus, so that what the deadline does
 * runs inside the actor, as every other input. An extension's state machine says when a wait
 * ends; the extension arms the deadline here and cancels it when the wait ends first.
 *
 * @module
 */
import type { TimerRelease } from "../comm/unref.ts";
import type { DeadlinePassed } from "./stimulus.ts";

/** The longest delay setTimeout honours (a longer one would fire at once). */
const MAX_DELAY = 2 ** 31 - 1;

/** The armed deadlines, by id. */
export class Deadlines {
  #timers = new Map<number, ReturnType<typeof setTimeout>>();
  #next = 1;
  #closed = false;

  constructor(
    private readonly post: (s: DeadlinePassed) => void,
    private readonly release: TimerRelease,
  ) {}

  /**
   * Runs `fire` inside the actor after `ms` (unless cancelled first); returns the deadline's id.
   * Once the scheduler is closing, nothing is armed (0 is returned).
   *
   * @example
   * ```ts ignore
   * const id = deadlines.after(100, () => locks.expire(waiter));
   * deadlines.cancel(id); // the lock was granted first
   * ```
   */
  after(ms: number, fire: () => void): number {
    if (this.#closed) return 0;
    const id = this.#next++;
    this.#arm({ kind: "deadline", id, fire, due: performance.now() + Math.max(0, ms) });
    return id;
  }

  /** Sets the timer of `s`: at its due time, or at the longest delay setTimeout honours. */
  #arm(s: DeadlinePassed): void {
    const wait = Math.min(Math.max(0, s.due - performance.now()), MAX_DELAY);
    const timer = setTimeout(() => this.post(s), wait);
    this.release(timer);
    this.#timers.set(s.id, timer);
  }

  /** Disarms deadline `id` (nothing when it fired or was cancelled already). */
  cancel(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  /** A deadline's stimulus arrived: it fires unless it was cancelled meanwhile. */
  passed(s: DeadlinePassed): void {
    if (!this.#timers.has(s.id)) return;
    if (s.due - performance.now() > 1) return this.#arm(s); // longer than one timer can wait
    this.#timers.delete(s.id);
    s.fire();
  }

  /** The scheduler is closing: every deadline is disarmed, none fires. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
