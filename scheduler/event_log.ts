/**
 * Bounded histories kept by the scheduler: events per topic (`logEvent` / `getEvents`) and
 * records of finished tasks (`getTaskStream`). Appending is O(1) and allocates nothing once a
 * ring is full.
 */

/** A fixed-capacity ring: the newest `capacity` items, oldest first. */
export class Ring<T> {
  #items: T[] = [];
  #head = 0; // index of the oldest item once full

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    if (this.#items.length < this.capacity) this.#items.push(item);
    else {
      this.#items[this.#head] = item;
      this.#head = (this.#head + 1) % this.capacity;
    }
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const items = this.#items;
    return this.#head === 0 ? items.slice() : [
      ...items.slice(this.#head),
      ...items.slice(0, this.#head),
    ];
  }
}

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

/** Finished tasks, as parallel arrays: nothing allocated per task once full. */
export class TaskStream {
  readonly keys: string[];
  readonly workers: string[];
  readonly starts: Float64Array;
  readonly stops: Float64Array;
  readonly ok: Uint8Array;
  #size = 0;
  #next = 0;

  constructor(readonly capacity = 100_000) {
    this.keys = new Array(capacity);
    this.workers = new Array(capacity);
    this.starts = new Float64Array(capacity);
    this.stops = new Float64Array(capacity);
    this.ok = new Uint8Array(capacity);
  }

  /** Records a task that finished (ok) or erred on `worker`, with its times (ms epoch). */
  push(key: string, worker: string, start: number, stop: number, ok: boolean): void {
    const i = this.#next;
    this.keys[i] = key;
    this.workers[i] = worker;
    this.starts[i] = start;
    this.stops[i] = stop;
    this.ok[i] = ok ? 1 : 0;
    this.#next = (i + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
  }

  get size(): number {
    return this.#size;
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
