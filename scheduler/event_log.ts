/**
 * Bounded histories kept by the scheduler: events per topic (`logEvent` / `getEvents`) and
 * records of finished tasks (`getTaskStream`). Appending is O(1) and allocates nothing once a
 * ring is full.
 */
import { keyPrefix } from "../core/keys.ts";
import { Ring } from "../core/ring.ts";
import { STREAM_COMPUTE, STREAM_ERRED } from "../comm/protocol/stream_kinds.ts";

/** One event: [ms since the epoch, message]. */
export type LoggedEvent<M> = [number, M];

/** Events by topic, each topic keeping its newest `perTopic`. */
export class EventLog<M> {
  readonly topics: Map<string, Ring<LoggedEvent<M>>> = new Map();

  constructor(readonly perTopic = 10_000) {}

  /** Appends an event to a topic. */
  add(topic: string, event: LoggedEvent<M>): void {
    let ring = this.topics.get(topic);
    if (!ring) this.topics.set(topic, ring = new Ring(this.perTopic));
    ring.push(event);
  }

  /** A topic's events, oldest first (empty for an unknown topic). */
  get(topic: string): LoggedEvent<M>[] {
    return this.topics.get(topic)?.toArray() ?? [];
  }
}

/** A task that erred on a worker, as the dashboard's exceptions page lists it. */
export interface ErredTask {
  key: string;
  worker: string;
  /** When it stopped (ms since the epoch). */
  time: number;
  /** The error's name and message. */
  name: string;
  message: string;
}

/**
 * Finished tasks and the workers' I/O (transfers from peers, spill writes and reads back), as
 * parallel arrays: nothing allocated per record once full.
 */
export class TaskStream {
  /** The task's key, or a label of an I/O record (`transfer-3`: 3 keys fetched). */
  readonly keys: string[];
  /** The key's prefix (the scheduler knows each task's: the dashboard's feed needs it). */
  readonly prefixes: string[];
  readonly workers: string[];
  readonly starts: Float64Array;
  readonly stops: Float64Array;
  /** 0 compute, 1 erred, 2 transfer, 3 disk-write, 4 disk-read. */
  readonly kinds: Uint8Array;
  /** Bytes: a task's result, or what a transfer or spill moved. */
  readonly nbytes: Float64Array;
  /** The peer a transfer came from ("" otherwise). */
  readonly sources: string[];
  /** The index of the worker thread each ran on (I/O: 0, the worker's first row). */
  readonly threads: Uint16Array;
  #size = 0;
  #next = 0;
  #pushed = 0;

  constructor(readonly capacity = 100_000) {
    this.keys = new Array(capacity);
    this.prefixes = new Array(capacity);
    this.workers = new Array(capacity);
    this.starts = new Float64Array(capacity);
    this.stops = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.nbytes = new Float64Array(capacity);
    this.sources = new Array(capacity);
    this.threads = new Uint16Array(capacity);
  }

  /**
   * Records a task that finished (ok) or erred on `worker`'s `thread`, with its times (ms epoch);
   * `prefix` is its key's (`keyPrefix`), when the caller knows it.
   */
  push(
    key: string,
    worker: string,
    start: number,
    stop: number,
    ok: boolean,
    thread = 0,
    nbytes = 0,
    prefix = keyPrefix(key),
  ): void {
    const kind = ok ? STREAM_COMPUTE : STREAM_ERRED;
    this.#record(key, prefix, worker, start, stop, kind, thread, nbytes, "");
  }

  /**
   * Records an I/O of `worker`: `kind` 2 (transfer from peer `source`), 3 (disk-write) or 4
   * (disk-read), `label` naming it, drawn on the worker's first thread row.
   */
  pushIo(
    label: string,
    worker: string,
    start: number,
    stop: number,
    kind: number,
    nbytes: number,
    source = "",
  ): void {
    this.#record(label, keyPrefix(label), worker, start, stop, kind, 0, nbytes, source);
  }

  /** Whether record `i` finished well (a task that did not err, or any I/O). */
  ok(i: number): boolean {
    return this.kinds[i] !== STREAM_ERRED;
  }

  #record(
    key: string,
    prefix: string,
    worker: string,
    start: number,
    stop: number,
    kind: number,
    thread: number,
    nbytes: number,
    source: string,
  ): void {
    const i = this.#next;
    this.keys[i] = key;
    this.prefixes[i] = prefix;
    this.workers[i] = worker;
    this.starts[i] = start;
    this.stops[i] = stop;
    this.kinds[i] = kind;
    this.nbytes[i] = nbytes;
    this.sources[i] = source;
    this.threads[i] = thread;
    this.#next = (i + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    this.#pushed++;
  }

  get size(): number {
    return this.#size;
  }

  /** Records pushed ever: a cursor for readers that take the new ones (see `after`). */
  get pushed(): number {
    return this.#pushed;
  }

  /**
   * Indexes of the records pushed after `cursor` (a past value of `pushed`), oldest first, at
   * most the newest `limit` of them (and never more than the ring still holds).
   */
  after(cursor: number, limit = Infinity): number[] {
    const n = Math.min(this.#pushed - cursor, this.#size, limit);
    const out: number[] = new Array(Math.max(0, n));
    for (let j = 0; j < n; j++) {
      out[j] = (this.#next - n + j + this.capacity) % this.capacity;
    }
    return out;
  }

  /** Indexes of the records that stopped at or after `start`, oldest first. */
  since(start = -Infinity): number[] {
    const out: number[] = [];
    const first = this.#size < this.capacity ? 0 : this.#next;
    for (let n = 0; n < this.#size; n++) {
      const i = (first + n) % this.capacity;
      if (this.stops[i] >= start) out.push(i);
    }
    return out;
  }
}
