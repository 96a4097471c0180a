/**
 * The task executor of a worker process: a pool of Web Worker threads (worker/thread.ts).
 *
 * Tasks queue here and go to the thread with the fewest in flight while it has fewer than
 * `pipelineDepth`, so a thread never waits a round trip for its next task. All tasks handed to
 * a thread within one tick travel in one postMessage; its outcomes come back in batches. A
 * thread that dies is replaced: the tasks it had begun are reported `crashed` (the scheduler
 * counts that as a worker death, not as the task's error), those it never began run again. Each
 * thread's Web Worker and its tasks in flight are a Slot (thread_slot.ts).
 */
import { DtaskError, toEnvelope } from "../core/errors.ts";
import type { FromThread, ToThread, WireOutcome } from "../comm/protocol/worker_thread.ts";
import {
  type FunctionText,
  now,
  type TaskOutcome,
  type TaskRun,
  type ThreadErrorInfo,
} from "./task_run.ts";
import { Slot } from "./thread_slot.ts";
import { Payload } from "../comm/serialize.ts";
import { installedBufferPool } from "../comm/buffer_pool.ts";
import type { RelayedActorCall } from "../comm/protocol.ts";
import type { ExecutorOptions } from "./executor_options.ts";
import { ExecutorActors } from "./executor_actors.ts";

export type { TaskOutcome, TaskRun, ThreadErrorInfo } from "./task_run.ts";
export type { ExecutorOptions } from "./executor_options.ts";

const THREAD_URL = new URL("./thread.ts", import.meta.url);

/** A thread that dies this many times in a row before it is ready breaks the executor. */
const MAX_EARLY_CRASHES = 3;

/** Runs tasks on a pool of Web Worker threads and reports their outcomes in batches. */
export class Executor {
  #slots: Slot[];
  #depth: number;
  #silence: boolean;
  #onOutcomes: (batch: TaskOutcome[]) => void;
  #onThreadError: (info: ThreadErrorInfo) => void;
  #sources = new Map<string, FunctionText>();
  #queue: (TaskRun | undefined)[] = [];
  #qhead = 0;
  #inflight = 0;
  #local: TaskOutcome[] = [];
  #flushScheduled = false;
  #closed: Promise<void> | null = null;
  #broken: string | null = null;
  #threadUrl: string | URL;
  #opts: ExecutorOptions;
  #preloads: string[];
  /** Which thread holds each actor, and the calls on them. */
  readonly #actors: ExecutorActors<Slot>;

  constructor(opts: ExecutorOptions) {
    if (!Number.isInteger(opts.nthreads) || opts.nthreads < 1) {
      throw new RangeError(`nthreads must be a positive integer, got ${opts.nthreads}`);
    }
    const depth = opts.pipelineDepth ?? 2;
    if (!Number.isInteger(depth) || depth < 1) {
      throw new RangeError(`pipelineDepth must be a positive integer, got ${depth}`);
    }
    this.#depth = depth;
    this.#silence = opts.silenceLogs ?? false;
    this.#onOutcomes = opts.onOutcomes;
    this.#threadUrl = opts.threadUrl ?? THREAD_URL;
    this.#opts = opts;
    this.#preloads = [...(opts.preload ?? [])];
    this.#actors = new ExecutorActors((r) => opts.onActorResults?.(r));
    this.#onThreadError = opts.onThreadError ?? ((i) => {
      if (this.#silence) return;
      const where = i.key === undefined ? "" : ` while task ${i.key} ran`;
      console.error(`[thread ${i.thread}] unhandled ${i.error.name}${where}:`, i.error.stack);
    });
    this.#slots = [];
    const pool = opts.pool === undefined ? installedBufferPool() : opts.pool;
    try {
      for (let i = 0; i < opts.nthreads; i++) this.#slots.push(this.#start(new Slot(i, pool)));
    } catch (e) {
      for (const s of this.#slots) s.stop();
      throw e;
    }
  }

  /** Tasks handed to threads and not settled yet. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Tasks queued here, not yet handed to a thread. */
  get queued(): number {
    return this.#queue.length - this.#qhead;
  }

  /** How many tasks the threads take at once: nthreads * pipelineDepth. */
  get capacity(): number {
    return this.#slots.length * this.#depth;
  }

  /** Tasks queued per thread to hide the round trip to it. */
  get pipelineDepth(): number {
    return this.#depth;
  }

  /** Changes how many tasks each thread may hold (deeper for tiny tasks). */
  set pipelineDepth(depth: number) {
    if (!Number.isInteger(depth) || depth < 1) {
      throw new RangeError(`pipelineDepth must be a positive integer, got ${depth}`);
    }
    this.#depth = depth;
    this.#dispatch();
  }

  /** Queues a task; it goes to a thread as soon as one has room. */
  run(task: TaskRun): void {
    if (this.#closed) throw new Error(`executor is closed; cannot run task ${task.key}`);
    if (task.fnSource !== undefined && !this.#sources.has(task.fnHash)) {
      this.#sources.set(task.fnHash, {
        name: task.fnName,
        source: task.fnSource,
        site: task.fnSite,
      });
    }
    if (this.#broken !== null || !this.#sources.has(task.fnHash)) {
      const msg = this.#broken ??
        `task ${task.key}: the source of function ${task.fnName || "(anonymous)"} ` +
          `(${task.fnHash}) was never sent to this worker`;
      const t = now();
      this.#local.push({
        key: task.key,
        ok: false,
        error: toEnvelope(new DtaskError(msg)),
        start: t,
        stop: t,
        thread: -1,
      });
      this.#scheduleFlush();
      return;
    }
    if (task.actor) this.#actors.creating(task.key);
    this.#queue.push(task);
    this.#dispatch();
  }

  /** Actor method calls: each goes to the thread holding its actor. */
  callActors(calls: RelayedActorCall[]): void {
    if (!this.#closed) this.#actors.call(calls);
  }

  /** The keys of these actors were released: their threads drop them. */
  dropActors(keys: string[]): void {
    if (!this.#closed) this.#actors.drop(keys);
  }

  // in-task

  /** A seceded task may go on holding a slot (answers onRejoin). */
  rejoined(key: string): void {
    if (this.#closed) return;
    for (const s of this.#slots) {
      if (s.detached.has(key)) s.worker.postMessage({ op: "rejoined", key } satisfies ToThread);
    }
  }

  /** Every thread collects its garbage (a large value it may reference was dropped). */
  collect(): void {
    if (this.#closed) return;
    for (const s of this.#slots) s.worker.postMessage({ op: "collect" } satisfies ToThread);
  }

  /** Every thread imports these modules (before its next task), and restarted threads too. */
  preload(urls: string[]): void {
    const fresh = urls.filter((u) => !this.#preloads.includes(u));
    if (fresh.length === 0 || this.#closed) return;
    this.#preloads.push(...fresh);
    for (const s of this.#slots) {
      s.worker.postMessage({ op: "preload", urls: fresh } satisfies ToThread);
    }
  }

  /** Terminates every thread; idempotent. Tasks in flight get no outcome. */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    for (const s of this.#slots) s.stop();
    this.#queue = [];
    this.#qhead = 0;
    this.#local = [];
    this.#inflight = 0;
    this.#closed = Promise.resolve();
    return this.#closed;
  }

  /** Starts (or restarts) the Web Worker of a slot. */
  #start(slot: Slot): Slot {
    const o = this.#opts;
    return slot.start({
      url: this.#threadUrl,
      init: {
        op: "init",
        thread: slot.index,
        silenceLogs: this.#silence,
        worker: o.worker && { ...o.worker, thread: slot.index },
        authToken: o.authToken,
        tlsCaCerts: o.tlsCaCerts,
      },
      preloads: this.#preloads,
      events: {
        receive: (msg) => this.#receive(slot, msg),
        crash: (reason) => this.#crash(slot, reason),
      },
    });
  }

  #receive(slot: Slot, msg: FromThread): void {
    switch (msg.op) {
      case "ready":
        slot.ready = true;
        slot.earlyCrashes = 0;
        return;
      case "done":
        return this.#done(slot, msg.outcomes);
      case "released":
        return slot.released(msg.ids);
      case "stray":
        return this.#onThreadError({ thread: slot.index, key: msg.key, error: msg.error });
      case "closing":
        return this.#crash(slot, msg.reason);
      // in-task
      case "secede":
        slot.detached.add(msg.key);
        this.#opts.onSecede?.(msg.key);
        return this.#dispatch();
      case "rejoin":
        if (this.#opts.onRejoin) this.#opts.onRejoin(msg.key);
        else this.rejoined(msg.key);
        return;
      case "log-event":
        this.#opts.onLogEvent?.(msg.topics, new Payload(msg.msg[0], msg.msg[1]));
        return;
      case "actor-results":
        return this.#actors.results(slot, msg.results);
    }
  }

  #done(slot: Slot, wire: WireOutcome[]): void {
    this.#actors.settled(slot, wire);
    const batch = slot.outcomes(wire);
    this.#inflight -= wire.length;
    this.#deliver(batch);
    this.#dispatch();
  }

  /**
   * Replaces a dead thread. The tasks it had begun come back `crashed` (one of them killed it);
   * those it never began go back to the head of the queue.
   */
  #crash(slot: Slot, reason: string): void {
    if (this.#closed) return;
    slot.stop();
    this.#actors.died(slot, reason);
    const { begun, unbegun } = slot.takeCrashed();
    this.#actors.lost(begun.map((run) => run.key));
    this.#inflight -= begun.length + unbegun.length;
    if (unbegun.length) this.#queue.splice(this.#qhead, 0, ...unbegun);
    const died = `thread ${slot.index} died: ${reason}`;
    const t = now();
    const lost: TaskOutcome[] = begun.map((run) => ({
      key: run.key,
      ok: false,
      error: toEnvelope(
        new DtaskError(`${died}; it was restarted, and task ${run.key} was running on it`),
      ),
      crashed: died,
      start: t,
      stop: t,
      thread: slot.index,
    }));
    if (!slot.ready && ++slot.earlyCrashes >= MAX_EARLY_CRASHES) {
      const why = `thread ${slot.index} failed to start ${slot.earlyCrashes} times: ${reason}`;
      lost.push(...this.#break(why));
    } else {
      const early = slot.earlyCrashes;
      this.#start(slot);
      slot.earlyCrashes = early;
    }
    this.#deliver(lost);
    this.#dispatch();
  }

  /** Takes a slot's tasks in flight off it, as error outcomes saying `why`. */
  #drain(slot: Slot, why: string): TaskOutcome[] {
    const lost = slot.drain(why);
    this.#inflight -= lost.length;
    return lost;
  }

  /** Gives up: threads cannot start. Tasks in flight fail (returned); queued and future ones too. */
  #break(reason: string): TaskOutcome[] {
    this.#broken = `executor is broken: ${reason}`;
    const lost: TaskOutcome[] = [];
    for (const s of this.#slots) {
      s.stop();
      this.#actors.died(s, this.#broken);
      lost.push(...this.#drain(s, `${this.#broken} (thread ${s.index})`));
    }
    const queued = this.#queue.slice(this.#qhead) as TaskRun[];
    this.#queue = [];
    this.#qhead = 0;
    for (const task of queued) this.run(task);
    return lost;
  }

  #deliver(batch: TaskOutcome[]): void {
    if (batch.length === 0 || this.#closed) return;
    try {
      this.#onOutcomes(batch);
    } catch (e) {
      console.error("executor: onOutcomes threw:", e);
    }
  }

  /** Hands queued tasks to the least busy threads with room. */
  #dispatch(): void {
    if (this.#broken !== null || this.#closed) return;
    const slots = this.#slots;
    while (this.#qhead < this.#queue.length) {
      let best: Slot | undefined;
      for (const s of slots) {
        if (s.inflight < this.#depth && (best === undefined || s.inflight < best.inflight)) {
          best = s;
        }
      }
      if (best === undefined) return;
      const task = this.#queue[this.#qhead]!;
      this.#queue[this.#qhead++] = undefined;
      if (this.#qhead === this.#queue.length) {
        this.#queue = [];
        this.#qhead = 0;
      } else if (this.#qhead > 4096 && this.#qhead * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#qhead);
        this.#qhead = 0;
      }
      this.#assign(best, task);
    }
  }

  #assign(slot: Slot, task: TaskRun): void {
    slot.assign(task, this.#sources.get(task.fnHash)!);
    this.#inflight++;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => this.#flush());
  }

  /** Posts each thread's pending tasks in one message, and delivers local outcomes. */
  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    for (const s of this.#slots) s.post();
    if (this.#local.length > 0) {
      const local = this.#local;
      this.#local = [];
      this.#deliver(local);
    }
  }
}
