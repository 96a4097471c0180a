/**
 * The scheduler's transition engine: the task graph's fields and the rules that move tasks
 * between states (waiting, processing, memory, released, erred, forgotten), driven by
 * recommendations until they settle. `SchedulerState` (state.ts) extends it with the stimuli
 * from clients and workers. No I/O, no timers, no awaiting.
 */
import type { FunctionDef } from "../comm/protocol.ts";
import type { ErrorEnvelope } from "../comm/errors.ts";
import { SmallSet } from "./small_set.ts";
import { IndexedHeap } from "../comm/heap.ts";
import {
  runsBefore,
  TASK_STATES,
  type TaskState,
  type TaskStateName,
  type WorkerState,
} from "./task_state.ts";
import { pickRootWorker, pickWorker, taskSlots } from "./placement.ts";
import { allowed, hasResources, pickResourceWorker, type Resources } from "./placement.ts";
import type { SchedulerConfig, SchedulerOutbox } from "./state.ts";

/**
 * Pending recommendations, a stack of (task, target state) pairs kept in two parallel arrays:
 * a pair array per recommendation would be garbage on every transition of every task.
 */
class RecStack {
  #tasks: TaskState[] = [];
  #to: TaskStateName[] = [];

  /** How many are pending. */
  get length(): number {
    return this.#tasks.length;
  }

  /** Recommends moving `ts` to state `to`. */
  push(ts: TaskState, to: TaskStateName): void {
    this.#tasks.push(ts);
    this.#to.push(to);
  }

  /** The target state of the top pair (call before `pop`). */
  peekTo(): TaskStateName {
    return this.#to[this.#to.length - 1];
  }

  /** Removes the top pair and returns its task. */
  pop(): TaskState {
    this.#to.pop();
    return this.#tasks.pop()!;
  }
}

/** The pseudo-client that wants fire-and-forget keys until they finish or err (i4-graph). */
export const FIRE_AND_FORGET = "fire-and-forget";

/** A steal request sent and not yet answered (work stealing, stealing.ts). */
export interface Steal {
  victim: WorkerState;
  thief: WorkerState;
  /** The task's expected duration (s) when asked. */
  seconds: number;
}

/** Tasks shorter than this (s) and with results smaller than TINY_RESULT may pipeline deeper. */
const TINY_TASK = 0.005;
const TINY_RESULT = 64 * 1024;
/** Seconds of tiny tasks kept in flight per thread, and the cap on tasks per thread. */
const PIPELINE_SECONDS = 0.05;
const MAX_PIPELINE = 128;

/** The task graph and its transitions; the stimuli are in `SchedulerState`. */
export abstract class SchedulerTransitions {
  /** Every task not forgotten, by key. */
  readonly tasks: Map<string, TaskState> = new Map();
  /** Connected workers, by address. */
  readonly workers: Map<string, WorkerState> = new Map();
  /** Threads of all connected workers (Dask's total_nthreads). */
  protected totalThreads = 0;
  /** Tasks not forgotten per prefix (Dask's task group sizes), for the root-ish rule. */
  readonly #prefixCounts: Map<string, number> = new Map();
  /**
   * Connected clients (and dropped ones within their grace). What each wants is only in the tasks'
   * `wants()`: a per-client set would cost every waiting task another entry, and the calls that
   * need a client's whole list (it leaves, restart) are rare enough to walk the tasks.
   */
  readonly clients: Set<string> = new Set();
  /** Clients that stopped reading: their results are not sent along, they fetch them later. */
  readonly stalledClients: Set<string> = new Set();
  /** Ready root tasks waiting for a worker slot. */
  readonly queued: IndexedHeap<TaskState> = new IndexedHeap<TaskState>(runsBefore);
  /** Ready tasks no worker can run. */
  readonly unrunnable: Set<TaskState> = new Set();
  /** Functions by hash. */
  readonly functions: Map<string, FunctionDef> = new Map();
  /** How many tasks are in each state. */
  readonly counts: Record<TaskStateName, number>;
  /** Exponentially weighted mean duration (s) per task prefix. */
  readonly durations: Map<string, number> = new Map();
  /** A slowly decaying maximum of result sizes (bytes) per task prefix. */
  readonly sizes: Map<string, number> = new Map();
  readonly config: SchedulerConfig;
  protected readonly recs: RecStack = new RecStack();
  /** Tasks whose inputs are all in memory, to be placed once the transitions settle. */
  protected ready: TaskState[] = [];
  /** Workers that lost a processing task (or joined) since the queue was last looked at. */
  protected readonly slotsOpened: Set<WorkerState> = new Set();
  /** Steal requests awaiting the victim's answer, by task (work stealing, stealing.ts). */
  protected readonly steals: Map<TaskState, Steal> = new Map();
  // ---- resources (issue 4)
  /** What tasks need, for the few that need resources (ordinary tasks pay nothing). */
  readonly resourceNeeds: Map<TaskState, Resources> = new Map();
  /** Ready tasks (state queued) waiting for a worker's resources to free up. */
  readonly resourceQueued: IndexedHeap<TaskState> = new IndexedHeap<TaskState>(runsBefore);
  /** Workers whose resources freed up (or that joined) since the resource queue was looked at. */
  protected readonly resourcesFreed: Set<WorkerState> = new Set();

  constructor(readonly out: SchedulerOutbox, config: SchedulerConfig) {
    this.config = config;
    this.counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<
      TaskStateName,
      number
    >;
  }

  /** Scattered data `root` that no worker holds any more: cancels it and its dependents. */
  protected abstract cancel(root: TaskState, reason: string): void;

  // ---------------------------------------------------------------- transitions

  /**
   * Applies recommendations until none are left; then places the tasks that became ready, by
   * priority (so a graph's tasks start in order, whichever path made them ready); then hands
   * queued root tasks to the workers whose slots may have opened (after ready dependents took
   * theirs: depth first).
   */
  protected run(): void {
    const recs = this.recs;
    for (;;) {
      while (recs.length) {
        const to = recs.peekTo();
        const ts = recs.pop();
        if (ts.state === to || ts.state === "forgotten") continue;
        this.#transition(ts, to);
      }
      if (this.ready.length) {
        const ready = this.ready;
        this.ready = [];
        this.recommend(ready, "processing");
        continue;
      }
      if (this.slotsOpened.size === 0 && this.resourcesFreed.size === 0) return;
      const opened = [...this.slotsOpened];
      this.slotsOpened.clear();
      if (this.queued.size) { for (const ws of opened) this.#fillWorker(ws); }
      if (this.resourcesFreed.size) {
        const freed = [...this.resourcesFreed];
        this.resourcesFreed.clear();
        if (this.resourceQueued.size) { for (const ws of freed) this.#fillResources(ws); }
      }
    }
  }

  /** Queues recommendations so that the highest priority is applied first. */
  protected recommend(list: TaskState[], to: TaskStateName): void {
    let sorted = true; // usually already in order (submission order): no need to sort
    for (let i = 1; sorted && i < list.length; i++) {
      sorted = !runsBefore(list[i], list[i - 1]);
    }
    if (!sorted) list.sort((a, b) => runsBefore(a, b) ? -1 : a === b ? 0 : 1);
    for (let i = list.length - 1; i >= 0; i--) this.recs.push(list[i], to);
  }

  /**
   * Applies one recommendation, checked again: between the moment it was made and now, the
   * task may have become needed (or unneeded) again.
   */
  #transition(ts: TaskState, to: TaskStateName): void {
    switch (to) {
      case "waiting":
        if (ts.state !== "released") return;
        if (!this.needed(ts)) {
          this.recs.push(ts, "forgotten");
          return;
        }
        if (!ts.hasArgs) {
          return this.cancel(
            ts,
            `${ts.key} is scattered data that no worker holds any more; ` +
              `scattered data cannot be recomputed`,
          );
        }
        return this.#toWaiting(ts);
      case "processing":
        if (!ts.hasArgs) return; // scattered data on its way: nothing to run (i4-graph)
        if (ts.state === "waiting" || ts.state === "no-worker" || ts.state === "queued") {
          if (ts.waitingOnCount === 0 && this.#depsReady(ts)) this.#toProcessing(ts);
        }
        return;
      case "released":
        if (this.needed(ts)) return;
        return this.toReleased(ts);
      case "erred":
        return this.#toErred(ts);
      case "forgotten":
        if (this.needed(ts)) return;
        if (ts.state !== "released" && ts.state !== "erred") this.toReleased(ts);
        if (!ts.dependents?.size) this.#toForgotten(ts);
        return;
      case "memory":
      case "no-worker":
      case "queued":
        return; // reached only through #toProcessing and taskFinished
    }
  }

  #toWaiting(ts: TaskState): void {
    ts.state = "waiting";
    this.count("released", "waiting");
    let erred: TaskState | null = null;
    let start: TaskState[] | null = null;
    // indexed loops on per-task paths: a for-of that is not optimized yet allocates per step
    for (let i = 0; i < ts.deps.length; i++) {
      const dep = ts.deps[i];
      (dep.waiters ??= new SmallSet()).add(ts);
      if (dep.state === "memory") continue;
      if (dep.state === "erred") {
        erred = dep;
        continue;
      }
      ts.addWaitingOn(dep);
      if (dep.state === "released") (start ??= []).push(dep);
    }
    if (erred) {
      ts.exception = erred.exception;
      ts.blame = erred.blame ?? erred;
      this.recs.push(ts, "erred");
    } else if (ts.waitingOnCount === 0) this.ready.push(ts);
    else if (start) this.recommend(start, "waiting");
  }

  #toProcessing(ts: TaskState): void {
    const from = ts.state;
    let ws: WorkerState | null = null;
    const need = this.resourceNeeds.size ? this.resourceNeeds.get(ts) : undefined;
    if (need) return this.#toProcessingWith(ts, need);
    const root = this.#rootish(ts);
    if (this.workers.size) {
      ws = root
        ? pickRootWorker(this.workers.values(), this.#slotsFor(ts))
        : pickWorker(ts, this.workers.values());
    }
    if (ws) {
      this.#leaveReady(ts);
      return this.#assign(ts, ws, from);
    }
    // root tasks queue while every worker is full; others wait for a worker that may run them
    const to = root && this.#anyRunning() ? "queued" : "no-worker";
    if (from === to) return;
    this.#leaveReady(ts);
    ts.state = to;
    this.count(from, to);
    if (to === "queued") this.queued.push(ts);
    else this.unrunnable.add(ts);
  }

  /**
   * A task that needs resources runs only where they are free; it queues while a worker that
   * has them in total is busy, and is no-worker while no running worker has them at all.
   */
  #toProcessingWith(ts: TaskState, need: Resources): void {
    const from = ts.state;
    const ws = pickResourceWorker(ts, need, this.workers.values());
    if (ws !== null && ws !== "wait") {
      this.#leaveReady(ts);
      return this.#assign(ts, ws, from);
    }
    const to = ws === "wait" ? "queued" : "no-worker";
    if (from === to) return;
    this.#leaveReady(ts);
    ts.state = to;
    this.count(from, to);
    if (to === "queued") this.resourceQueued.push(ts);
    else this.unrunnable.add(ts);
  }

  /** Hands resource-queued tasks that fit `ws` to it, by priority, while it has room. */
  #fillResources(ws: WorkerState): void {
    if (this.workers.get(ws.address) !== ws || ws.status !== "running" || !anyFree(ws)) return;
    const skipped: TaskState[] = [];
    while (this.resourceQueued.size) {
      const ts = this.resourceQueued.pop()!;
      const need = this.resourceNeeds.get(ts)!;
      if ((allowed(ts, ws) || ts.loose) && hasResources(ws, need, true)) {
        this.#assign(ts, ws, "queued");
        if (!anyFree(ws)) break;
      } else skipped.push(ts);
    }
    for (const ts of skipped) this.resourceQueued.push(ts);
  }

  /** Resource-queued tasks look again for a worker (one that could run them left). */
  protected requeueResources(): void {
    const all = [...this.resourceQueued.values()];
    for (const ts of all) this.ready.push(ts);
  }

  /** Whether some worker takes tasks (workers are few: this scans them). */
  #anyRunning(): boolean {
    for (const ws of this.workers.values()) if (ws.status === "running") return true;
    return false;
  }

  /** Takes a ready task out of the queue or the unrunnable set. */
  #leaveReady(ts: TaskState): void {
    if (ts.state === "queued") {
      this.queued.remove(ts); // a no-op unless it is in that heap
      this.resourceQueued.remove(ts);
    } else if (ts.state === "no-worker") this.unrunnable.delete(ts);
  }

  #assign(ts: TaskState, ws: WorkerState, from: TaskStateName): void {
    ts.state = "processing";
    this.count(from, "processing");
    ts.clearWaitingOn();
    ts.processingOn = ws;
    ws.processing.add(ts);
    ts.occupancyShare = this.durations.get(ts.prefix) ?? this.config.unknownDuration;
    ws.occupancy += ts.occupancyShare;
    // work stealing: root tasks under queuing go to whichever worker frees a slot; others may move
    if (
      this.config.workStealing &&
      (ts.deps.length > 0 || ts.restrictions !== null || this.config.workerSaturation === Infinity)
    ) {
      ws.stealable.push(ts);
      if (ws.stealable.length > 2 * ws.processing.size + 64) ws.compactStealable();
    }
    const need = this.resourceNeeds.size ? this.resourceNeeds.get(ts) : undefined;
    if (need) {
      const used = ws.usedResources ??= {};
      for (const r in need) used[r] = (used[r] ?? 0) + need[r];
    }
    const deps: Record<string, string[]> = {};
    for (const dep of ts.deps) {
      if (dep.whoHas!.has(ws)) deps[dep.key] = [];
      else deps[dep.key] = Array.from(dep.whoHas!, (w) => w.address);
    }
    let fn: FunctionDef | undefined;
    if (!ws.sentFunctions.has(ts.fn)) {
      ws.sentFunctions.add(ts.fn);
      fn = this.functions.get(ts.fn);
    }
    this.out.worker(ws.address, {
      op: "compute-task",
      k: ts.key,
      f: ts.fn,
      fn,
      a: ts.args!,
      d: deps,
      p: ts.priority,
      r: this.#sendsValue(ts),
    });
  }

  /** Whether a client that wants `ts` takes its value with its completion message. */
  #sendsValue(ts: TaskState): boolean {
    if (this.stalledClients.size === 0) return ts.wantCount > 0;
    for (const c of ts.wants()) if (!this.stalledClients.has(c)) return true;
    return false;
  }

  /**
   * Takes a processing task off its worker (whose slot may now take a queued task); tells the
   * worker to drop it when `tell`.
   */
  protected unassign(ts: TaskState, tell: boolean): void {
    const ws = ts.processingOn;
    if (!ws) return;
    ws.processing.delete(ts);
    ws.longRunning.delete(ts);
    ws.occupancy = ws.processing.size ? Math.max(0, ws.occupancy - ts.occupancyShare) : 0;
    const need = this.resourceNeeds.size ? this.resourceNeeds.get(ts) : undefined;
    if (need && ws.usedResources) {
      for (const r in need) ws.usedResources[r] = Math.max(0, ws.usedResources[r] - need[r]);
      this.resourcesFreed.add(ws);
    }
    ts.processingOn = null;
    this.slotsOpened.add(ws);
    if (this.steals.size) this.steals.delete(ts); // a steal answered later finds nothing to move
    if (tell) this.out.worker(ws.address, { op: "free-keys", keys: [ts.key] });
  }

  /** Assigns a processing task its worker gave up (work stealing) to `ws`. */
  protected reassign(ts: TaskState, ws: WorkerState): void {
    this.#assign(ts, ws, "processing");
  }

  /** processing → released outside the transitions (the worker dropped it already, or died). */
  protected stopProcessing(ts: TaskState, tell: boolean): void {
    this.unassign(ts, tell);
    ts.state = "released";
    this.count("processing", "released");
    this.dropWaiter(ts);
  }

  protected toReleased(ts: TaskState): void {
    const from = ts.state;
    switch (from) {
      case "released":
      case "forgotten":
        return;
      case "processing":
        this.unassign(ts, true);
        break;
      case "memory":
        for (const ws of ts.whoHas!) {
          ws.hasWhat.delete(ts);
          ws.nbytes -= ts.nbytes;
          this.out.worker(ws.address, { op: "free-keys", keys: [ts.key] });
        }
        ts.whoHas = null;
        break;
      case "queued":
      case "no-worker":
        this.#leaveReady(ts);
        break;
      case "erred":
        ts.exception = null;
        ts.blame = null;
        break;
      case "waiting":
        break;
    }
    ts.clearWaitingOn();
    ts.state = "released";
    this.count(from, "released");
    if (from === "waiting" || from === "queued" || from === "no-worker" || from === "processing") {
      this.dropWaiter(ts);
    }
    if (this.needed(ts)) return;
    if (!ts.dependents?.size) this.recs.push(ts, "forgotten");
  }

  #toErred(ts: TaskState): void {
    const from = ts.state;
    if (from === "processing") this.unassign(ts, true);
    else if (from === "memory") {
      this.toReleased(ts);
      return this.#toErred(ts);
    }
    this.#leaveReady(ts);
    ts.clearWaitingOn();
    ts.state = "erred";
    this.count(from, "erred");
    this.dropWaiter(ts);
    if (ts.dependents) {
      for (const dts of ts.dependents) {
        if (dts.state === "memory" || dts.state === "erred") continue;
        if (dts.state === "released" && !this.needed(dts)) continue;
        dts.exception = ts.exception;
        dts.blame = ts.blame ?? ts;
        this.recs.push(dts, "erred");
      }
    }
    for (const c of ts.wants()) this.tellErred(ts, c);
    if (ts.hasWant(FIRE_AND_FORGET)) this.dropWant(ts, FIRE_AND_FORGET); // i4-graph
  }

  #toForgotten(ts: TaskState): void {
    this.counts[ts.state]--; // forgotten tasks are not counted: they no longer exist
    ts.state = "forgotten";
    this.tasks.delete(ts.key);
    const left = this.#prefixCounts.get(ts.prefix)! - 1;
    if (left) this.#prefixCounts.set(ts.prefix, left);
    else this.#prefixCounts.delete(ts.prefix);
    if (this.resourceNeeds.size) this.resourceNeeds.delete(ts);
    for (const dep of ts.deps) {
      dep.dependents?.delete(ts);
      dep.waiters?.delete(ts);
      if (!this.needed(dep)) {
        if (dep.state === "memory") this.recs.push(dep, "released");
        else if (!dep.dependents?.size) this.recs.push(dep, "forgotten");
      }
    }
  }

  // ---------------------------------------------------------------- helpers

  /** Checks every dependency is in memory; if one was lost meanwhile, waits for it again. */
  #depsReady(ts: TaskState): boolean {
    let ready = true;
    for (const dep of ts.deps) {
      if (dep.state === "memory") continue;
      ready = false;
      ts.addWaitingOn(dep);
      (dep.waiters ??= new SmallSet()).add(ts);
      if (dep.state === "released") this.recs.push(dep, "waiting");
    }
    if (!ready && ts.state !== "waiting") {
      this.#leaveReady(ts);
      this.count(ts.state, "waiting");
      ts.state = "waiting";
    }
    return ready;
  }

  /** Whether a client or a pending dependent still needs this task's value. */
  protected needed(ts: TaskState): boolean {
    return (ts.wantCount > 0) ||
      (ts.waiters !== null && ts.waiters.size > 0);
  }

  /** `client` no longer wants `ts`: released, or forgotten, once nothing else needs it (i4-graph). */
  protected dropWant(ts: TaskState, client: string): void {
    ts.deleteWant(client);
    if (this.needed(ts)) return;
    if (ts.state === "erred" || ts.state === "released") this.recs.push(ts, "forgotten");
    else this.recs.push(ts, "released");
  }

  /** `ts` no longer needs its dependencies' data: release those nobody else needs. */
  protected dropWaiter(ts: TaskState): void {
    for (const dep of ts.deps) {
      if (!dep.waiters?.delete(ts)) continue;
      if (this.needed(dep)) continue;
      if (dep.state !== "erred") this.recs.push(dep, "released");
    }
  }

  /** Registers a new task under its key (and counts it in its prefix). */
  protected addTask(ts: TaskState): void {
    this.tasks.set(ts.key, ts);
    this.#prefixCounts.set(ts.prefix, (this.#prefixCounts.get(ts.prefix) ?? 0) + 1);
  }

  /**
   * Whether a task is root-ish, so it queues on the scheduler while workers are saturated:
   * no dependencies, no restrictions, and its prefix has more tasks than twice the cluster's
   * threads (Dask's rule). A handful of tasks goes straight to the workers, whose ready heaps
   * then order them by priority, as in Dask.
   */
  #rootish(ts: TaskState): boolean {
    return ts.deps.length === 0 && ts.restrictions === null &&
      this.#prefixCounts.get(ts.prefix)! > 2 * this.totalThreads;
  }

  /** Hands queued root tasks to `ws` while it has free slots. */
  #fillWorker(ws: WorkerState): void {
    if (this.workers.get(ws.address) !== ws || ws.status !== "running") return;
    while (this.queued.size) {
      const head = this.queued.peek()!;
      if (ws.busy >= taskSlots(ws, this.#slotsFor(head))) return;
      this.queued.pop();
      this.#assign(head, ws, "queued");
    }
  }

  /**
   * Root tasks a worker may hold per thread. Dask's worker-saturation protects memory from
   * root tasks running far ahead of their consumers; tasks measured as tiny (and small in
   * result) may pipeline deeper, so the round trip to the worker does not starve it.
   */
  #slotsFor(ts: TaskState): number {
    const sat = this.config.workerSaturation;
    const d = this.durations.get(ts.prefix);
    const size = this.sizes.get(ts.prefix);
    if (d === undefined || size === undefined || size > TINY_RESULT || d >= TINY_TASK) return sat;
    return Math.max(sat, Math.min(MAX_PIPELINE, PIPELINE_SECONDS / Math.max(d, 1e-5)));
  }

  protected count(from: TaskStateName, to: TaskStateName): void {
    this.counts[from]--;
    this.counts[to]++;
  }

  protected tellErred(ts: TaskState, client: string): void {
    this.out.client(client, {
      op: "key-erred",
      k: ts.key,
      e: ts.exception as ErrorEnvelope,
      blame: (ts.blame ?? ts).key,
    });
  }
}

/** Whether any resource of `ws` has some amount left free. */
function anyFree(ws: WorkerState): boolean {
  const have = ws.info.resources;
  for (const r in have) if (have[r] - (ws.usedResources?.[r] ?? 0) > 1e-9) return true;
  return false;
}
