/**
 * The stimulus log of an actor (the scheduler, each worker): each stimulus it handles gets an id
 * (its kind and a counter, as Dask's `stimulus_id`), and every task transition and worker event
 * it causes is recorded in a bounded ring, oldest dropped first, to answer `story()`. A
 * stimulus caused by another actor's (a worker's `compute-task` by the scheduler's
 * `update-graph-16`) records that one's id as its cause. The rings are columnar and allocated
 * once: a stimulus's kind, cause and time are stored once, with its first entry, and an entry
 * stores its key, its worker and two numbers (its states, interned, and its stimulus), so that
 * recording allocates nothing and writes only one young reference (the key) per transition —
 * what a garbage collector pays for on the hot path. Pure: the actor says when a stimulus
 * begins; no I/O, no timers.
 *
 * @module
 */
import type { StoryEvent } from "../comm/protocol.ts";
import type { TransitionRecorder, WorkerEventName } from "../core/transition_recorder.ts";

export { NO_RECORDING, type TransitionRecorder } from "../core/transition_recorder.ts";

/**
 * Entries a log keeps by default: Dask's `distributed.admin.low-level-log-length`. Entries
 * retain their keys, so a longer log makes every garbage collection of a busy scheduler slower.
 */
export const STIMULUS_LOG_LENGTH = 1000;

/** The ids of stimuli and a bounded log of what each one did. */
export class StimulusLog implements TransitionRecorder {
  /** How many entries it keeps. */
  readonly capacity: number;
  // the current stimulus: its kind, its number, its cause, its id once made, and its slot in
  // the stimuli ring once it recorded an entry (-1: none yet)
  #kind = "start";
  #seq = 0;
  #cause: string | undefined = undefined;
  #id: string | null = null;
  #stimulus = -1;
  // the stimuli ring: one slot per stimulus that recorded an entry; as many slots as entries,
  // so a stimulus's slot outlives every entry it recorded
  #nextStimulus = 0;
  readonly #stimulusKinds: string[];
  readonly #stimulusCauses: (string | undefined)[];
  readonly #stimulusSeqs: Float64Array;
  readonly #stimulusTimes: Float64Array;
  // the entries ring: entry n of the log is at (#head + n) % capacity
  #head = 0;
  #size = 0;
  /** A transition's task key (undefined for a worker event). */
  readonly #keys: (string | undefined)[];
  /** The worker a task went to, or the worker of an event. */
  readonly #workers: (string | undefined)[];
  /** start | finish << 8 | event << 16, each an interned name (0: none). */
  readonly #codes: Int32Array;
  /** The entry's slot in the stimuli ring. */
  readonly #stimuli: Int32Array;
  /** A worker event's name and reason, by entry slot (worker events are rare). */
  readonly #details = new Map<number, { name: string; reason?: string }>();
  /** State and event names, interned: the number of each, and the name of each number. */
  readonly #nameIds = new Map<string, number>();
  readonly #names: string[] = [""];

  constructor(capacity: number = STIMULUS_LOG_LENGTH) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`a stimulus log holds at least one entry, got ${capacity}`);
    }
    this.capacity = capacity;
    const column = () => new Array<undefined>(capacity).fill(undefined);
    this.#keys = column();
    this.#workers = column();
    this.#stimulusCauses = column();
    this.#stimulusKinds = new Array<string>(capacity).fill("");
    this.#stimulusSeqs = new Float64Array(capacity);
    this.#stimulusTimes = new Float64Array(capacity);
    this.#codes = new Int32Array(capacity);
    this.#stimuli = new Int32Array(capacity);
  }

  /**
   * A new stimulus of `kind` (a message's op, a timer's name...) begins: it gets the next id.
   * `cause`: the id of the stimulus of another actor that sent it, when the message says.
   */
  begin(kind: string, cause?: string): void {
    this.#kind = kind;
    this.#seq++;
    this.#cause = cause;
    this.#id = null;
    this.#stimulus = -1;
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
    this.#codes[i] = this.#nameId(start) | this.#nameId(finish) << 8;
  }

  workerEvent(address: string, name: string, event: WorkerEventName, reason?: string): void {
    const i = this.#slot();
    this.#keys[i] = undefined;
    this.#workers[i] = address;
    this.#codes[i] = this.#nameId(event) << 16;
    this.#details.set(i, reason === undefined ? { name } : { name, reason });
  }

  /** Claims the next entry slot (the oldest entry's, once full), stamped with the stimulus. */
  #slot(): number {
    const cap = this.capacity;
    let i: number;
    if (this.#size < cap) i = (this.#head + this.#size++) % cap;
    else {
      i = this.#head;
      this.#head = (this.#head + 1) % cap;
      if (this.#details.size) this.#details.delete(i);
    }
    if (this.#stimulus < 0) {
      const j = this.#stimulus = this.#nextStimulus;
      this.#nextStimulus = (j + 1) % cap;
      this.#stimulusKinds[j] = this.#kind;
      this.#stimulusCauses[j] = this.#cause;
      this.#stimulusSeqs[j] = this.#seq;
      this.#stimulusTimes[j] = Date.now();
    }
    this.#stimuli[i] = this.#stimulus;
    return i;
  }

  /** The number of a state or event name (names are few: the states of a task, events). */
  #nameId(name: string): number {
    let id = this.#nameIds.get(name);
    if (id === undefined) {
      id = this.#names.length;
      if (id > 255) throw new RangeError(`more than 255 state names in a stimulus log: ${name}`);
      this.#names.push(name);
      this.#nameIds.set(name, id);
    }
    return id;
  }

  /**
   * Oldest first, every entry about any of `subjects`: the transitions of a task key, the
   * events of a worker (by address or name), everything a stimulus (by id) did, or everything
   * another actor's stimulus (by id) caused here.
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
      const j = this.#stimuli[i];
      const key = this.#keys[i];
      const cause = this.#stimulusCauses[j];
      const match = key !== undefined
        ? wanted.has(key)
        : wanted.has(this.#workers[i]!) || wanted.has(this.#details.get(i)?.name!);
      if (
        match || (cause !== undefined && wanted.has(cause)) ||
        stimuli.size && stimuli.get(this.#stimulusSeqs[j])?.has(this.#stimulusKinds[j])
      ) {
        out.push(this.#entry(i));
      }
    }
    return out;
  }

  #entry(i: number): StoryEvent {
    const j = this.#stimuli[i];
    const e: StoryEvent = {
      time: this.#stimulusTimes[j],
      stimulusId: `${this.#stimulusKinds[j]}-${this.#stimulusSeqs[j]}`,
    };
    const cause = this.#stimulusCauses[j];
    if (cause !== undefined) e.cause = cause;
    const key = this.#keys[i];
    if (key !== undefined) e.key = key;
    const worker = this.#workers[i];
    if (worker !== undefined) e.worker = worker;
    const code = this.#codes[i];
    const event = code >>> 16;
    if (event === 0) {
      e.start = this.#names[code & 0xff];
      e.finish = this.#names[(code >>> 8) & 0xff];
      return e;
    }
    e.event = this.#names[event];
    const reason = this.#details.get(i)?.reason;
    if (reason !== undefined) e.reason = reason;
    return e;
  }
}
