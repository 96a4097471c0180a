/**
 * The task loop of an executor thread: it takes the executor's messages, runs one task at a
 * time in arrival order (an async task holds the thread until it settles, unless it secedes),
 * and hands each outcome to the batch that posts them. Tasks run in try/catch: nothing a task
 * does may stop the loop. A task whose arguments hold an Arrow Table waits at the head of the
 * queue while apache-arrow is imported, the first time one comes to the thread (and one whose
 * arguments hold a handle, a Lock or an actor, while the client modules are).
 *
 * @module
 */
import { toEnvelope } from "../core/errors.ts";
import type { ToThread, WireTask } from "../comm/protocol/worker_thread.ts";
import { collectGarbage } from "./collect_garbage.ts";
import { AsyncLocalStorage } from "node:async_hooks";
import { installThreadHooks, type InTaskContext, type TaskWorkerInfo } from "../core/in_task.ts";
import { OutcomeBatch, type PostToExecutor } from "./thread_outcomes.ts";
import { now } from "./task_run.ts";
import { arrowMissed, encodeValue, handleMissed, loadArrow } from "../comm/serialize.ts";
import { decodeArgs, isThenable, TaskFunctions, type TaskLabel } from "./thread_functions.ts";
import { ClientLoader, Secession } from "./thread_in_task.ts";
import { PoolHolds } from "./thread_pool_holds.ts";
import { ThreadActors } from "./thread_actors.ts";

/** Runs tasks and batches their outcomes; one per thread. */
export class ThreadRunner {
  #post: PostToExecutor;
  #thread = -1;
  #silence = false;
  #queue: (WireTask | undefined)[] = [];
  #head = 0;
  /** A task holds the thread (or the client module is loading for the next one). */
  #busy = false;
  /** The async task holding the thread (its next task waits for it), unless it seceded. */
  #busyKey: string | undefined;
  /** The task whose synchronous part runs now, or that holds the thread. */
  #current: string | undefined;
  #outcomes: OutcomeBatch;
  /** Pooled regions received: the executor hears when each is collected. */
  #holds: PoolHolds;
  #client = new ClientLoader();
  #fns: TaskFunctions;
  /** The context of each task's code, across its awaits. */
  #als = new AsyncLocalStorage<InTaskContext>();
  #secession: Secession;
  /** Why apache-arrow could not be imported in this thread, once that failed. */
  #arrowError: unknown;
  /** Tasks begun, shared with the executor (which reads it when this thread dies). */
  #begun: Int32Array | undefined;
  /** The actors this thread holds, and the calls on them. */
  #actors: ThreadActors;

  constructor(post: PostToExecutor) {
    this.#post = post;
    this.#holds = new PoolHolds(post);
    this.#outcomes = new OutcomeBatch(post, (buf) => this.#holds.idOf(buf));
    this.#secession = new Secession(post);
    this.#actors = new ThreadActors({
      post,
      run: (key, f) => this.#als.run({ key, thread: this.#thread }, f),
      clientLoaded: () => this.#client.loaded,
      loadClient: () => this.#client.load(),
    });
    this.#fns = new TaskFunctions((source) => this.#client.bindingsFor(source), {
      onPreloadError: (e) => this.stray(e),
      onPreloaded: () => {
        if (!this.#busy) this.#pump();
      },
    });
  }

  /** Whether console output is dropped. */
  get silenced(): boolean {
    return this.#silence;
  }

  /** The key of the task whose code runs now (follows its awaits). */
  get taskKey(): string | undefined {
    return this.#als.getStore()?.key ?? this.#current;
  }

  /** Handles one message from the executor. */
  receive(msg: ToThread): void {
    switch (msg.op) {
      case "init":
        this.#thread = msg.thread;
        this.#silence = msg.silenceLogs;
        this.#begun = msg.begun;
        if (msg.worker) this.#install(msg.worker, msg.authToken, msg.tlsCaCerts);
        return;
      case "rejoined":
        return this.#secession.rejoined(msg.key);
      case "preload":
        return this.#fns.preload(msg.urls);
      case "collect":
        return collectGarbage?.();
      case "actor-calls":
        return this.#actors.receive(msg.calls);
      case "actor-drop":
        return this.#actors.drop(msg.keys);
      case "run":
        if (msg.pool) this.#holds.hold(msg.pool);
        for (const t of msg.tasks) {
          this.#outcomes.remember(t);
          this.#queue.push(t);
        }
        if (!this.#busy) this.#pump();
    }
  }

  /** Reports a stray error or rejection (the caller has prevented its default). */
  stray(reason: unknown): void {
    let error;
    try {
      error = toEnvelope(reason);
    } catch {
      error = toEnvelope(new Error(`unhandled ${String(reason)}`));
    }
    this.#post({ op: "stray", key: this.#current, error });
  }

  #install(
    worker: TaskWorkerInfo,
    authToken: string | undefined,
    tlsCaCerts: string[] | undefined,
  ): void {
    installThreadHooks({
      worker: { ...worker, thread: this.#thread },
      authToken,
      tlsCaCerts,
      current: () => this.#als.getStore(),
      // an actor's methods hold no slot: they neither secede nor rejoin
      secede: (key) => this.#actors.has(key) || this.#secede(key),
      rejoin: (key) => this.#secession.rejoin(key),
      seceded: (key) => this.#secession.seceded.has(key) || this.#actors.has(key),
      logEvent: (topics, msg) => this.#logEvent(topics, msg),
    });
  }

  /** An event for the scheduler's log: encoded here, so a value that cannot travel throws. */
  #logEvent(topics: string[], msg: unknown): void {
    const p = encodeValue(msg, { path: "event message" });
    // copies: a view would post its whole buffer, and the caller keeps its own
    const header = p.header.slice(), frames = p.frames.map((f) => f.slice());
    this.#post({ op: "log-event", topics, msg: [header, frames] }, [
      header.buffer,
      ...frames.map((f) => f.buffer),
    ]);
  }

  /** Runs queued tasks in order until one holds the thread or none is left. */
  #pump(): void {
    if (this.#fns.preloading) return; // resumed once the modules are in
    while (this.#head < this.#queue.length) {
      if (this.#client.mustWait(this.#queue[this.#head]!)) return this.#waitForClient();
      if (this.#runNext()) return;
    }
    this.#outcomes.flush(); // idle: nothing else can finish before the next message arrives
  }

  /** The next task needs the client module: the queue resumes once it is in (or failed). */
  #waitForClient(): void {
    this.#busy = true;
    void this.#client.load().then(() => {
      this.#busy = false;
      this.#pump();
    });
  }

  #take(): WireTask {
    const t = this.#queue[this.#head]!;
    this.#queue[this.#head++] = undefined;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    }
    return t;
  }

  /** Runs the next task; true when it holds the thread (async, and it has not seceded). */
  #runNext(): boolean {
    const t = this.#take();
    if (this.#begun) Atomics.add(this.#begun, 0, 1);
    const start = now();
    let fn: TaskLabel = { name: t.n ?? "" };
    let result: unknown;
    this.#current = t.k;
    try {
      const entry = this.#fns.get(t);
      fn = entry;
      if ("error" in entry) throw entry.error;
      const args = this.#args(t);
      if (args === undefined) return true;
      result = t.ac
        ? this.#actors.create(t.k, entry.fn, args, entry)
        : this.#als.run({ key: t.k, thread: this.#thread }, entry.fn, ...args);
      // seceded before returning: it holds neither the thread nor a slot
      const detached = this.#secession.detached.has(t.k);
      if (detached || isThenable(result)) {
        Promise.resolve(result).then(
          (v) => this.#settled(t.k, fn, start, true, v),
          (e) => this.#settled(t.k, fn, start, false, e),
        );
        if (detached) {
          this.#current = undefined;
          return false;
        }
        this.#busy = true;
        this.#busyKey = t.k;
        // outcomes so far go when this macrotask ends, with any that settle in its microtasks
        this.#outcomes.flushSoon();
        return true;
      }
    } catch (e) {
      this.#finish(t.k, fn, start, false, e);
      return false;
    }
    this.#finish(t.k, fn, start, true, result);
    return false;
  }

  /**
   * Task `t`'s arguments; undefined when they hold an Arrow Table and apache-arrow is not
   * loaded in this thread yet: the task goes back to the head of the queue until it is.
   */
  #args(t: WireTask): unknown[] | undefined {
    let load: Promise<unknown>;
    try {
      return decodeArgs(t);
    } catch (e) {
      if (handleMissed() && !this.#client.loaded) {
        load = this.#client.load(); // a handle (Lock, actor...): its reviver is a client module
      } else {
        if (!arrowMissed()) throw e;
        if (this.#arrowError !== undefined) throw this.#arrowError;
        load = loadArrow().catch((e) => this.#arrowError = e);
      }
    }
    if (this.#begun) Atomics.sub(this.#begun, 0, 1); // it begins again once the module is in
    this.#queue.splice(this.#head, 0, t);
    this.#current = undefined;
    this.#busy = true;
    this.#outcomes.flush();
    void load.then(() => {
      this.#busy = false;
      this.#pump();
    });
    return undefined;
  }

  /** An async (or seceded) task settled. */
  #settled(key: string, fn: TaskLabel, start: number, ok: boolean, v: unknown): void {
    if (this.#secession.ended(key)) {
      // seceded while it ran: the thread went on without it
      this.#outcomes.add(key, fn, start, ok, v);
      this.#outcomes.flushSoon();
      return;
    }
    this.#busy = false;
    this.#busyKey = undefined;
    this.#finish(key, fn, start, ok, v);
    this.#pump();
  }

  /** The task holding the thread ended: its outcome joins the batch. */
  #finish(key: string, fn: TaskLabel, start: number, ok: boolean, v: unknown): void {
    this.#current = undefined;
    this.#outcomes.add(key, fn, start, ok, v);
  }

  #secede(key: string): void {
    if (!this.#secession.secede(key) || this.#busyKey !== key) return;
    // the thread is free for the next task while this one awaits
    this.#busyKey = undefined;
    this.#busy = false;
    this.#current = undefined;
    queueMicrotask(() => {
      if (!this.#busy) this.#pump();
    });
  }
}
