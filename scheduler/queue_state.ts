/**
 * Queues (Dask's `Queue`), as a pure state machine: named FIFO lists of values shared by every
 * client and task, bounded by `maxsize` (0: unbounded). A get waits, up to its timeout, for its
 * values; a put waits, up to its timeout, for room. Waiting gets and puts are served first come
 * first served: a get for `n` values at the head is served before a later get for one. A value's
 * keys are held from its put until a client takes it, and then until that client says it wants
 * them itself (see shared_holds.ts). A queue stays while it holds values or waiters, or while a
 * client that used it is connected (so its `maxsize` stays known); then it goes.
 *
 * @module
 */
import { TimeoutError } from "../core/errors.ts";
import type { Asker, SharedItem, SharedOutbox } from "./shared_effects.ts";
import type { SharedHolds } from "./shared_holds.ts";
import { FifoList } from "./fifo_list.ts";

/** A get waiting for `n` values. */
interface Getter extends Asker {
  n: number;
  timeout?: number;
}

/** A put waiting for room. */
interface Putter extends Asker {
  item: SharedItem;
  timeout?: number;
}

/** One queue. */
export interface QueueRecord {
  readonly name: string;
  readonly maxsize: number;
  readonly items: FifoList<SharedItem>;
  readonly getters: Getter[];
  readonly putters: Putter[];
  /** Clients that used it and are connected. */
  readonly users: Set<string>;
}

/** The queues by name, and what waits on them. */
export class QueueState {
  readonly queues: Map<string, QueueRecord> = new Map();
  /** Each waiting request's queue. */
  readonly #waits = new Map<number, QueueRecord>();

  constructor(private readonly out: SharedOutbox, private readonly holds: SharedHolds) {}

  /** Whether request `wait` waits on a queue. */
  has(wait: number): boolean {
    return this.#waits.has(wait);
  }

  /** Puts `item` at the end of queue `name`, waiting up to `timeout` ms for room. */
  put(a: Asker, name: string, maxsize: number, item: SharedItem, timeout?: number): void {
    const q = this.#open(a, name, maxsize);
    if (!q) return;
    if (q.putters.length === 0 && hasRoom(q)) {
      this.holds.hold(item.keys);
      q.items.push(item);
      this.out.reply(a.wait, { ok: true });
      this.#pump(q);
    } else if (timeout === 0) {
      this.out.reply(a.wait, { error: fullError(q, timeout) });
    } else {
      this.holds.hold(item.keys); // held while it waits for room
      q.putters.push({ ...a, item, timeout });
      this.#waits.set(a.wait, q);
      this.out.arm(a.wait, timeout);
    }
  }

  /**
   * Takes values from queue `name` for `a.client`: one (`batch` absent), every one there now
   * (`batch: true`, no wait), or `batch` of them, waiting up to `timeout` ms for them.
   */
  get(a: Asker, name: string, maxsize: number, timeout?: number, batch?: true | number): void {
    const q = this.#open(a, name, maxsize);
    if (!q) return;
    if (batch === true) {
      this.out.reply(a.wait, { items: this.#take(q, q.items.length, a.client) });
      return this.#pump(q);
    }
    const n = batch ?? 1;
    if (q.maxsize > 0 && n > q.maxsize) {
      const error = new TypeError(
        `Queue ${JSON.stringify(name)}: get({ batch: ${n} }) can never be served, the queue ` +
          `holds at most ${q.maxsize} values (its maxsize): ask for at most ${q.maxsize}`,
      );
      return this.out.reply(a.wait, { error });
    }
    if (q.getters.length === 0 && q.items.length >= n) {
      this.out.reply(a.wait, { items: this.#take(q, n, a.client) });
      this.#pump(q);
    } else if (timeout === 0) {
      this.out.reply(a.wait, { error: emptyError(q, n, timeout) });
    } else {
      q.getters.push({ ...a, n, timeout });
      this.#waits.set(a.wait, q);
      this.out.arm(a.wait, timeout);
    }
  }

  /** How many values queue `name` holds. */
  size(a: Asker, name: string, maxsize: number): void {
    const q = this.#open(a, name, maxsize);
    if (q) this.out.reply(a.wait, { n: q.items.length });
  }

  /** Request `wait`'s timeout passed: it fails with a TimeoutError. */
  expire(wait: number): void {
    const q = this.#waits.get(wait);
    if (!q) return;
    this.#waits.delete(wait);
    const g = q.getters.findIndex((x) => x.wait === wait);
    if (g >= 0) {
      const [getter] = q.getters.splice(g, 1);
      this.out.reply(wait, { error: emptyError(q, getter.n, getter.timeout) });
    } else {
      const p = q.putters.findIndex((x) => x.wait === wait);
      const [putter] = q.putters.splice(p, 1);
      this.holds.drop(putter.item.keys);
      this.out.reply(wait, { error: fullError(q, putter.timeout) });
    }
    this.#pump(q);
  }

  /** Request `wait` is dropped unanswered (its connection closed). */
  abandon(wait: number): void {
    const q = this.#remove(wait);
    if (q) this.#pump(q);
  }

  /** `client` left for good: its waiting requests are dropped, and it uses no queue. */
  clientGone(client: string): void {
    for (const q of [...this.queues.values()]) {
      // all of them go before any other is served: none is handed what the client would take
      for (const w of [...q.getters, ...q.putters]) if (w.client === client) this.#remove(w.wait);
      q.users.delete(client);
      this.#pump(q);
    }
  }

  /** The scheduler is closing: everything goes, nothing is answered. */
  close(): void {
    this.queues.clear();
    this.#waits.clear();
  }

  /** Drops waiting request `wait` unanswered (a put's keys are let go); returns its queue. */
  #remove(wait: number): QueueRecord | undefined {
    const q = this.#waits.get(wait);
    if (!q) return undefined;
    this.#waits.delete(wait);
    this.out.disarm(wait);
    const g = q.getters.findIndex((x) => x.wait === wait);
    if (g >= 0) q.getters.splice(g, 1);
    else {
      const [putter] = q.putters.splice(q.putters.findIndex((x) => x.wait === wait), 1);
      this.holds.drop(putter.item.keys);
    }
    return q;
  }

  /** The queue, made if new; a maxsize that differs from the queue's is an error. */
  #open(a: Asker, name: string, maxsize: number): QueueRecord | undefined {
    let q = this.queues.get(name);
    if (q && q.maxsize !== maxsize) {
      const error = new TypeError(
        `Queue ${JSON.stringify(name)} exists with maxsize ${q.maxsize}, and this handle has ` +
          `maxsize ${maxsize}: give every handle of a queue the same maxsize, or use another name`,
      );
      this.out.reply(a.wait, { error });
      return undefined;
    }
    if (!q) {
      q = { name, maxsize, items: new FifoList(), getters: [], putters: [], users: new Set() };
      this.queues.set(name, q);
    }
    q.users.add(a.client);
    return q;
  }

  /** The first `n` values, handed over to `client`. */
  #take(q: QueueRecord, n: number, client: string): SharedItem[] {
    const items = q.items.shift(n);
    for (const item of items) this.holds.handOver(client, item.keys);
    return items;
  }

  /** Serves waiting puts while there is room and waiting gets while their values are there. */
  #pump(q: QueueRecord): void {
    for (let moved = true; moved;) {
      moved = false;
      while (q.putters.length > 0 && hasRoom(q)) {
        const p = q.putters.shift()!;
        this.#waits.delete(p.wait);
        q.items.push(p.item);
        this.out.reply(p.wait, { ok: true });
        moved = true;
      }
      const head = q.getters[0];
      if (head !== undefined && q.items.length >= head.n) {
        q.getters.shift();
        this.#waits.delete(head.wait);
        this.out.reply(head.wait, { items: this.#take(q, head.n, head.client) });
        moved = true;
      }
    }
    this.#tidy(q);
  }

  #tidy(q: QueueRecord): void {
    if (
      q.items.length === 0 && q.getters.length === 0 && q.putters.length === 0 &&
      q.users.size === 0
    ) this.queues.delete(q.name);
  }
}

function hasRoom(q: QueueRecord): boolean {
  return q.maxsize === 0 || q.items.length < q.maxsize;
}

function emptyError(q: QueueRecord, n: number, timeout: number | undefined): TimeoutError {
  const what = n === 1 ? "no value came" : `${n} values did not come`;
  return new TimeoutError(
    `Queue ${JSON.stringify(q.name)}: ${what} within the timeout (${timeout} ms); ` +
      `put values first, or wait longer (a greater timeout, or none to wait for ever)`,
  );
}

function fullError(q: QueueRecord, timeout: number | undefined): TimeoutError {
  return new TimeoutError(
    `Queue ${JSON.stringify(q.name)} stayed full (maxsize ${q.maxsize}) for the timeout ` +
      `(${timeout} ms): the value was not put; take values out first, or wait longer`,
  );
}
