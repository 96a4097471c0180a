/**
 * Events (Dask's `Event`), as a pure state machine: named flags shared by every client and
 * task. A wait returns true once the event is set, false when its timeout passes first. As in
 * Dask, the scheduler keeps no state for an event that is cleared and has no waiters.
 *
 * @module
 */
import type { Asker, SharedOutbox } from "./shared_effects.ts";

/** One event that is set, or has waiters. */
export interface EventRecord {
  readonly name: string;
  isSet: boolean;
  readonly waiters: Asker[];
}

/** The events by name, and what waits on them. */
export class EventState {
  readonly events: Map<string, EventRecord> = new Map();
  readonly #waits = new Map<number, EventRecord>();

  constructor(private readonly out: SharedOutbox) {}

  /** Whether request `wait` waits on an event. */
  has(wait: number): boolean {
    return this.#waits.has(wait);
  }

  /** Sets event `name`: every waiter gets true. */
  set(a: Asker, name: string): void {
    let e = this.events.get(name);
    if (!e) this.events.set(name, e = { name, isSet: true, waiters: [] });
    e.isSet = true;
    for (const w of e.waiters.splice(0)) {
      this.#waits.delete(w.wait);
      this.out.reply(w.wait, { flag: true });
    }
    this.out.reply(a.wait, { ok: true });
  }

  /** Clears event `name`. */
  clear(a: Asker, name: string): void {
    const e = this.events.get(name);
    if (e) {
      e.isSet = false;
      this.#tidy(e);
    }
    this.out.reply(a.wait, { ok: true });
  }

  /** Whether event `name` is set. */
  isSet(a: Asker, name: string): void {
    this.out.reply(a.wait, { flag: this.events.get(name)?.isSet ?? false });
  }

  /** Waits up to `timeout` ms for event `name` to be set. */
  wait(a: Asker, name: string, timeout?: number): void {
    const e = this.events.get(name);
    if (e?.isSet) return this.out.reply(a.wait, { flag: true });
    if (timeout === 0) return this.out.reply(a.wait, { flag: false });
    const rec = e ?? { name, isSet: false, waiters: [] };
    this.events.set(name, rec);
    rec.waiters.push(a);
    this.#waits.set(a.wait, rec);
    this.out.arm(a.wait, timeout);
  }

  /** Request `wait`'s timeout passed: it gets false. */
  expire(wait: number): void {
    if (this.#remove(wait)) this.out.reply(wait, { flag: false });
  }

  /** Request `wait` is dropped unanswered (its connection closed). */
  abandon(wait: number): void {
    if (this.#remove(wait)) this.out.disarm(wait);
  }

  /** `client` left for good: its waiting requests are dropped. */
  clientGone(client: string): void {
    for (const e of [...this.events.values()]) {
      for (const w of [...e.waiters]) if (w.client === client) this.abandon(w.wait);
    }
  }

  /** The scheduler is closing: everything goes, nothing is answered. */
  close(): void {
    this.events.clear();
    this.#waits.clear();
  }

  #remove(wait: number): boolean {
    const e = this.#waits.get(wait);
    if (!e) return false;
    this.#waits.delete(wait);
    e.waiters.splice(e.waiters.findIndex((w) => w.wait === wait), 1);
    this.#tidy(e);
    return true;
  }

  #tidy(e: EventRecord): void {
    if (!e.isSet && e.waiters.length === 0) this.events.delete(e.name);
  }
}
