/**
 * One thread of an executor's pool: its Web Worker, the tasks in flight on it (in the order it
 * got them, and how many of them it has begun), the tasks to post to it in the next message, and
 * the function sources it has been sent.
 *
 * @module
 */
import { Payload } from "../comm/serialize.ts";
import { DtaskError, toEnvelope } from "../core/errors.ts";
import type {
  FromThread,
  ToThread,
  WireOutcome,
  WireTask,
} from "../comm/protocol/worker_thread.ts";
import { type FunctionText, now, type TaskOutcome, type TaskRun } from "./task_run.ts";
import type { BufferPool } from "../comm/buffer_pool.ts";

/** A frame to post to a thread: shared as is, whole buffers cloned, views copied and moved. */
export function postable(f: Uint8Array, transfer: Transferable[]): Uint8Array {
  const buf = f.buffer;
  if (typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer) return f;
  if (f.byteOffset === 0 && f.byteLength === buf.byteLength) return f;
  // Posting a view clones its whole buffer (perhaps a large shared encode buffer): copy it.
  const copy = f.slice();
  transfer.push(copy.buffer);
  return copy;
}

/** What a slot's thread tells the executor. */
export interface SlotEvents {
  /** A message from the thread. */
  receive(msg: FromThread): void;
  /** The thread died (or cannot be read from), for `reason`. */
  crash(reason: string): void;
}

/** How a slot starts its thread. */
export interface SlotStart {
  /** The thread script. */
  url: string | URL;
  /** The thread's first message. */
  init: Extract<ToThread, { op: "init" }>;
  /** Modules the thread imports before it runs tasks. */
  preloads: string[];
  events: SlotEvents;
}

/** A task in flight on a thread: its run, and its place in the order the thread got them. */
interface InFlight {
  run: TaskRun;
  seq: number;
}

/** The tasks in flight on a thread that died: those it had begun, and those it never did. */
export interface CrashedTasks {
  begun: TaskRun[];
  unbegun: TaskRun[];
}

/** One thread of the pool. */
export class Slot {
  worker!: Worker;
  /** Function hashes this thread has been sent. */
  known = new Set<string>();
  /** Tasks in flight by key, in the order the thread got them (and begins them). */
  readonly tasks = new Map<string, InFlight>();
  pending: WireTask[] = [];
  transfer: Transferable[] = [];
  ready = false;
  earlyCrashes = 0;
  /** Seceded tasks still running there: they hold no room in its pipeline. */
  detached = new Set<string>();
  /** Pooled regions on the pending tasks' frames, each object once, with its pool id. */
  #pooled = new Map<SharedArrayBuffer, number>();
  /** Pooled regions posted to this thread and not released by it: how many objects of each. */
  readonly #held = new Map<number, number>();
  /** Tasks handed to this thread since it started: the next one's `seq`. */
  #sent = 0;
  /**
   * How many tasks the thread has begun, counted by the thread itself in shared memory: when it
   * dies, the tasks it never began are not to blame.
   */
  #begun = new Int32Array(new SharedArrayBuffer(4));

  /** `pool`: the buffer pool whose regions this thread is told to release, if any. */
  constructor(readonly index: number, readonly pool: BufferPool | null = null) {}

  /** Tasks in flight that hold room in its pipeline. */
  get inflight(): number {
    return this.tasks.size - this.detached.size;
  }

  /** Starts (or restarts) its Web Worker. */
  start(o: SlotStart): this {
    const w = new Worker(o.url, { type: "module", name: `dtask-thread-${this.index}` });
    this.worker = w;
    this.known.clear();
    this.ready = false;
    this.#sent = 0;
    this.#begun = new Int32Array(new SharedArrayBuffer(4));
    w.onmessage = (e: MessageEvent<FromThread>) => {
      if (this.worker === w) o.events.receive(e.data);
    };
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // or it would be rethrown in this thread
      if (this.worker === w) o.events.crash(e.message || "uncaught error");
    };
    w.onmessageerror = () => {
      if (this.worker === w) o.events.crash("a message from it could not be read");
    };
    w.postMessage({ ...o.init, begun: this.#begun });
    this.detached.clear();
    if (o.preloads.length) {
      w.postMessage({ op: "preload", urls: o.preloads } satisfies ToThread);
    }
    return this;
  }

  /** Terminates its Web Worker (no more events from it); the regions it held go back. */
  stop(): void {
    const w = this.worker;
    w.onmessage = null;
    w.onerror = null;
    w.onmessageerror = null;
    w.terminate();
    for (const [id, n] of this.#held) this.pool?.threadReleased(new Array(n).fill(id));
    this.#held.clear();
  }

  /** The thread collected the pooled regions `ids` (one per object it received). */
  released(ids: number[]): void {
    for (const id of ids) {
      const n = this.#held.get(id);
      if (n === undefined) continue; // not posted to this thread (since it restarted)
      if (n > 1) this.#held.set(id, n - 1);
      else this.#held.delete(id);
      this.pool?.threadReleased([id]);
    }
  }

  /** Adds `task` to the next message (with its function's source the first time). */
  assign(task: TaskRun, source: FunctionText): void {
    const transfer = this.transfer;
    const frame = (f: Uint8Array): Uint8Array => {
      const out = postable(f, transfer);
      const id = this.pool?.idOf(out.buffer);
      if (id !== undefined) this.#pooled.set(out.buffer as SharedArrayBuffer, id);
      return out;
    };
    const wire: WireTask = {
      k: task.key,
      h: task.fnHash,
      a: [frame(task.args.header), task.args.frames.map(frame)],
    };
    if (task.actor) wire.ac = true;
    if (!this.known.has(task.fnHash)) {
      wire.n = source.name;
      wire.s = source.source;
      if (source.site !== undefined) wire.u = source.site;
      this.known.add(task.fnHash);
    }
    if (task.deps !== undefined && task.deps.size > 0) {
      const d: [string, Uint8Array, Uint8Array[]][] = [];
      for (const [k, p] of task.deps) {
        d.push([k, frame(p.header), p.frames.map(frame)]);
      }
      wire.d = d;
    }
    this.pending.push(wire);
    this.tasks.set(task.key, { run: task, seq: this.#sent++ });
  }

  /** Posts the pending tasks in one message. */
  post(): void {
    if (this.pending.length === 0) return;
    const msg: Extract<ToThread, { op: "run" }> = { op: "run", tasks: this.pending };
    const transfer = this.transfer;
    this.pending = [];
    this.transfer = [];
    if (this.#pooled.size > 0) {
      // the thread gets one new object per region in this message, and releases each
      msg.pool = [...this.#pooled];
      this.#pooled.clear();
      const ids = msg.pool.map(([, id]) => id);
      this.pool!.threadHeld(ids);
      for (const id of ids) this.#held.set(id, (this.#held.get(id) ?? 0) + 1);
    }
    this.worker.postMessage(msg, transfer);
  }

  /** The outcomes the thread posted, in the order its keys went out. */
  outcomes(wire: WireOutcome[]): TaskOutcome[] {
    const batch: TaskOutcome[] = new Array(wire.length);
    for (let i = 0; i < wire.length; i++) {
      const o = wire[i];
      this.tasks.delete(o.k);
      this.detached.delete(o.k);
      if (o.p !== undefined && o.v !== undefined) this.#adopt(o.v[1], o.p);
      batch[i] = o.v !== undefined
        ? {
          key: o.k,
          ok: true,
          value: new Payload(o.v[0], o.v[1]),
          start: o.s,
          stop: o.t,
          thread: this.index,
        }
        : { key: o.k, ok: false, error: o.e!, start: o.s, stop: o.t, thread: this.index };
    }
    return batch;
  }

  /**
   * Result frames on pooled regions the thread got (results aliasing inputs): the pool tracks
   * the objects they arrived as, so the regions are not reused while the results live.
   */
  #adopt(frames: Uint8Array[], ids: number[]): void {
    frames.forEach((f, i) => {
      if (ids[i] > 0 && f.buffer instanceof SharedArrayBuffer) this.pool?.adopt(f.buffer, ids[i]);
    });
  }

  /** Takes its tasks in flight off it, as error outcomes saying `why`. */
  drain(why: string): TaskOutcome[] {
    const t = now();
    const lost: TaskOutcome[] = [];
    for (const k of this.tasks.keys()) {
      const error = toEnvelope(new DtaskError(`${why}; task ${k} was running or queued on it`));
      lost.push({ key: k, ok: false, error, start: t, stop: t, thread: this.index });
    }
    this.#clear();
    return lost;
  }

  /**
   * Its thread died: takes its tasks in flight off it, split into those the thread had begun
   * (one of them killed it) and those it never began. When a thread that was ready began none
   * of them, the oldest is counted as begun, so a thread that keeps dying blames someone.
   */
  takeCrashed(): CrashedTasks {
    const n = Atomics.load(this.#begun, 0);
    const out: CrashedTasks = { begun: [], unbegun: [] };
    for (const { run, seq } of this.tasks.values()) (seq < n ? out.begun : out.unbegun).push(run);
    if (out.begun.length === 0 && out.unbegun.length > 0 && this.ready) {
      out.begun.push(out.unbegun.shift()!);
    }
    this.#clear();
    return out;
  }

  #clear(): void {
    this.tasks.clear();
    this.detached.clear();
    this.pending = [];
    this.transfer = [];
    this.#pooled.clear();
  }
}
