/**
 * The worker's decisions as a pure state machine: tasks from the scheduler wait for their
 * dependencies (fetched from peers), queue by priority, run on the executor's thread slots,
 * and settle in memory or error. The values it holds live in a MemoryBook, which spills them
 * to disk and pauses the worker by its memory thresholds. No I/O, no timers: effects go
 * through the outbox.
 */
import { NO_RECORDING, type TransitionRecorder } from "../core/transition_recorder.ts";
import type { ComputeTask, TaskCrashed, TaskErred, TaskFinished } from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import type { ErrorEnvelope } from "../core/errors.ts";
import { type MemoryConfig, NO_MEMORY_LIMIT } from "../core/memory_config.ts";
import { MemoryBook } from "./memory_state.ts";
import { DataServer } from "./data_server.ts";
import { TaskInputs } from "./task_inputs.ts";
import { DepFetches } from "./dep_fetches.ts";
import { type SpillAnswer, SpillAnswers } from "./spill_answers.ts";
import { RunStatus } from "./run_status.ts";
import { ThreadSlots } from "./thread_slots.ts";
import {
  INLINE_RESULT_MAX,
  LARGE_VALUE,
  type WorkerOutbox,
  type WorkerTask,
} from "./worker_task.ts";

export * from "./worker_task.ts";

/** The worker's state and transitions. */
export class WorkerStateMachine {
  /** Tasks by key (not yet forgotten). */
  readonly tasks = new Map<string, WorkerTask>();
  /** Values held, in memory or on disk: results of tasks run here, and fetched dependencies. */
  readonly data: MemoryBook;
  readonly #inputs: TaskInputs;
  readonly #server: DataServer;
  readonly #spills: SpillAnswers;
  /** Ready tasks and seceded ones waiting for a thread slot, and the count of slots taken. */
  readonly #slots: ThreadSlots;
  /** Dependencies of local tasks, and their fetches from peers. */
  readonly #deps: DepFetches;
  /** Paused by hand (`setPaused`) or for memory, or running. */
  readonly #status: RunStatus;
  /** Keys kept as replicas for the scheduler (replicate / rebalance), not computed here. */
  readonly #held = new Set<string>();

  /**
   * `record`: where each task's transitions go, for the worker's story; `memory`: its memory
   * thresholds; `self`: its address, which it names when a value it held is lost.
   */
  constructor(
    readonly out: WorkerOutbox,
    slots: number,
    readonly record: TransitionRecorder = NO_RECORDING,
    memory: MemoryConfig = NO_MEMORY_LIMIT,
    readonly self: string = "",
  ) {
    this.data = new MemoryBook(memory, {
      spill: (id, p) => out.spill(id, p),
      unspill: (id) => out.unspill(id),
      discard: (id) => out.discard(id),
      status: (status, rss) => this.#status.memoryChanged(status === "paused", rss),
      collect: () => out.collect(),
      warn: (_, line) => out.log(`[worker] ${line}`),
    });
    this.#inputs = new TaskInputs(this.data);
    this.#slots = new ThreadSlots(slots, {
      data: this.data,
      inputs: this.#inputs,
      record,
      out,
      cannotStart: (ts, key) => this.#cannotStart(ts, key),
    });
    this.#status = new RunStatus(this.data, out, () => {
      this.#deps.resume(); // the fetches held back while paused
      this.#dispatch();
    });
    this.#deps = new DepFetches({
      fetch: (w, keys) => out.fetch(w, keys),
      noHolder: (key, dep) => {
        for (const ts of dep.users) {
          this.out.scheduler({ op: "missing-data", k: ts.key, key, worker: dep.last });
          this.#forget(ts);
        }
      },
    });
    this.#server = new DataServer(this.data, memory.limit, (req, a) => out.served(req, a));
    this.#spills = new SpillAnswers(this.data, this.#inputs, this.#server, {
      tasks: this.tasks,
      record,
      out,
      self,
      finished: (ts, start, stop, thread) => this.#finished(ts, start, stop, thread),
      launch: (ts) => this.#slots.launch(ts),
      cannotStart: (ts, key) => this.#cannotStart(ts, key),
      unhold: (key) => this.#held.delete(key),
      dispatch: () => this.#dispatch(),
    });
  }

  /** Bytes of the values held in memory (managed memory). */
  get managedBytes(): number {
    return this.data.managed;
  }

  /** Keys held as replicas for the scheduler (replicate / rebalance). */
  get heldReplicas(): ReadonlySet<string> {
    return this.#held;
  }

  /** Tasks handed to the executor (or reading their inputs back first) and not settled. */
  get executing(): number {
    return this.#slots.executing;
  }

  /** How many tasks may execute at once (the executor's capacity). */
  get slots(): number {
    return this.#slots.slots;
  }

  /** Tasks ready to run and waiting for a slot. */
  get readyCount(): number {
    return this.#slots.readyCount;
  }

  /** The scheduler asks for a task. */
  computeTask(msg: ComputeTask): void {
    if (msg.fn) this.#slots.learn(msg.fn);
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
    if (msg.ac) ts.actor = true;
    this.tasks.set(ts.key, ts);
    this.record.transition(ts.key, "released", "waiting");
    for (const dk of ts.deps) {
      // tracked even when computed here, so that freeing it keeps it while ts needs it
      const dep = this.#deps.use(ts, dk, msg.d[dk]);
      if (this.data.has(dk)) continue;
      ts.missing++;
      if (dep.asking === null) this.#deps.ask(dk, dep);
      if (this.tasks.get(ts.key) !== ts) break; // nobody holds dk: ts was dropped
    }
    this.#deps.flush(this.#status.paused);
    if (this.tasks.get(ts.key) === ts && ts.missing === 0) {
      this.#slots.ready(ts);
      this.#dispatch();
    }
  }

  /** The scheduler says to forget keys (data or pending tasks). */
  freeKeys(keys: string[]): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (ts?.actor) this.out.dropActor?.(k);
      if (ts) {
        if (ts.state === "executing" && ts.loading) { // not started: reading its inputs back
          this.#slots.executing--;
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
    for (const k of asked) {
      const dep = this.#deps.answered(worker, k);
      if (!dep) continue;
      const v = values[k];
      if (v === undefined) {
        this.#deps.ask(k, dep);
        continue;
      }
      if (!this.data.has(k)) this.data.put(k, v);
      for (const ts of dep.users) {
        if (ts.state === "waiting" && --ts.missing === 0) this.#slots.ready(ts);
      }
    }
    this.#deps.flush(this.#status.paused);
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
    outcome:
      | { ok: true; value: Payload; thread?: number }
      | { ok: false; error: ErrorEnvelope; crashed?: string; thread?: number },
    start: number,
    stop: number,
  ): void {
    const th = outcome.thread;
    const ts = this.tasks.get(key);
    if (!ts || (ts.state !== "executing" && ts.state !== "cancelled")) return; // not running
    this.#slots.settled(ts);
    if (ts.state === "cancelled") this.#forget(ts);
    else if (outcome.ok) {
      ts.state = "memory";
      this.record.transition(key, "executing", "memory");
      this.#releaseDeps(ts);
      // a result over the memory target is written through; reported once written
      const value = outcome.value;
      if (this.data.put(key, value, { reportOnWrite: true }) === "write-through") {
        ts.ran = { start, stop, nbytes: value.nbytes, thread: th };
      } else this.#finished(ts, start, stop, th);
    } else {
      ts.state = "error";
      this.record.transition(key, "executing", "error");
      this.#releaseDeps(ts);
      const msg: TaskErred | TaskCrashed = outcome.crashed === undefined
        ? { op: "task-erred", k: key, e: outcome.error, start, stop }
        : { op: "task-crashed", k: key, reason: outcome.crashed };
      if (msg.op === "task-erred" && th !== undefined && th >= 0) msg.th = th;
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
    this.#slots.slots = slots;
    this.#dispatch();
  }

  /**
   * Stops (or resumes) starting tasks, e.g. under memory pressure; the scheduler hears of each
   * change at once (`worker-status`), so that it places nothing new here while paused.
   */
  setPaused(paused: boolean): void {
    this.#status.setByHand(paused);
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

  /** A write or read of a spill file ended (the spill store's answer). */
  spillAnswer(a: SpillAnswer): void {
    this.#spills.answer(a);
  }

  /**
   * Peer request `req` asks for `keys`: answered (out.served) from memory and disk in batches, or
   * busy when the worker is paused and `sending` to another peer already.
   */
  serveData(req: number, keys: readonly string[], sending: number): void {
    this.#server.serve(req, keys, this.#status.paused && sending >= 1);
  }

  // ---------------------------------------------------------------- in-task

  /** A running task gave its slot back: another may start; the scheduler no longer counts it. */
  secede(key: string): void {
    if (!this.#slots.secede(this.tasks.get(key))) return;
    this.out.scheduler({ op: "long-running", k: key });
    this.#dispatch();
  }

  /** A seceded task wants a slot again: granted (out.rejoined) once one is free. */
  rejoin(key: string): void {
    if (this.#slots.rejoin(key, this.tasks.get(key))) this.#dispatch();
  }

  /** Reports `ts` in memory; its value goes along when wanted, small and not on disk. */
  #finished(ts: WorkerTask, start: number, stop: number, thread?: number): void {
    const nbytes = this.data.sizeOf(ts.key) ?? 0;
    const msg: TaskFinished = { op: "task-finished", k: ts.key, nbytes, start, stop };
    if (thread !== undefined && thread >= 0) msg.th = thread;
    if (ts.wantResult && nbytes <= INLINE_RESULT_MAX) {
      const v = this.data.peek(ts.key);
      if (v !== undefined) msg.v = v;
    }
    this.out.scheduler(msg);
  }

  /** Starts seceded tasks that rejoin, then ready tasks, while thread slots are free. */
  #dispatch(): void {
    if (!this.#status.paused) this.#slots.fill();
  }

  /** `ts` cannot start: its input `key` is not here any more. The scheduler reschedules it. */
  #cannotStart(ts: WorkerTask, key: string): void {
    this.#slots.executing--;
    this.out.scheduler({ op: "missing-data", k: ts.key, key, worker: this.self });
    this.#forget(ts);
  }

  /** Drops a task that has not produced a value; its fetched dependencies may go too. */
  #forget(ts: WorkerTask): void {
    this.#inputs.unpin(ts);
    this.#slots.forget(ts);
    this.record.transition(ts.key, ts.state, "released");
    this.tasks.delete(ts.key);
    this.#releaseDeps(ts);
  }

  /** `ts` no longer needs its dependencies: drop fetched copies nobody else here uses (and
   * values computed here whose task was freed meanwhile). */
  #releaseDeps(ts: WorkerTask): void {
    this.#inputs.unpin(ts);
    for (const dk of ts.deps) {
      if (!this.#deps.release(ts, dk)) continue;
      if (!this.tasks.has(dk) && !this.#held.has(dk)) this.#dropData(dk);
    }
  }

  #dropData(k: string): void {
    const nbytes = this.data.sizeOf(k);
    if (nbytes === undefined) return;
    // peers waiting for it to be read back are answered without it
    if (this.data.where(k) === "reading") this.#server.lost(k);
    const inMemory = this.data.peek(k) !== undefined;
    this.data.drop(k);
    if (inMemory && nbytes >= LARGE_VALUE) this.out.collect();
  }
}
