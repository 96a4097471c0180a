/**
 * Waits on the workers: a scatter waiting for an allowed worker to join, `waitForWorkers`, a
 * restart or a retirement waiting for workers to come and go. Each is checked whenever the
 * workers change; its deadline fires a timer that posts a `wait-expired` stimulus, so that a
 * wait ends inside the actor like every other input.
 *
 * @module
 */
import type { TimerRelease } from "../comm/unref.ts";
import { CommClosedError, TimeoutError } from "../core/errors.ts";
import type { WaitExpired, WorkerWait } from "./stimulus.ts";

/** The longest delay setTimeout honours (a longer one would fire at once). */
const MAX_DELAY = 2 ** 31 - 1;

/** The waits in progress and their deadlines. */
export class WorkerWaits {
  #timers = new Map<WorkerWait, ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(
    readonly post: (s: WaitExpired) => void,
    private readonly release: TimerRelease,
  ) {}

  /** Adds `wait` unless it is satisfied already; it expires after `ms`. */
  add(wait: WorkerWait, ms: number): void {
    if (wait.check()) return;
    if (this.#closed) return wait.cancel();
    const expired: WaitExpired = { kind: "wait-expired", wait };
    const timer = setTimeout(() => this.post(expired), Math.min(ms, MAX_DELAY));
    this.release(timer);
    this.#timers.set(wait, timer);
  }

  /** The workers changed: the waits now satisfied end. */
  changed(): void {
    for (const [wait, timer] of this.#timers) {
      if (!wait.check()) continue;
      clearTimeout(timer);
      this.#timers.delete(wait);
    }
  }

  /** `wait`'s deadline passed (unless it ended meanwhile). */
  expired(wait: WorkerWait): void {
    if (this.#timers.delete(wait)) wait.expire();
  }

  /** The scheduler is closing: every wait is cancelled, later ones at once. */
  close(): void {
    this.#closed = true;
    const waits = [...this.#timers];
    this.#timers.clear();
    for (const [wait, timer] of waits) {
      clearTimeout(timer);
      wait.cancel();
    }
  }

  /** Resolves once `pred()` holds; rejects with TimeoutError after `ms`. */
  until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    this.add({
      check: () => pred() && (resolve(), true),
      expire: () => reject(new TimeoutError(`waiting for ${what} timed out after ${ms} ms`)),
      cancel: () => reject(new CommClosedError("the scheduler closed")),
    }, ms);
    return promise;
  }
}
