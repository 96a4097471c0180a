/**
 * A worker thread's outcomes on their way back to the executor: each task's result encoded (or
 * its error described), collected, and posted in batches — every outcome finished within one
 * macrotask goes in one postMessage, with its buffers moved rather than copied where that is
 * safe. A value holding an Arrow Table met before apache-arrow is loaded in this thread waits
 * for its import (the one time it is needed) and goes in a later batch.
 *
 * @module
 */
import { arrowMissed, encodeValue, loadArrow } from "../comm/serialize.ts";
import { type ErrorEnvelope, toEnvelope } from "../core/errors.ts";
import type { FromThread, WireOutcome, WireTask } from "../comm/protocol/worker_thread.ts";
import { scopeErrorFrom } from "../core/compile.ts";
import { taskStack } from "../core/task_frames.ts";
import { now } from "./task_run.ts";
import type { TaskLabel } from "./thread_functions.ts";

/** Posts a message to the executor. */
export type PostToExecutor = (message: FromThread, transfer?: Transferable[]) => void;

/** The outcomes not yet posted, and the buffers they move. */
export class OutcomeBatch {
  #post: PostToExecutor;
  #poolId: (buf: ArrayBufferLike) => number | undefined;
  #outcomes: WireOutcome[] = [];
  #transfer: Transferable[] = [];
  #transferSet = new Set<ArrayBuffer>();
  /** Buffers that came from the executor: a result that reuses one is copied, not moved. */
  #received = new WeakSet<ArrayBufferLike>();
  /** Posting to itself is a macrotask hop: it flushes once this macrotask's microtasks ran. */
  #tick: MessageChannel;
  #tickPending = false;

  /** `poolId`: the pool id of a pooled region the thread received (comm/buffer_pool.ts). */
  constructor(post: PostToExecutor, poolId: (buf: ArrayBufferLike) => number | undefined) {
    this.#post = post;
    this.#poolId = poolId;
    this.#tick = new MessageChannel();
    this.#tick.port1.onmessage = () => {
      this.#tickPending = false;
      this.flush();
    };
  }

  /** Notes the buffers a task arrived with (a result reusing one is then copied). */
  remember(t: WireTask): void {
    this.#receive(t.a);
    if (t.d) { for (const d of t.d) this.#receive([d[1], d[2]]); }
  }

  /** Adds task `key`'s outcome: its value `v` (ok) or its error `v` (thrown by function `fn`). */
  add(key: string, fn: TaskLabel, start: number, ok: boolean, v: unknown): void {
    const stop = now();
    if (!ok) {
      this.#outcomes.push({ k: key, s: start, t: stop, e: taskEnvelope(v, key, fn) });
      return;
    }
    try {
      this.#outcomes.push(this.#encoded(key, start, stop, v));
    } catch (e) {
      if (!arrowMissed()) return void this.#outcomes.push(unsendable(key, fn, start, stop, e));
      // the value holds an Arrow Table: it goes once apache-arrow is imported
      loadArrow().then(() => this.#outcomes.push(this.#encoded(key, start, stop, v))).catch(
        (e2) => this.#outcomes.push(unsendable(key, fn, start, stop, e2)),
      ).finally(() => this.flushSoon());
    }
  }

  /** A finished task's outcome with its value encoded (throws when it cannot be). */
  #encoded(key: string, start: number, stop: number, v: unknown): WireOutcome {
    const p = encodeValue(v);
    const out: WireOutcome = {
      k: key,
      s: start,
      t: stop,
      v: [this.#outgoing(p.header), p.frames.map((f) => this.#outgoing(f))],
    };
    // A shared frame goes as it is: when it is on a pooled input region, the executor must
    // know, or the region could be reused under the stored result.
    let pooled: number[] | undefined;
    p.frames.forEach((f, i) => {
      const id = this.#poolId(f.buffer);
      if (id === undefined) return;
      pooled ??= new Array(p.frames.length).fill(0);
      pooled[i] = id;
    });
    if (pooled !== undefined) out.p = pooled;
    return out;
  }

  /** Posts the outcomes once this macrotask's microtasks ran (with any that finish in them). */
  flushSoon(): void {
    if (this.#outcomes.length > 0 && !this.#tickPending) {
      this.#tickPending = true;
      this.#tick.port2.postMessage(null);
    }
  }

  /** Posts the outcomes now, in one message. */
  flush(): void {
    if (this.#outcomes.length === 0) return;
    const outcomes = this.#outcomes;
    const transfer = this.#transfer;
    this.#outcomes = [];
    this.#transfer = [];
    this.#transferSet.clear();
    this.#post({ op: "done", outcomes }, transfer);
  }

  #receive(p: [Uint8Array, Uint8Array[]]): void {
    this.#received.add(p[0].buffer);
    for (const f of p[1]) this.#received.add(f.buffer);
  }

  /** A result buffer to post: shared ones as they are, whole ones moved, others copied. */
  #outgoing(f: Uint8Array): Uint8Array {
    const buf = f.buffer;
    if (typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer) return f;
    if (
      f.byteOffset !== 0 || f.byteLength !== buf.byteLength || this.#received.has(buf) ||
      this.#transferSet.has(buf as ArrayBuffer)
    ) {
      f = f.slice();
    }
    this.#transferSet.add(f.buffer as ArrayBuffer);
    this.#transfer.push(f.buffer as ArrayBuffer);
    return f;
  }
}

/** The outcome of a task whose value cannot be sent. */
function unsendable(
  key: string,
  fn: TaskLabel,
  start: number,
  stop: number,
  e: unknown,
): WireOutcome {
  const err = new TypeError(
    `the result of task ${key} cannot be sent: ${e instanceof Error ? e.message : e}`,
    { cause: e },
  );
  return { k: key, s: start, t: stop, e: envelope(err, fn) };
}

/** A task's error as an envelope (a ScopeError when it used its enclosing scope). */
function envelope(e: unknown, fn: TaskLabel): ErrorEnvelope {
  try {
    return toEnvelope(scopeErrorFrom(e, fn.name, fn.url));
  } catch (e2) {
    return toEnvelope(new Error(`task failed with an error that cannot be described: ${e2}`));
  }
}

/** The error task `key` threw, its stack as the user reads it (core/task_frames.ts). */
function taskEnvelope(e: unknown, key: string, fn: TaskLabel): ErrorEnvelope {
  const env = envelope(e, fn);
  if (typeof env.stack === "string") env.stack = taskStack(env.stack, key, fn.url);
  return env;
}
