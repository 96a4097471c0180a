/**
 * The keys queues and variables keep alive on the scheduler, counted: a key is wanted (by one
 * pseudo-client, the shell's) while a queue item, a variable's value, a put waiting for room, or
 * a hand-over holds it. A hand-over is a value a client took and has not yet said it wants
 * itself: its keys stay held until the client's `shared-keys-taken` arrives (it comes after the
 * client's own want on the same connection, so the key is never without a holder), or the
 * client leaves for good. Pure: effects go to the outbox.
 *
 * @module
 */
import type { SharedOutbox } from "./shared_effects.ts";

/** Counted holds on keys, and the hand-overs each client has not confirmed. */
export class SharedHolds {
  readonly #counts = new Map<string, number>();
  readonly #handovers = new Map<string, Map<string, number>>();

  constructor(private readonly out: SharedOutbox) {}

  /** How many holds key `k` has (0: the scheduler may let it go). */
  count(k: string): number {
    return this.#counts.get(k) ?? 0;
  }

  /** The keys held now (for tests and checks). */
  keys(): string[] {
    return [...this.#counts.keys()];
  }

  /** The keys handed to `client` and not yet confirmed, with their counts. */
  handedTo(client: string): Map<string, number> {
    return new Map(this.#handovers.get(client));
  }

  /** One more hold on each key (a key listed twice gets two). */
  hold(keys: readonly string[]): void {
    const fresh: string[] = [];
    for (const k of keys) {
      const n = this.#counts.get(k) ?? 0;
      this.#counts.set(k, n + 1);
      if (n === 0) fresh.push(k);
    }
    if (fresh.length) this.out.effects.push({ kind: "want", keys: fresh });
  }

  /** One hold less on each key. */
  drop(keys: readonly string[]): void {
    const gone: string[] = [];
    for (const k of keys) {
      const n = this.#counts.get(k);
      if (n === undefined) continue;
      if (n > 1) this.#counts.set(k, n - 1);
      else {
        this.#counts.delete(k);
        gone.push(k);
      }
    }
    if (gone.length) this.out.effects.push({ kind: "unwant", keys: gone });
  }

  /** Keys already held (by a queue item) now held for `client` until it confirms. */
  handOver(client: string, keys: readonly string[]): void {
    if (keys.length === 0) return;
    let mine = this.#handovers.get(client);
    if (!mine) this.#handovers.set(client, mine = new Map());
    for (const k of keys) mine.set(k, (mine.get(k) ?? 0) + 1);
  }

  /** `client` wants these keys itself now: their hand-over holds end. */
  taken(client: string, keys: readonly string[]): void {
    const mine = this.#handovers.get(client);
    if (!mine) return;
    const done: string[] = [];
    for (const k of keys) {
      const n = mine.get(k);
      if (n === undefined) continue;
      if (n > 1) mine.set(k, n - 1);
      else mine.delete(k);
      done.push(k);
    }
    if (mine.size === 0) this.#handovers.delete(client);
    this.drop(done);
  }

  /** `client` left for good: what was handed to it is let go. */
  clientGone(client: string): void {
    const mine = this.#handovers.get(client);
    if (!mine) return;
    this.#handovers.delete(client);
    const keys: string[] = [];
    for (const [k, n] of mine) for (let i = 0; i < n; i++) keys.push(k);
    this.drop(keys);
  }

  /** Everything is let go (the scheduler is closing): no effect. */
  clear(): void {
    this.#counts.clear();
    this.#handovers.clear();
  }
}
