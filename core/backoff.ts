/**
 * Exponential backoff with a cap and jitter, for anything that retries a connection (workers
 * registering, worker commands restarting their workers; clients may use it too), and an
 * abortable pause to wait between attempts. Browser-safe (no Deno).
 *
 * @module
 */

/** How delays grow. */
export interface BackoffOptions {
  /** The first delay (ms, default 200). */
  initial?: number;
  /** The longest delay (ms, default 10 000). */
  max?: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /** The fraction of each delay drawn at random, 0..1 (default 0.5: waits 50–100 % of it). */
  jitter?: number;
  /** Random numbers in [0, 1) (default Math.random); inject one to test. */
  random?: () => number;
}

/**
 * The delay before retry number `attempt` (0-based): `initial * factor^attempt`, capped at
 * `max`, less a random share of up to `jitter` of it, so that many retrying peers spread out.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initial ?? 200;
  const max = options.max ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  const random = options.random ?? Math.random;
  const full = Math.min(max, initial * factor ** Math.max(0, attempt));
  return Math.round(full * (1 - jitter * random()));
}

/** Counts attempts and hands out their delays; `reset()` after a success. */
export class Backoff {
  #attempt = 0;

  /** See `BackoffOptions` for the defaults. */
  constructor(readonly options: BackoffOptions = {}) {}

  /** Attempts counted since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt (ms); counts the attempt. */
  next(): number {
    return backoffDelay(this.#attempt++, this.options);
  }

  /** Starts again from the first delay. */
  reset(): void {
    this.#attempt = 0;
  }
}

/**
 * Waits `ms`, or less if `signal` aborts (it resolves either way, and clears its timer).
 * Resolves true when the whole wait passed.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (full: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", aborted);
      resolve(full);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), Math.max(0, ms));
    signal?.addEventListener("abort", aborted);
  });
}
