/**
 * One thread of an executor's pool: its Web Worker, the tasks in flight on it (in the order it
 * runs and reports them), the tasks to post to it in the next message, and the function
 * sources it has been sent.
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

/** A frame to post to a thread: shared as is, whole buffers cloned, views copied and moved. */
function postable(f: Uint8Array, transfer: Transferable[]): Uint8Array {
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

/** One thread of the pool. */
export class Slot {
  worker!: Worker;
  /** Function hashes this thread has been sent. */
  known = new Set<string>();
  /** Keys in flight, in the order the thread runs them (it reports in that order). */
  keys: string[] = [];
  head = 0;
  pending: WireTask[] = [];
  transfer: Transferable[] = [];
  ready = false;
  earlyCrashes = 0;
  /** Seceded tasks still running there: they hold no room in its pipeline. */
  detached = new Set<string>();

  constructor(readonly index: number) {}

  /** Tasks in flight that hold room in its pipeline. */
  get inflight(): number {
    return this.keys.length - this.head - this.detached.size;
  }

  /** The oldest key in flight, taken off (its outcome came, or it is lost). */
  shiftKey(): string | undefined {
    if (this.head >= this.keys.length) return undefined;
    const k = this.keys[this.head++];
    if (this.head === this.keys.length) {
      this.keys.length = 0;
      this.head = 0;
    }
    return k;
  }

  /** Starts (or restarts) its Web Worker. */
  start(o: SlotStart): this {
    const w = new Worker(o.url, { type: "module", name: `dtask-thread-${this.index}` });
    this.worker = w;
    this.known.clear();
    this.ready = false;
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
    w.postMessage(o.init);
    this.detached.clear();
    if (o.preloads.length) {
      w.postMessage({ op: "preload", urls: o.preloads } satisfies ToThread);
    }
    return this;
  }

  /** Terminates its Web Worker (no more events from it). */
  stop(): void {
    const w = this.worker;
    w.onmessage = null;
    w.onerror = null;
    w.onmessageerror = null;
    w.terminate();
  }

  /** Adds `task` to the next message (with its function's source the first time). */
  assign(task: TaskRun, source: FunctionText): void {
    const transfer = this.transfer;
    const wire: WireTask = {
      k: task.key,
      h: task.fnHash,
      a: [postable(task.args.header, transfer), task.args.frames.map((f) => postable(f, transfer))],
    };
    if (!this.known.has(task.fnHash)) {
      wire.n = source.name;
      wire.s = source.source;
      if (source.site !== undefined) wire.u = source.site;
      this.known.add(task.fnHash);
    }
    if (task.deps !== undefined && task.deps.size > 0) {
      const d: [string, Uint8Array, Uint8Array[]][] = [];
      for (const [k, p] of task.deps) {
        d.push([k, postable(p.header, transfer), p.frames.map((f) => postable(f, transfer))]);
      }
      wire.d = d;
    }
    this.pending.push(wire);
    this.keys.push(task.key);
  }

  /** Posts the pending tasks in one message. */
  post(): void {
    if (this.pending.length === 0) return;
    const msg: ToThread = { op: "run", tasks: this.pending };
    const transfer = this.transfer;
    this.pending = [];
    this.transfer = [];
    this.worker.postMessage(msg, transfer);
  }

  /** The outcomes the thread posted, in the order its keys went out. */
  outcomes(wire: WireOutcome[]): TaskOutcome[] {
    const batch: TaskOutcome[] = new Array(wire.length);
    for (let i = 0; i < wire.length; i++) {
      const o = wire[i];
      this.shiftKey();
      this.detached.delete(o.k);
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

  /** Takes its tasks in flight off it, as error outcomes saying `why`. */
  drain(why: string): TaskOutcome[] {
    const t = now();
    const lost: TaskOutcome[] = [];
    for (let k = this.shiftKey(); k !== undefined; k = this.shiftKey()) {
      const error = toEnvelope(new DtaskError(`${why}; task ${k} was running or queued on it`));
      lost.push({ key: k, ok: false, error, start: t, stop: t, thread: this.index });
    }
    this.detached.clear();
    this.pending = [];
    this.transfer = [];
    return lost;
  }
}
