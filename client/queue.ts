/**
 * `Queue`: a first-in first-out queue on the scheduler, shared by every client and task that
 * names it (Dask's `distributed.Queue`). Browser-safe.
 *
 * @module
 */
import { fromEnvelope } from "../core/errors.ts";
import { HANDLE, registerHandle } from "../comm/value_handles.ts";
import type { Client } from "./client.ts";
import { callsOf } from "./client_calls_of.ts";
import type { Future } from "./future.ts";
import { resolveClient } from "./primitive_client.ts";
import { encodeItem, takeItems } from "./shared_items.ts";
import { waiting } from "./primitive_client.ts";
import {
  batchOption,
  checkOptions,
  maxsizeOption,
  nameOption,
  timeoutOption,
} from "./primitive_options.ts";

/** Options of a {@link Queue}. */
export interface QueueOptions {
  /** The client it talks through (inside a task: the task's own client; else the default). */
  client?: Client;
  /** How many values it holds at most; `put` waits for room beyond (0, the default: no bound). */
  maxsize?: number;
}

/** Options of {@link Queue.get}. */
export interface QueueGetOptions {
  /** How long to wait (ms) for the values: 0 tries once; left out, it waits for ever. */
  timeout?: number;
  /** false (one value), true (every value there now, without waiting) or how many to take. */
  batch?: boolean | number;
}

/**
 * A named first-in first-out queue kept by the scheduler: every client and task that makes a
 * `Queue` of the same name shares it. Values are anything dtask can send, or Futures: a Future
 * put in a queue keeps its data alive on the cluster until it is taken (also after the client
 * that put it closed), and `get` gives its value. `maxsize` bounds it (a full queue makes `put`
 * wait); a `timeout` in ms makes `get` and `put` reject with a `TimeoutError` when it passes.
 * A Queue passed to a task arrives as a Queue of the same name; inside a task `client` may be
 * left out, and a task that waits (a get, a put on a full queue) gives its thread slot back
 * meanwhile, as `gather` does.
 *
 * @example Tasks put, the client takes
 * ```ts
 * await using client = await Client.connect();
 * const q = new Queue<number>("results", { client });
 * await client.gather(client.map(async (i: number) => {
 *   await new Queue("results").put(i * i);
 * }, [1, 2, 3]));
 * console.log(await q.qsize()); // 3
 * console.log((await q.get({ batch: 3 })).sort()); // [1, 4, 9]
 * ```
 */
export class Queue<T = unknown> {
  /** Its name, shared by every Queue that names it. */
  readonly name: string;
  /** How many values it holds at most (0: no bound). */
  readonly maxsize: number;
  readonly #client: Client | undefined;

  /** A handle on the queue `name` (a unique name when left out). */
  constructor(name?: string, options: QueueOptions = {}) {
    const o = checkOptions("Queue", options, ["client", "maxsize"]);
    this.name = nameOption("Queue", name, "queue");
    this.maxsize = maxsizeOption(o.maxsize);
    if (o.client !== undefined) resolveClient(o.client, "Queue"); // a wrong type fails here
    this.#client = o.client as Client | undefined;
  }

  /**
   * Puts `value` (a Future: its value, kept alive until taken) at the end of the queue,
   * waiting up to `timeout` ms for room when the queue is full; rejects with a TimeoutError
   * when none came.
   */
  async put(value: T | Future<T>, options: { timeout?: number } = {}): Promise<void> {
    const o = checkOptions("Queue.put", options, ["timeout"]);
    const timeout = timeoutOption("Queue.put", o.timeout);
    const client = resolveClient(this.#client, "Queue");
    const { v, keys } = await encodeItem(client, value, `Queue ${JSON.stringify(this.name)}.put`);
    const { name, maxsize } = this;
    const msg = { op: "queue-put", id: 0, name, maxsize, v, keys, timeout } as const;
    const calls = callsOf(client);
    const r = await waiting(maxsize > 0 && timeout !== 0, () => calls.request(msg));
    if (r.e) throw fromEnvelope(r.e);
  }

  /**
   * Takes the first value (a Future put is taken as its value), waiting up to `timeout` ms for
   * one; rejects with a TimeoutError when none came. With `batch: true`, every value there now
   * (an array, perhaps empty, at once); with `batch: n`, the first `n`, waiting for them.
   */
  get(options?: { timeout?: number; batch?: false }): Promise<T>;
  /** Takes every value there now (`batch: true`), or the first `batch` of them. */
  get(options: { timeout?: number; batch: true | number }): Promise<T[]>;
  /** One value, or an array of them when `batch` is true or a number. */
  get(options: QueueGetOptions): Promise<T | T[]>;
  async get(options: QueueGetOptions = {}): Promise<T | T[]> {
    const o = checkOptions("Queue.get", options, ["timeout", "batch"]);
    const timeout = timeoutOption("Queue.get", o.timeout);
    const batch = batchOption(o.batch);
    const client = resolveClient(this.#client, "Queue");
    const { name, maxsize } = this;
    const msg = { op: "queue-get", id: 0, name, maxsize, timeout, batch } as const;
    const calls = callsOf(client);
    const r = await waiting(batch !== true && timeout !== 0, () => calls.request(msg));
    const values = await takeItems(client, r) as T[];
    return batch === undefined ? values[0] : values;
  }

  /** How many values the queue holds now. */
  async qsize(): Promise<number> {
    const client = resolveClient(this.#client, "Queue");
    const { name, maxsize } = this;
    const r = await callsOf(client).request({ op: "queue-size", id: 0, name, maxsize });
    if (r.e) throw fromEnvelope(r.e);
    return r.n;
  }

  /** Travels into tasks and results as its name and maxsize. */
  [HANDLE](): [string, unknown] {
    return ["queue", [this.name, this.maxsize]];
  }
}

registerHandle("queue", (data) => {
  const [name, maxsize] = data as [string, number];
  return new Queue(name, { maxsize });
});
