/**
 * The stimulus log of an actor (the scheduler, each worker): each stimulus it handles gets an id
 * (its kind and a counter, as Dask's `stimulus_id`), and every task transition and worker event
 * it causes is recorded in a bounded ring, oldest dropped first, to answer `story()`. A
 * stimulus caused by another actor's (a worker's `compute-task` by the scheduler's
 * `update-graph-16`) records that one's id as its cause. The ring is columnar and allocated
 * once: recording an entry stores a few references and numbers, and allocates nothing. Pure:
 * the actor says when a stimulus begins; no I/O, no timers.
 *
 * @module
 */
import type { StoryEvent } from "../comm/protocol.ts";
import type { TransitionRecorder, WorkerEventName } from "../core/transition_recorder.ts";

export { NO_RECORDING, type TransitionRecorder } from "../core/transition_recorder.ts";

/** Entries the scheduler keeps (Dask's transition log keeps 100,000). */
export const STIMULUS_LOG_LENGTH = 100_000;

/** The ids of stimuli and a bounded log of what each one did. */
export class StimulusLog implements TransitionRecorder {
  /** How many entries it keeps. */
  readonly capacity: number;
  // the current stimulus: its kind, its number, and when it began (-1: not read yet)
  #kind = "start";
  #seq = 0;
  #cause: string | undefined = undefined;
  /** The current stimulus's id, made when first asked for. */
  #id: string | null = null;
  #now = -1;
  // the ring: entry i of the log is at (#head + i) % capacity
  #head = 0;
  #size = 0;
  readonly #keys: (string | undefined)[];
  readonly #workers: (string | undefined)[];
  readonly #starts: (string | undefined)[];
  readonly #finishes: (string | undefined)[];
  readonly #events: (WorkerEventName | undefined)[];
  readonly #reasons: (string | undefined)[];
  /** Worker events: the worker's name, so that a story can be asked by name after it left. */
  readonly #names: (string | undefined)[];
  readonly #kinds: string[];
  /** The id of the other actor's stimulus that caused the entry's, if any. */
  readonly #causes: (string | undefined)[];
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
    this.#causes = column();
    this.#kinds = new Array<string>(capacity).fill("");
    this.#seqs = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
  }

  /**
   * A new stimulus of `kind` (a message's op, a timer's name...) begins: it gets the next id.
   * `cause`: the id of the stimulus of another actor that sent it, when the message says.
   */
  begin(kind: string, cause?: string): void {
    this.#kind = kind;
    this.#seq++;
    this.#now = -1;
    this.#cause = cause;
    this.#id = null;
  }

  /** The id of the stimulus being handled, as Dask spells one: `task-finished-1234`. */
  get stimulusId(): string {
    return this.#id ??= `${this.#kind}-${this.#seq}`;
  }

  /** Entries held (at most `capacity`). */
  get size(): number {
    return this.#size;
  }

  transition(key: string, start: string, finish: string, worker?: string): void {
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
    this.#causes[i] = this.#cause;
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
      const cause = this.#causes[i];
      if (
        match || (cause !== undefined && wanted.has(cause)) ||
        stimuli.size && stimuli.get(this.#seqs[i])?.has(this.#kinds[i])
      ) {
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
    const cause = this.#causes[i];
    if (cause !== undefined) e.cause = cause;
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
