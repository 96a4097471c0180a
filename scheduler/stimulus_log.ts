/**
 * The stimulus log: each stimulus the scheduler handles gets an id (its kind and a counter, as
 * Dask's `stimulus_id`), and every task transition and worker event it causes is recorded in a
 * bounded ring, oldest dropped first, to answer `story()`. The ring is columnar and allocated
 * once: recording an entry stores a few references and numbers, and allocates nothing. Pure:
 * the actor around the state machine says when a stimulus begins; no I/O, no timers.
 *
 * @module
 */
import type { StoryEvent } from "../comm/protocol.ts";
import type { TaskStateName } from "./task_state.ts";

/** What happened to a worker, as its story tells it. */
export type WorkerEventName = "added" | "removed";

/** Where the state machine reports what it does; stamped with the current stimulus. */
export interface TransitionRecorder {
  /** Task `key` moved from `start` to `finish` (`worker`: where it went, when it went to one). */
  transition(key: string, start: TaskStateName, finish: TaskStateName, worker?: string): void;
  /** The worker at `address` (named `name`) was added or removed, and why. */
  workerEvent(address: string, name: string, event: WorkerEventName, reason?: string): void;
}

/** A recorder that keeps nothing (a state machine nobody asks stories of). */
export const NO_RECORDING: TransitionRecorder = {
  transition() {},
  workerEvent() {},
};

/** Entries the scheduler keeps (Dask's transition log keeps 100,000). */
export const STIMULUS_LOG_LENGTH = 100_000;

/** The ids of stimuli and a bounded log of what each one did. */
export class StimulusLog implements TransitionRecorder {
  /** How many entries it keeps. */
  readonly capacity: number;
  // the current stimulus: its kind, its number, and when it began (-1: not read yet)
  #kind = "start";
  #seq = 0;
  #now = -1;
  // the ring: entry i of the log is at (#head + i) % capacity
  #head = 0;
  #size = 0;
  readonly #keys: (string | undefined)[];
  readonly #workers: (string | undefined)[];
  readonly #starts: (TaskStateName | undefined)[];
  readonly #finishes: (TaskStateName | undefined)[];
  readonly #events: (WorkerEventName | undefined)[];
  readonly #reasons: (string | undefined)[];
  /** Worker events: the worker's name, so that a story can be asked by name after it left. */
  readonly #names: (string | undefined)[];
  readonly #kinds: string[];
  readonly #seqs: Float64Array;
  readonly #times: Float64Array;

  constructor(capacity: number = STIMULUS_LOG_LENGTH) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`a stimulus log holds at least one entry, got ${capacity}`);
    }
    this.capacity = capacity;
    const column = () => new Array<undefined>(capacity).fill(undefined);
    this.#keys = column();
    this.#workers = column();
    this.#starts = column();
    this.#finishes = column();
    this.#events = column();
    this.#reasons = column();
    this.#names = column();
    this.#kinds = new Array<string>(capacity).fill("");
    this.#seqs = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
  }

  /** A new stimulus of `kind` (a message's op, a timer's name...) begins: it gets the next id. */
  begin(kind: string): void {
    this.#kind = kind;
    this.#seq++;
    this.#now = -1;
  }

  /** The id of the stimulus being handled, as Dask spells one: `task-finished-1234`. */
  get stimulusId(): string {
    return `${this.#kind}-${this.#seq}`;
  }

  /** Entries held (at most `capacity`). */
  get size(): number {
    return this.#size;
  }

  transition(key: string, start: TaskStateName, finish: TaskStateName, worker?: string): void {
    const i = this.#slot();
    this.#keys[i] = key;
    this.#workers[i] = worker;
    this.#starts[i] = start;
    this.#finishes[i] = finish;
    this.#events[i] = undefined;
    this.#reasons[i] = undefined;
    this.#names[i] = undefined;
  }

  workerEvent(address: string, name: string, event: WorkerEventName, reason?: string): void {
    const i = this.#slot();
    this.#keys[i] = undefined;
    this.#workers[i] = address;
    this.#starts[i] = undefined;
    this.#finishes[i] = undefined;
    this.#events[i] = event;
    this.#reasons[i] = reason;
    this.#names[i] = name;
  }

  /** Claims the next slot (the oldest entry's, once full) and stamps it with the stimulus. */
  #slot(): number {
    const cap = this.capacity;
    let i: number;
    if (this.#size < cap) i = (this.#head + this.#size++) % cap;
    else {
      i = this.#head;
      this.#head = (this.#head + 1) % cap;
    }
    if (this.#now < 0) this.#now = Date.now();
    this.#kinds[i] = this.#kind;
    this.#seqs[i] = this.#seq;
    this.#times[i] = this.#now;
    return i;
  }

  /**
   * Oldest first, every entry about any of `subjects`: the transitions of a task key, the
   * events of a worker (by address or name), or everything a stimulus (by id) did.
   */
  story(subjects: Iterable<string>): StoryEvent[] {
    const wanted = new Set(subjects);
    const out: StoryEvent[] = [];
    if (wanted.size === 0) return out;
    // subjects that may be stimulus ids, by their number: matched without building every id
    const stimuli = new Map<number, Set<string>>();
    for (const s of wanted) {
      const m = /^(.+)-(\d+)$/.exec(s);
      if (!m) continue;
      const seq = Number(m[2]);
      const kinds = stimuli.get(seq);
      if (kinds) kinds.add(m[1]);
      else stimuli.set(seq, new Set([m[1]]));
    }
    const cap = this.capacity;
    for (let n = 0; n < this.#size; n++) {
      const i = (this.#head + n) % cap;
      const key = this.#keys[i];
      const match = key !== undefined
        ? wanted.has(key)
        : wanted.has(this.#workers[i]!) || wanted.has(this.#names[i]!);
      if (match || stimuli.size && stimuli.get(this.#seqs[i])?.has(this.#kinds[i])) {
        out.push(this.#entry(i));
      }
    }
    return out;
  }

  #entry(i: number): StoryEvent {
    const e: StoryEvent = {
      time: this.#times[i],
      stimulusId: `${this.#kinds[i]}-${this.#seqs[i]}`,
    };
    const key = this.#keys[i];
    if (key !== undefined) e.key = key;
    const worker = this.#workers[i];
    if (worker !== undefined) e.worker = worker;
    const event = this.#events[i];
    if (event === undefined) {
      e.start = this.#starts[i];
      e.finish = this.#finishes[i];
      return e;
    }
    e.event = event;
    const reason = this.#reasons[i];
    if (reason !== undefined) e.reason = reason;
    return e;
  }
}
