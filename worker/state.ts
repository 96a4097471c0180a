/**
 * The worker's decisions as a pure state machine: tasks from the scheduler wait for their
 * dependencies (fetched from peers), queue by priority, run on the executor's thread slots,
 * and settle in memory or error. No I/O, no timers: effects go through the outbox.
 */
import { NO_RECORDING, type TransitionRecorder } from "../core/transition_recorder.ts";
import type {
  ComputeTask,
  FunctionDef,
  TaskCrashed,
  TaskErred,
  TaskFinished,
} from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import type { ErrorEnvelope } from "../core/errors.ts";
import { IndexedHeap, priorityLess } from "../core/heap.ts";
import {
  INLINE_RESULT_MAX,
  LARGE_VALUE,
  type WorkerOutbox,
  type WorkerTask,
} from "./worker_task.ts";

export * from "./worker_task.ts";

/** A dependency of local tasks: being fetched, fetched, or computed here. */
interface Dep {
  /** Holders not tried yet. */
  holders: string[];
  /** The peer asked now, or null when not in flight. */
  asking: string | null;
  /** The last peer asked. */
  last: string;
  /** Local tasks waiting for it or running with it. */
  users: Set<WorkerTask>;
}

/** The worker's state and transitions. */
export class WorkerStateMachine {
  /** Tasks by key (not yet forgotten). */
  readonly tasks = new Map<string, WorkerTask>();
  /** Values held: results of tasks run here, and fetched dependencies. */
  readonly data = new Map<string, Payload>();
  /** Bytes held in `data`. */
  managedBytes = 0;
  /** Tasks handed to the executor and not settled. */
  executing = 0;
  readonly #ready = new IndexedHeap<WorkerTask>((a, b) => priorityLess(a.priority, b.priority));
  readonly #functions = new Map<string, FunctionDef>();
  /** Dependencies fetched for (or held for) local tasks and not computed here. */
  readonly #deps = new Map<string, Dep>();
  #paused = false;
  /** Keys kept as replicas for the scheduler (replicate / rebalance), not computed here. */
  readonly #held = new Set<string>();
  /** Seceded tasks waiting for a slot to rejoin, in order. */
  #rejoining: WorkerTask[] = [];

  /** `record`: where each task's transitions go, for the worker's story. */
  constructor(
    readonly out: WorkerOutbox,
    public slots: number,
    readonly record: TransitionRecorder = NO_RECORDING,
  ) {}

  /** Keys held as replicas for the scheduler (replicate / rebalance). */
  get heldReplicas(): ReadonlySet<string> {
    return this.#held;
  }

  /** Tasks ready to run and waiting for a slot. */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** The scheduler asks for a task. */
  computeTask(msg: ComputeTask): void {
    if (msg.fn) this.#functions.set(msg.fn.h, msg.fn);
    const old = this.tasks.get(msg.k);
    if (old) {
      if (old.state === "cancelled") { // resumed: its outcome counts again
        old.state = "executing";
        this.record.transition(old.key, "cancelled", "executing");
      }
      old.wantResult ||= msg.r === true;
      if (old.state === "memory") this.#finished(old, this.data.get(old.key)!, 0, 0);
      return;
    }
    const ts: WorkerTask = {
      key: msg.k,
      state: "waiting",
      fn: msg.f,
      args: msg.a,
      priority: msg.p,
      deps: Object.keys(msg.d),
      missing: 0,
      wantResult: msg.r === true,
      heapIndex: -1,
    };
    this.tasks.set(ts.key, ts);
    this.record.transition(ts.key, "released", "waiting");
    const asks = new Map<string, string[]>();
    for (const dk of ts.deps) {
      // tracked even when computed here, so that freeing it keeps it while ts needs it
      let dep = this.#deps.get(dk);
      if (!dep) {
        dep = { holders: [...msg.d[dk]], asking: null, last: "", users: new Set() };
        this.#deps.set(dk, dep);
      }
      dep.users.add(ts);
      if (this.data.has(dk)) continue;
      ts.missing++;
      if (dep.asking === null) this.#ask(dk, dep, asks);
      if (this.tasks.get(ts.key) !== ts) break; // nobody holds dk: ts was dropped
    }
    this.#sendAsks(asks);
    if (this.tasks.get(ts.key) === ts && ts.missing === 0) {
      this.#makeReady(ts);
      this.#dispatch();
    }
  }

  /** The scheduler says to forget keys (data or pending tasks). */
  freeKeys(keys: string[]): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (ts) {
        if (ts.state === "executing" || ts.state === "cancelled") {
          // the thread cannot be interrupted: its outcome is dropped
          if (ts.state === "executing") this.record.transition(k, "executing", "cancelled");
          ts.state = "cancelled";
          continue; // and it stays known until it settles, so it cannot start twice
        }
        this.#forget(ts);
      }
      this.#held.delete(k);
      if (!this.#deps.has(k)) this.#dropData(k);
    }
    this.#dispatch();
  }

  /**
   * Replicas fetched for the scheduler (replicate / rebalance): kept until `free-keys`.
   * Returns the keys now held here, which the scheduler adds to their holders.
   */
  holdReplicas(values: Record<string, Payload>): string[] {
    const held: string[] = [];
    for (const k in values) {
      const ts = this.tasks.get(k);
      if (ts && ts.state !== "memory") continue; // computing it here: its result will count
      if (!this.data.has(k)) this.#store(k, values[k]);
      if (!ts) this.#held.add(k);
      held.push(k);
    }
    return held;
  }

  /** A peer answered a fetch. Keys it lacked are retried elsewhere. */
  gotData(worker: string, asked: string[], values: Record<string, Payload>): void {
    const asks = new Map<string, string[]>();
    for (const k of asked) {
      const dep = this.#deps.get(k);
      if (!dep || dep.asking !== worker) continue;
      dep.asking = null;
      const v = values[k];
      if (v === undefined) {
        this.#ask(k, dep, asks);
        continue;
      }
      if (!this.data.has(k)) this.#store(k, v);
      for (const ts of dep.users) {
        if (ts.state === "waiting" && --ts.missing === 0) this.#makeReady(ts);
      }
    }
    this.#sendAsks(asks);
    this.#dispatch();
  }

  /** A fetch from `worker` failed outright (connection refused or lost). */
  fetchFailed(worker: string, asked: string[]): void {
    this.gotData(worker, asked, {});
  }

  /**
   * The executor settled a task. An outcome `crashed` (its thread died while it ran) goes to the
   * scheduler as `task-crashed`, which counts it as a worker death, not as the task's error.
   */
  taskDone(
    key: string,
    outcome: { ok: true; value: Payload } | { ok: false; error: ErrorEnvelope; crashed?: string },
    start: number,
    stop: number,
  ): void {
    const ts = this.tasks.get(key);
    if (!ts || (ts.state !== "executing" && ts.state !== "cancelled")) return; // not running
    if (ts.seceded) {
      ts.seceded = false;
      const i = this.#rejoining.indexOf(ts);
      if (i >= 0) this.#rejoining.splice(i, 1);
    } else this.executing--;
    if (ts.state === "cancelled") this.#forget(ts);
    else if (outcome.ok) {
      this.#store(key, outcome.value);
      ts.state = "memory";
      this.record.transition(key, "executing", "memory");
      this.#releaseDeps(ts);
      this.#finished(ts, outcome.value, start, stop);
    } else {
      ts.state = "error";
      this.record.transition(key, "executing", "error");
      this.#releaseDeps(ts);
      const msg: TaskErred | TaskCrashed = outcome.crashed === undefined
        ? { op: "task-erred", k: key, e: outcome.error, start, stop }
        : { op: "task-crashed", k: key, reason: outcome.crashed };
      this.out.scheduler(msg);
      this.tasks.delete(key);
    }
    this.#dispatch();
  }

  /**
   * The scheduler wants to move `key` to another worker (work stealing): a task that has not
   * started (waiting for its inputs, or ready) is dropped; one that runs or has run is kept.
   * Either way the answer names the state it was in.
   */
  stealRequest(key: string): void {
    const ts = this.tasks.get(key);
    const state = ts?.state ?? null;
    if (ts && (state === "waiting" || state === "ready")) this.#forget(ts);
    this.out.scheduler({ op: "steal-response", k: key, state });
  }

  /** Changes how many tasks may execute at once (the executor's capacity). */
  setSlots(slots: number): void {
    this.slots = slots;
    this.#dispatch();
  }

  /**
   * Stops (or resumes) starting tasks, e.g. under memory pressure; the scheduler hears of each
   * change at once (`worker-status`), so that it places nothing new here while paused.
   */
  setPaused(paused: boolean): void {
    if (this.#paused === paused) return;
    this.#paused = paused;
    this.out.scheduler({ op: "worker-status", status: paused ? "paused" : "running" });
    this.#dispatch();
  }

  // ---------------------------------------------------------------- in-task

  /** A running task gave its slot back: another may start; the scheduler no longer counts it. */
  secede(key: string): void {
    const ts = this.tasks.get(key);
    if (!ts || ts.seceded || (ts.state !== "executing" && ts.state !== "cancelled")) return;
    ts.seceded = true;
    this.executing--;
    this.out.scheduler({ op: "long-running", k: key });
    this.#dispatch();
  }

  /** A seceded task wants a slot again: granted (out.rejoined) once one is free. */
  rejoin(key: string): void {
    const ts = this.tasks.get(key);
    if (!ts || !ts.seceded) return this.out.rejoined?.(key);
    if (!this.#rejoining.includes(ts)) this.#rejoining.push(ts);
    this.#dispatch();
  }

  #finished(ts: WorkerTask, value: Payload, start: number, stop: number): void {
    const msg: TaskFinished = { op: "task-finished", k: ts.key, nbytes: value.nbytes, start, stop };
    if (ts.wantResult && value.nbytes <= INLINE_RESULT_MAX) msg.v = value;
    this.out.scheduler(msg);
  }

  /** Picks the next holder of `k` to ask, or reports the key missing for its users. */
  #ask(k: string, dep: Dep, asks: Map<string, string[]>): void {
    const w = dep.holders.shift();
    if (w === undefined) {
      for (const ts of dep.users) {
        this.out.scheduler({ op: "missing-data", k: ts.key, key: k, worker: dep.last });
        this.#forget(ts);
      }
      this.#deps.delete(k);
      return;
    }
    dep.asking = dep.last = w;
    let keys = asks.get(w);
    if (!keys) asks.set(w, keys = []);
    keys.push(k);
  }

  /** Sends the fetches collected in `asks`, minus keys no local task needs any more. */
  #sendAsks(asks: Map<string, string[]>): void {
    for (const [w, keys] of asks) {
      const live = keys.filter((k) => this.#deps.get(k)?.asking === w);
      if (live.length) this.out.fetch(w, live);
    }
  }

  #store(k: string, v: Payload): void {
    const old = this.data.get(k);
    if (old !== undefined) this.managedBytes -= old.nbytes;
    this.data.set(k, v);
    this.managedBytes += v.nbytes;
  }

  #makeReady(ts: WorkerTask): void {
    ts.state = "ready";
    this.record.transition(ts.key, "waiting", "ready");
    this.#ready.push(ts);
  }

  /** Starts ready tasks while thread slots are free. */
  #dispatch(): void {
    if (this.#paused) return;
    while (this.#rejoining.length && this.executing < this.slots) {
      const ts = this.#rejoining.shift()!;
      ts.seceded = false;
      this.executing++;
      this.out.rejoined?.(ts.key);
    }
    while (this.executing < this.slots && this.#ready.size) {
      const ts = this.#ready.pop()!;
      const fn = this.#functions.get(ts.fn);
      ts.state = "executing";
      this.record.transition(ts.key, "ready", "executing");
      this.executing++;
      const deps = new Map<string, Payload>();
      for (const dk of ts.deps) deps.set(dk, this.data.get(dk)!);
      this.out.execute({
        key: ts.key,
        fnHash: ts.fn,
        fnName: fn?.n ?? "",
        fnSource: fn?.s ?? "",
        fnSite: fn?.u,
        args: ts.args,
        deps,
      });
    }
  }

  /** Drops a task that has not produced a value; its fetched dependencies may go too. */
  #forget(ts: WorkerTask): void {
    if (ts.state === "ready") this.#ready.remove(ts);
    this.record.transition(ts.key, ts.state, "released");
    this.tasks.delete(ts.key);
    this.#releaseDeps(ts);
  }

  /** `ts` no longer needs its dependencies: drop fetched copies nobody else here uses (and
   * values computed here whose task was freed meanwhile). */
  #releaseDeps(ts: WorkerTask): void {
    for (const dk of ts.deps) {
      const dep = this.#deps.get(dk);
      if (!dep || !dep.users.delete(ts) || dep.users.size) continue;
      this.#deps.delete(dk);
      if (!this.tasks.has(dk) && !this.#held.has(dk)) this.#dropData(dk);
    }
  }

  #dropData(k: string): void {
    const v = this.data.get(k);
    if (v === undefined) return;
    this.data.delete(k);
    this.managedBytes -= v.nbytes;
    if (v.nbytes >= LARGE_VALUE) this.out.dropped?.(v.nbytes);
  }
}
