/**
 * The worker's decisions as a pure state machine: tasks from the scheduler wait for their
 * dependencies (fetched from peers), queue by priority, run on the executor's thread slots,
 * and settle in memory or error. The values it holds live in a MemoryBook, which spills them
 * to disk and pauses the worker by its memory thresholds. No I/O, no timers: effects go
 * through the outbox.
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
import type { MemoryConfig } from "../core/memory_config.ts";
import { IndexedHeap, priorityLess } from "../core/heap.ts";
import { MemoryBook } from "./memory_state.ts";
import { pauseMessage } from "./memory_pause.ts";
import { formatBytes } from "./memory_warnings.ts";
import { DataServer } from "./data_server.ts";
import { TaskInputs } from "./task_inputs.ts";
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

/** No memory limit: values are only stored, never spilled, and the worker never pauses. */
export const NO_MEMORY_LIMIT: MemoryConfig = {
  limit: 0,
  target: null,
  spill: null,
  pause: null,
  terminate: null,
  maxSpill: null,
};

/** The worker's state and transitions. */
export class WorkerStateMachine {
  /** Tasks by key (not yet forgotten). */
  readonly tasks = new Map<string, WorkerTask>();
  /** Values held, in memory or on disk: results of tasks run here, and fetched dependencies. */
  readonly data: MemoryBook;
  /** Tasks handed to the executor (or reading their inputs back first) and not settled. */
  executing = 0;
  readonly #inputs: TaskInputs;
  readonly #server: DataServer;
  readonly #ready = new IndexedHeap<WorkerTask>((a, b) => priorityLess(a.priority, b.priority));
  readonly #functions = new Map<string, FunctionDef>();
  /** Dependencies fetched for (or held for) local tasks and not computed here. */
  readonly #deps = new Map<string, Dep>();
  /** Paused by hand (`setPaused`); the MemoryBook pauses it for memory. */
  #pausedByHand = false;
  /** Whether the scheduler was last told it is paused. */
  #paused = false;
  /** Fetches held back while paused (Dask stops fetching dependencies then). */
  #parked = new Map<string, string[]>();
  /** Keys kept as replicas for the scheduler (replicate / rebalance), not computed here. */
  readonly #held = new Set<string>();
  /** Seceded tasks waiting for a slot to rejoin, in order. */
  #rejoining: WorkerTask[] = [];

  /**
   * `record`: where each task's transitions go, for the worker's story; `memory`: its memory
   * thresholds; `self`: its address, which it names when a value it held is lost.
   */
  constructor(
    readonly out: WorkerOutbox,
    public slots: number,
    readonly record: TransitionRecorder = NO_RECORDING,
    memory: MemoryConfig = NO_MEMORY_LIMIT,
    readonly self: string = "",
  ) {
    this.data = new MemoryBook(memory, {
      spill: (id, p) => out.spill(id, p),
      unspill: (id) => out.unspill(id),
      discard: (id) => out.discard(id),
      status: (status, rss) => this.#memoryStatus(status === "paused", rss),
      collect: () => out.collect(),
      warn: (_, line) => out.log(`[worker] ${line}`),
    });
    this.#inputs = new TaskInputs(this.data);
    this.#server = new DataServer(this.data, memory.limit, (req, a) => out.served(req, a));
  }

  /** Bytes of the values held in memory (managed memory). */
  get managedBytes(): number {
    return this.data.managed;
  }

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
      if (old.state === "memory" && !old.ran) this.#finished(old, 0, 0);
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
        if (ts.state === "executing" && ts.loading) { // not started: reading its inputs back
          this.executing--;
          this.#forget(ts);
        } else if (ts.state === "executing" || ts.state === "cancelled") {
          // the thread cannot be interrupted: its outcome is dropped
          if (ts.state === "executing") this.record.transition(k, "executing", "cancelled");
          ts.state = "cancelled";
          continue; // and it stays known until it settles, so it cannot start twice
        } else this.#forget(ts);
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
      if (!this.data.has(k)) this.data.put(k, values[k]);
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
      if (!this.data.has(k)) this.data.put(k, v);
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
      ts.state = "memory";
      this.record.transition(key, "executing", "memory");
      this.#releaseDeps(ts);
      // a result over the memory target is written through; reported once written
      const value = outcome.value;
      if (this.data.put(key, value, { reportOnWrite: true }) === "write-through") {
        ts.ran = { start, stop, nbytes: value.nbytes };
      } else this.#finished(ts, start, stop);
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
    this.#pausedByHand = paused;
    this.#statusChanged();
  }

  // ---------------------------------------------------------------- memory

  /** The memory monitor's tick: the process memory (RSS) now, and the time (ms). */
  memorySample(rss: number, now: number): void {
    this.data.sample(rss, now);
  }

  /** Garbage was collected: the memory let go of is back. */
  collected(): void {
    this.data.collected();
  }

  /** Spill file `id` is written (`diskBytes` long). */
  spilled(id: number, diskBytes: number): void {
    const answer = this.data.written(id, diskBytes);
    if (!answer?.reportOnWrite) return;
    const ts = this.tasks.get(answer.key);
    if (ts?.state !== "memory" || !ts.ran) return;
    const { start, stop } = ts.ran;
    ts.ran = undefined;
    this.#finished(ts, start, stop);
  }

  /**
   * Writing spill file `id` failed: the value stays in memory, unless it was a result over the
   * memory target written through, which errs its task with a SpillError that says why.
   */
  spillFailed(id: number, message: string): void {
    const answer = this.data.writeFailed(id, message);
    if (!answer?.reportOnWrite) return;
    const ts = this.tasks.get(answer.key);
    if (ts?.state !== "memory" || !ts.ran) return;
    const { start, stop, nbytes } = ts.ran;
    ts.state = "error";
    this.record.transition(ts.key, "memory", "error");
    this.tasks.delete(ts.key);
    const target = this.data.config.target ?? 0;
    const e = {
      name: "SpillError",
      message: `could not store the result of '${ts.key}' (${formatBytes(nbytes)}, ` +
        `over the memory target of ${formatBytes(target)}): ${message}`,
    };
    this.out.scheduler({ op: "task-erred", k: ts.key, e, start, stop });
  }

  /** Spill file `id` is read back: the tasks and peers waiting for its value go on. */
  unspilled(id: number, p: Payload): void {
    const key = this.data.loaded(id, p);
    if (key === null) return;
    for (const ts of this.#inputs.loaded(key)) this.#launch(ts);
    this.#server.loaded(key);
  }

  /**
   * Spill file `id` could not be read back: its value is lost here. The tasks waiting for it are
   * dropped and the scheduler hears it is missing (it recomputes it if still wanted).
   */
  unspillFailed(id: number, message: string): void {
    const key = this.data.loadFailed(id);
    if (key === null) return;
    this.out.log(`[worker] lost ${key}: reading it back from disk failed: ${message}`);
    this.#lost(key);
    for (const ts of this.#inputs.lost(key)) this.#cannotStart(ts, key);
    this.#server.lost(key);
    this.#dispatch();
  }

  /**
   * Peer request `req` asks for `keys`: answered (out.served) from memory and disk in batches, or
   * busy when the worker is paused and `sending` to another peer already.
   */
  serveData(req: number, keys: readonly string[], sending: number): void {
    this.#server.serve(req, keys, this.#paused && sending >= 1);
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

  /** Reports `ts` in memory; its value goes along when wanted, small and not on disk. */
  #finished(ts: WorkerTask, start: number, stop: number): void {
    const nbytes = this.data.sizeOf(ts.key) ?? 0;
    const msg: TaskFinished = { op: "task-finished", k: ts.key, nbytes, start, stop };
    if (ts.wantResult && nbytes <= INLINE_RESULT_MAX) {
      const v = this.data.peek(ts.key);
      if (v !== undefined) msg.v = v;
    }
    this.out.scheduler(msg);
  }

  /** Pauses or resumes for memory: logs it in Dask's words. */
  #memoryStatus(paused: boolean, rss: number): void {
    this.out.log(`[worker] ${pauseMessage(this.data.config, rss, paused)}`);
    this.#statusChanged();
  }

  /** Paused by hand or for memory: the scheduler hears of each change at once. */
  #statusChanged(): void {
    const paused = this.#pausedByHand || this.data.paused;
    if (this.#paused === paused) return;
    this.#paused = paused;
    this.out.scheduler({ op: "worker-status", status: paused ? "paused" : "running" });
    if (paused) return;
    const parked = this.#parked;
    this.#parked = new Map();
    this.#sendAsks(parked);
    this.#dispatch();
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

  /**
   * Sends the fetches collected in `asks`, minus keys no local task needs any more; while
   * paused they wait.
   */
  #sendAsks(asks: Map<string, string[]>): void {
    for (const [w, keys] of asks) {
      if (this.#paused) {
        const parked = this.#parked.get(w);
        if (parked) parked.push(...keys);
        else this.#parked.set(w, keys);
        continue;
      }
      const live = keys.filter((k) => this.#deps.get(k)?.asking === w);
      if (live.length) this.out.fetch(w, live);
    }
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
      ts.state = "executing";
      this.record.transition(ts.key, "ready", "executing");
      this.executing++;
      const lost = this.#inputs.pin(ts);
      if (lost !== null) this.#cannotStart(ts, lost);
      else if (ts.loading === 0) this.#launch(ts);
    }
  }

  /** Hands `ts`, its inputs all in memory, to a thread slot. */
  #launch(ts: WorkerTask): void {
    const fn = this.#functions.get(ts.fn);
    const deps = new Map<string, Payload>();
    for (const dk of ts.deps) deps.set(dk, this.data.peek(dk)!);
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

  /** `ts` cannot start: its input `key` is not here any more. The scheduler reschedules it. */
  #cannotStart(ts: WorkerTask, key: string): void {
    this.executing--;
    this.out.scheduler({ op: "missing-data", k: ts.key, key, worker: this.self });
    this.#forget(ts);
  }

  /** The value of `key` is gone from this worker: it stops being a result or replica here. */
  #lost(key: string): void {
    this.#held.delete(key);
    const ts = this.tasks.get(key);
    if (ts?.state === "memory") {
      this.record.transition(key, "memory", "released");
      this.tasks.delete(key);
    }
    this.out.scheduler({ op: "missing-data", k: key, key, worker: this.self });
  }

  /** Drops a task that has not produced a value; its fetched dependencies may go too. */
  #forget(ts: WorkerTask): void {
    this.#inputs.unpin(ts);
    if (ts.state === "ready") this.#ready.remove(ts);
    this.record.transition(ts.key, ts.state, "released");
    this.tasks.delete(ts.key);
    this.#releaseDeps(ts);
  }

  /** `ts` no longer needs its dependencies: drop fetched copies nobody else here uses (and
   * values computed here whose task was freed meanwhile). */
  #releaseDeps(ts: WorkerTask): void {
    this.#inputs.unpin(ts);
    for (const dk of ts.deps) {
      const dep = this.#deps.get(dk);
      if (!dep || !dep.users.delete(ts) || dep.users.size) continue;
      this.#deps.delete(dk);
      if (!this.tasks.has(dk) && !this.#held.has(dk)) this.#dropData(dk);
    }
  }

  #dropData(k: string): void {
    const nbytes = this.data.sizeOf(k);
    if (nbytes === undefined) return;
    const inMemory = this.data.peek(k) !== undefined;
    this.data.drop(k);
    if (inMemory && nbytes >= LARGE_VALUE) this.out.collect();
  }
}
