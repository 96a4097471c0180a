/**
 * The keys a worker was told to expect from a client's scatter. A worker stores only values it
 * computed, fetched for itself, or was told of by the scheduler: an unannounced `put-data` is
 * refused, so nobody can plant values that later tasks would use as their inputs.
 */

/** How long an announced key waits for its value before it is forgotten (ms). */
export const EXPECT_DATA_TTL = 5 * 60_000;

/** Announced keys, each with the time it stops being expected. Pure: the caller gives the time. */
export class ExpectedData {
  #until = new Map<string, number>();

  constructor(private readonly ttl = EXPECT_DATA_TTL) {}

  /** The scheduler announced `keys` at time `now`. */
  expect(keys: readonly string[], now: number): void {
    this.#expire(now);
    for (const k of keys) {
      this.#until.delete(k); // re-inserted last, so the map stays in expiry order
      this.#until.set(k, now + this.ttl);
    }
  }

  /**
   * Takes `keys` if every one of them is expected at `now` (they are then no longer expected);
   * otherwise takes none and returns the first that is not.
   */
  take(keys: readonly string[], now: number): string | null {
    this.#expire(now);
    for (const k of keys) if (!this.#until.has(k)) return k;
    for (const k of keys) this.#until.delete(k);
    return null;
  }

  /** The scheduler freed `keys`: no value for them is wanted any more. */
  forget(keys: readonly string[]): void {
    for (const k of keys) this.#until.delete(k);
  }

  /** How many keys are expected. */
  get size(): number {
    return this.#until.size;
  }

  #expire(now: number): void {
    for (const [k, until] of this.#until) {
      if (until > now) return;
      this.#until.delete(k);
    }
  }
}
