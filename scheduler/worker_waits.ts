/**
 * Waits on the workers: a scatter waiting for an allowed worker to join, `waitForWorkers`, a
 * restart or a retirement waiting for workers to come and go. Each is checked whenever the
 * workers change; its deadline is one of the actor's deadlines (deadlines.ts), so that a wait
 * ends inside the actor like every other input.
 *
 * @module
 */
import { CommClosedError, TimeoutError } from "../core/errors.ts";
import type { Deadlines } from "./deadlines.ts";
import type { WorkerWait } from "./stimulus.ts";

/** The waits in progress, by the id of their deadline. */
export class WorkerWaits {
  #deadlines = new Map<WorkerWait, number>();
  #closed = false;

  constructor(private readonly deadlines: Deadlines) {}

  /** Adds `wait` unless it is satisfied already; it expires after `ms`. */
  add(wait: WorkerWait, ms: number): void {
    if (wait.check()) return;
    if (this.#closed) return wait.cancel();
    this.#deadlines.set(
      wait,
      this.deadlines.after(ms, () => {
        this.#deadlines.delete(wait);
        wait.expire();
      }),
    );
  }

  /** The workers changed: the waits now satisfied end. */
  changed(): void {
    for (const [wait, id] of this.#deadlines) {
      if (!wait.check()) continue;
      this.deadlines.cancel(id);
      this.#deadlines.delete(wait);
    }
  }

  /** The scheduler is closing: every wait is cancelled, later ones at once. */
  close(): void {
    this.#closed = true;
    const waits = [...this.#deadlines];
    this.#deadlines.clear();
    for (const [wait, id] of waits) {
      this.deadlines.cancel(id);
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
