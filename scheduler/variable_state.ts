/**
 * Variables (Dask's `Variable`), as a pure state machine: named single-value registers shared
 * by every client and task. A get waits, up to its timeout, until the variable is set. The
 * keys of a variable's value are held until it is overwritten or deleted, and for each get
 * until the getter says it wants them itself (see shared_holds.ts), whoever set it and whether
 * or not that client is still connected. A variable with no value and no waiter keeps no state.
 *
 * @module
 */
import { TimeoutError } from "../core/errors.ts";
import type { Asker, SharedItem, SharedOutbox } from "./shared_effects.ts";
import type { SharedHolds } from "./shared_holds.ts";

/** A get waiting for a value. */
interface Getter extends Asker {
  timeout?: number;
}

/** One variable. */
export interface VariableRecord {
  readonly name: string;
  value?: SharedItem;
  readonly getters: Getter[];
}

/** The variables by name, and what waits on them. */
export class VariableState {
  readonly variables: Map<string, VariableRecord> = new Map();
  readonly #waits = new Map<number, VariableRecord>();

  constructor(private readonly out: SharedOutbox, private readonly holds: SharedHolds) {}

  /** Whether request `wait` waits on a variable. */
  has(wait: number): boolean {
    return this.#waits.has(wait);
  }

  /** Sets variable `name` to `item`; its waiters get it; its former value is let go. */
  set(a: Asker, name: string, item: SharedItem): void {
    let v = this.variables.get(name);
    if (!v) this.variables.set(name, v = { name, getters: [] });
    this.holds.hold(item.keys); // before the former value goes: it may hold the same keys
    const former = v.value;
    v.value = item;
    for (const g of v.getters.splice(0)) {
      this.#waits.delete(g.wait);
      this.#give(g, item);
    }
    if (former) this.holds.drop(former.keys);
    this.out.reply(a.wait, { ok: true });
  }

  /** The value of variable `name`, waiting up to `timeout` ms for one. */
  get(a: Asker, name: string, timeout?: number): void {
    const v = this.variables.get(name);
    if (v?.value) return this.#give(a, v.value);
    if (timeout === 0) return this.out.reply(a.wait, { error: unsetError(name, timeout) });
    const rec = v ?? { name, getters: [] };
    this.variables.set(name, rec);
    rec.getters.push({ ...a, timeout });
    this.#waits.set(a.wait, rec);
    this.out.arm(a.wait, timeout);
  }

  /** Unsets variable `name`: its value is let go (its waiters keep waiting). */
  delete(a: Asker, name: string): void {
    const v = this.variables.get(name);
    if (v?.value) {
      this.holds.drop(v.value.keys);
      v.value = undefined;
    }
    if (v) this.#tidy(v);
    this.out.reply(a.wait, { ok: true });
  }

  /** Request `wait`'s timeout passed: it fails with a TimeoutError. */
  expire(wait: number): void {
    const v = this.#waits.get(wait);
    if (!v) return;
    const g = this.#remove(v, wait);
    this.out.reply(wait, { error: unsetError(v.name, g.timeout) });
    this.#tidy(v);
  }

  /** Request `wait` is dropped unanswered (its connection closed). */
  abandon(wait: number): void {
    const v = this.#waits.get(wait);
    if (!v) return;
    this.#remove(v, wait);
    this.out.disarm(wait);
    this.#tidy(v);
  }

  /** `client` left for good: its waiting requests are dropped. */
  clientGone(client: string): void {
    for (const v of [...this.variables.values()]) {
      for (const g of [...v.getters]) if (g.client === client) this.abandon(g.wait);
    }
  }

  /** The scheduler is closing: everything goes, nothing is answered. */
  close(): void {
    this.variables.clear();
    this.#waits.clear();
  }

  /** Answers a get with the value, its keys held for the getter until it confirms. */
  #give(a: Asker, item: SharedItem): void {
    this.holds.hold(item.keys);
    this.holds.handOver(a.client, item.keys);
    this.out.reply(a.wait, { items: [item] });
  }

  #remove(v: VariableRecord, wait: number): Getter {
    this.#waits.delete(wait);
    return v.getters.splice(v.getters.findIndex((g) => g.wait === wait), 1)[0];
  }

  #tidy(v: VariableRecord): void {
    if (v.value === undefined && v.getters.length === 0) this.variables.delete(v.name);
  }
}

function unsetError(name: string, timeout: number | undefined): TimeoutError {
  return new TimeoutError(
    `Variable ${JSON.stringify(name)} was not set within the timeout (${timeout} ms): set it ` +
      `first, or wait longer (a greater timeout, or none to wait for ever)`,
  );
}
