/**
 * The scheduler's decisions as a pure state machine: each stimulus (a message from a client
 * or worker, a worker joining or leaving) updates the task graph and emits messages through
 * an outbox. No I/O, no timers, no awaiting.
 */
import type {
  FunctionDef,
  SchedulerToClient,
  SchedulerToWorker,
  TaskErred,
  TaskFinished,
  UpdateGraph,
  WorkerInfo,
} from "../comm/protocol.ts";
import type { ErrorEnvelope } from "../comm/errors.ts";
import { keyPrefix } from "../comm/keys.ts";
import { SmallSet } from "./small_set.ts";
import { IndexedHeap, priorityLess } from "../comm/heap.ts";
import { TASK_STATES, TaskState, type TaskStateName, WorkerState } from "./task_state.ts";
import { pickRootWorker, pickWorker, taskSlots } from "./placement.ts";

/** Where the state machine's messages go; the scheduler actor sends them. */
export interface SchedulerOutbox {
  /** A message for the worker at `address`. */
  worker(address: string, msg: SchedulerToWorker): void;
  /** A message for the client `id`. */
  client(id: string, msg: SchedulerToClient): void;
  /** Something worth logging (topic, text). */
  event(topic: string, text: string): void;
}

/** Scheduling knobs. */
export interface SchedulerConfig {
  /** Root tasks a worker may hold per thread before the rest queue (Dask: 1.1; Infinity: off). */
  workerSaturation: number;
  /** Worker deaths a task survives before it errs with KilledWorker. */
  allowedFailures: number;
  /** Duration guessed for a task prefix never seen (seconds). */
  unknownDuration: number;
}

/** Dask's defaults. */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  workerSaturation: 1.1,
  allowedFailures: 3,
  unknownDuration: 0.5,
};

type Rec = [TaskState, TaskStateName];

/** Tasks shorter than this (s) and with results smaller than TINY_RESULT may pipeline deeper. */
const TINY_TASK = 0.005;
const TINY_RESULT = 64 * 1024;
/** Seconds of tiny tasks kept in flight per thread, and the cap on tasks per thread. */
const PIPELINE_SECONDS = 0.05;
const MAX_PIPELINE = 128;

/** The scheduler's whole state and its transitions. */
export class SchedulerState {
  /** Every task not forgotten, by key. */
  readonly tasks: Map<string, TaskState> = new Map();
  /** Connected workers, by address. */
  readonly workers: Map<string, WorkerState> = new Map();
  /** Connected clients and the tasks each wants. */
  readonly clients: Map<string, Set<TaskState>> = new Map();
  /** Ready root tasks waiting for a worker slot. */
  readonly queued: IndexedHeap<TaskState> = new IndexedHeap<TaskState>((a, b) =>
    priorityLess(a.priority, b.priority)
  );
  /** Ready tasks no worker can run. */
  readonly unrunnable: Set<TaskState> = new Set();
  /** Functions by hash. */
  readonly functions: Map<string, FunctionDef> = new Map();
  /** How many tasks are in each state. */
  readonly counts: Record<TaskStateName, number>;
  /** Tasks that finished (went to memory), ever. */
  tasksCompleted = 0;
  /** Exponentially weighted mean duration (s) per task prefix. */
  readonly durations: Map<string, number> = new Map();
  /** A slowly decaying maximum of result sizes (bytes) per task prefix. */
  readonly sizes: Map<string, number> = new Map();
  readonly config: SchedulerConfig;
  #seq = 0;
  #recs: Rec[] = [];
  /** Tasks whose inputs are all in memory, to be placed once the transitions settle. */
  #ready: TaskState[] = [];
  /** Workers that lost a processing task (or joined) since the queue was last looked at. */
  readonly #slotsOpened: Set<WorkerState> = new Set();

  constructor(readonly out: SchedulerOutbox, config: Partial<SchedulerConfig> = {}) {
    this.config = { ...DEFAULT_SCHEDULER_CONFIG, ...config };
    this.counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<
      TaskStateName,
      number
    >;
  }

  // ---------------------------------------------------------------- stimuli

  /** A worker joined. */
  addWorker(info: WorkerInfo): void {
    if (this.workers.has(info.address)) {
      this.removeWorker(info.address, "a new worker registered at the same address");
    }
    const ws = new WorkerState(info);
    this.workers.set(info.address, ws);
    this.out.event("workers", `added ${info.address} (${info.name}, ${info.nthreads} threads)`);
    for (const ts of this.unrunnable) this.#ready.push(ts);
    this.#slotsOpened.add(ws);
    this.#run();
  }

  /** A worker left (connection closed, timed out, or retired when `expected`). */
  removeWorker(address: string, reason: string, expected = false): void {
    const ws = this.workers.get(address);
    if (!ws) return;
    this.workers.delete(address);
    this.out.event("workers", `removed ${address}: ${reason}`);
    const again: TaskState[] = [];
    for (const ts of [...ws.processing]) {
      this.#stopProcessing(ts, false);
      if (!expected) {
        ts.suspicious++;
        ts.lastDeadWorker = address;
      }
      if (ts.suspicious > this.config.allowedFailures) {
        ts.exception = {
          name: "KilledWorker",
          message: `Attempted to run task '${ts.key}' on ${ts.suspicious} different workers, ` +
            `but all those workers died while running it. The last worker was ${address} ` +
            `(${reason}). Look at that worker's log: the task may use too much memory or crash ` +
            `the process.`,
        };
        ts.blame = ts;
        this.#recs.push([ts, "erred"]);
      } else again.push(ts);
    }
    const scattered: TaskState[] = [];
    let lostComputed = 0;
    for (const ts of ws.hasWhat) {
      ts.whoHas!.delete(ws);
      if (ts.whoHas!.size > 0) continue;
      ts.whoHas = null;
      ts.state = "released";
      this.#count("memory", "released");
      if (ts.args === null) scattered.push(ts);
      else {
        lostComputed++;
        again.push(ts);
      }
    }
    ws.hasWhat.clear();
    this.#slotsOpened.delete(ws);
    for (const ts of scattered) {
      this.#cancel(
        ts,
        `${ts.key} was scattered data that lived only on ${address}, which was lost ` +
          `(${reason}); scattered data cannot be recomputed`,
      );
    }
    // still needed: computed again from its lineage; otherwise forgotten
    this.#recommend(again.filter((ts) => !this.#needed(ts)), "forgotten");
    this.#recommend(again.filter((ts) => this.#needed(ts)), "waiting");
    if (lostComputed || scattered.length) {
      this.out.event(
        "workers",
        `lost ${lostComputed} computed and ${scattered.length} scattered keys with ${address}`,
      );
    }
    this.#run();
  }

  /** A client connected. */
  addClient(id: string): void {
    if (!this.clients.has(id)) this.clients.set(id, new Set());
  }

  /** A client left: everything it wanted is released. */
  removeClient(id: string): void {
    const wants = this.clients.get(id);
    if (!wants) return;
    this.clients.delete(id);
    for (const ts of wants) this.#unwant(ts, id);
    this.#run();
  }

  /** A client submitted tasks and says which keys it wants. */
  updateGraph(client: string, msg: UpdateGraph): void {
    if (msg.functions) { for (const f of msg.functions) this.functions.set(f.h, f); }
    const fresh: TaskState[] = [];
    const specs: UpdateGraph["tasks"] = [];
    for (const spec of msg.tasks) {
      if (this.tasks.has(spec.k)) continue;
      const ts = new TaskState(spec.k, keyPrefix(spec.k), spec.f, spec.a);
      ts.priority = [-(spec.p ?? 0), ++this.#seq];
      ts.retries = spec.r ?? 0;
      if (spec.w?.length) {
        ts.restrictions = new Set(spec.w);
        ts.loose = spec.lo === true;
      }
      this.tasks.set(spec.k, ts);
      this.counts.released++;
      fresh.push(ts);
      specs.push(spec);
    }
    // linked once every new task exists: a dependency may come later in the same message
    for (let i = 0; i < fresh.length; i++) {
      const ts = fresh[i], spec = specs[i];
      if (!this.functions.has(spec.f)) {
        ts.exception = {
          name: "ProtocolError",
          message: `task ${spec.k} names function ${spec.f}, which the client never sent`,
        };
      }
      for (const dk of spec.d) {
        const dep = this.tasks.get(dk);
        if (!dep) {
          ts.exception ??= {
            name: "CancelledError",
            message: `dependency ${dk} of ${spec.k} is not known to the scheduler ` +
              `(it was released or lost); submit it again`,
          };
          continue;
        }
        if (dep.dependents?.has(ts)) continue; // listed twice
        ts.deps.push(dep);
        (dep.dependents ??= new SmallSet()).add(ts);
      }
    }
    const toWait: TaskState[] = [];
    const wants = this.clients.get(client);
    for (const k of msg.wanted) {
      const ts = this.tasks.get(k);
      if (!ts || !wants) continue;
      (ts.whoWants ??= new SmallSet()).add(client);
      wants.add(ts);
      if (ts.state === "memory") this.#tellInMemory(ts, client);
      else if (ts.state === "erred") this.#tellErred(ts, client);
      else if (ts.state === "released" && !ts.exception) toWait.push(ts);
    }
    const broken: TaskState[] = [];
    const unneeded: TaskState[] = [];
    for (const ts of fresh) {
      if (ts.exception && (this.#needed(ts) || ts.dependents?.size)) {
        ts.blame = ts;
        broken.push(ts);
      } else if (!this.#needed(ts)) unneeded.push(ts);
    }
    // applied last to first: errors first, so that nothing starts on top of a broken task
    this.#recommend(unneeded, "forgotten");
    this.#recommend(toWait, "waiting");
    this.#recommend(broken, "erred");
    this.#run();
  }

  /** A client dropped its Futures for these keys. */
  releaseKeys(client: string, keys: string[]): void {
    const wants = this.clients.get(client);
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts || !ts.whoWants?.has(client)) continue;
      wants?.delete(ts);
      this.#unwant(ts, client);
    }
    this.#run();
  }

  /** A client asks again where values are (it will fetch them from the workers). */
  requestValues(client: string, keys: string[]): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (ts?.state === "memory") this.#tellInMemory(ts, client);
      else if (ts?.state === "erred") this.#tellErred(ts, client);
      else if (!ts) {
        this.out.client(client, {
          op: "keys-cancelled",
          keys: [k],
          reason: `${k} is not known to the scheduler (released or lost)`,
        });
      }
    }
  }

  /** A worker finished a task. */
  taskFinished(address: string, msg: TaskFinished): void {
    const ws = this.workers.get(address);
    const ts = this.tasks.get(msg.k);
    if (!ws) return;
    if (!ts || (ts.state !== "processing" && ts.state !== "memory")) {
      this.out.worker(address, { op: "free-keys", keys: [msg.k] });
      return;
    }
    if (ts.state === "memory") {
      if (!ts.whoHas!.has(ws)) {
        ts.whoHas!.add(ws);
        ws.hasWhat.add(ts);
        ws.nbytes += ts.nbytes;
      }
      return;
    }
    this.#unassign(ts, ts.processingOn !== ws); // another worker ran it: the assignee stops
    const seconds = Math.max(0, (msg.stop - msg.start) / 1000);
    const old = this.durations.get(ts.prefix);
    this.durations.set(ts.prefix, old === undefined ? seconds : 0.5 * old + 0.5 * seconds);
    const oldSize = this.sizes.get(ts.prefix);
    this.sizes.set(ts.prefix, Math.max(msg.nbytes, 0.9 * (oldSize ?? 0)));
    ts.state = "memory";
    this.#count("processing", "memory");
    this.tasksCompleted++;
    ts.nbytes = msg.nbytes;
    ts.whoHas = new SmallSet([ws]);
    ws.hasWhat.add(ts);
    ws.nbytes += msg.nbytes;
    if (ts.dependents) {
      for (const dts of ts.dependents) {
        if (dts.state === "waiting" && dts.waitingOn?.delete(ts) && dts.waitingOn.size === 0) {
          this.#ready.push(dts);
        }
      }
    }
    this.#dropWaiter(ts);
    if (ts.whoWants) { for (const c of ts.whoWants) this.#tellInMemory(ts, c, msg.v); }
    if (!this.#needed(ts)) this.#recs.push([ts, "released"]);
    this.#slotsOpened.add(ws);
    this.#run();
  }

  /** A worker's task raised. */
  taskErred(address: string, msg: TaskErred): void {
    const ts = this.tasks.get(msg.k);
    const ws = this.workers.get(address);
    if (!ts || !ws || ts.state !== "processing" || ts.processingOn !== ws) return;
    if (ts.retries > 0) {
      ts.retries--;
      this.#stopProcessing(ts, false);
      this.#recs.push([ts, "waiting"]);
    } else {
      this.#unassign(ts, false);
      ts.exception = msg.e;
      ts.blame = ts;
      this.#recs.push([ts, "erred"]);
    }
    this.#run();
  }

  /** A worker could not fetch `key` for task `k` from `holder`: run `k` again once `key` is back. */
  missingData(address: string, k: string, key: string, holder: string): void {
    const ts = this.tasks.get(k);
    const dep = this.tasks.get(key);
    const bad = this.workers.get(holder);
    if (dep && bad && dep.whoHas?.delete(bad)) {
      bad.hasWhat.delete(dep);
      bad.nbytes -= dep.nbytes;
      if (dep.whoHas.size === 0) {
        dep.whoHas = null;
        dep.state = "released";
        this.#count("memory", "released");
        this.#recs.push([dep, this.#needed(dep) ? "waiting" : "forgotten"]);
      }
    }
    if (ts && ts.state === "processing" && ts.processingOn?.address === address) {
      this.#stopProcessing(ts, true);
      this.#recs.push([ts, "waiting"]);
    }
    this.#run();
  }

  // ---------------------------------------------------------------- transitions

  /**
   * Applies recommendations until none are left; then places the tasks that became ready, by
   * priority (so a graph's tasks start in order, whichever path made them ready); then hands
   * queued root tasks to the workers whose slots may have opened (after ready dependents took
   * theirs: depth first).
   */
  #run(): void {
    const recs = this.#recs;
    for (;;) {
      while (recs.length) {
        const [ts, to] = recs.pop()!;
        if (ts.state === to || ts.state === "forgotten") continue;
        this.#transition(ts, to);
      }
      if (this.#ready.length) {
        const ready = this.#ready;
        this.#ready = [];
        this.#recommend(ready, "processing");
        continue;
      }
      if (this.#slotsOpened.size === 0) return;
      const opened = [...this.#slotsOpened];
      this.#slotsOpened.clear();
      if (this.queued.size) { for (const ws of opened) this.#fillWorker(ws); }
    }
  }

  /** Queues recommendations so that the highest priority is applied first. */
  #recommend(list: TaskState[], to: TaskStateName): void {
    let sorted = true; // usually already in order (submission order): no need to sort
    for (let i = 1; sorted && i < list.length; i++) {
      sorted = !priorityLess(list[i].priority, list[i - 1].priority);
    }
    if (!sorted) list.sort((a, b) => priorityLess(a.priority, b.priority) ? -1 : a === b ? 0 : 1);
    for (let i = list.length - 1; i >= 0; i--) this.#recs.push([list[i], to]);
  }

  /**
   * Applies one recommendation, checked again: between the moment it was made and now, the
   * task may have become needed (or unneeded) again.
   */
  #transition(ts: TaskState, to: TaskStateName): void {
    switch (to) {
      case "waiting":
        if (ts.state !== "released") return;
        if (!this.#needed(ts)) {
          this.#recs.push([ts, "forgotten"]);
          return;
        }
        if (ts.args === null) {
          return this.#cancel(
            ts,
            `${ts.key} is scattered data that no worker holds any more; ` +
              `scattered data cannot be recomputed`,
          );
        }
        return this.#toWaiting(ts);
      case "processing":
        if (ts.state === "waiting" || ts.state === "no-worker" || ts.state === "queued") {
          if (!ts.waitingOn?.size && this.#depsReady(ts)) this.#toProcessing(ts);
        }
        return;
      case "released":
        if (this.#needed(ts)) return;
        return this.#toReleased(ts);
      case "erred":
        return this.#toErred(ts);
      case "forgotten":
        if (this.#needed(ts)) return;
        if (ts.state !== "released" && ts.state !== "erred") this.#toReleased(ts);
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
    this.#count("released", "waiting");
    let erred: TaskState | null = null;
    const start: TaskState[] = [];
    for (const dep of ts.deps) {
      (dep.waiters ??= new SmallSet()).add(ts);
      if (dep.state === "memory") continue;
      if (dep.state === "erred") {
        erred = dep;
        continue;
      }
      (ts.waitingOn ??= new SmallSet()).add(dep);
      if (dep.state === "released") start.push(dep);
    }
    if (erred) {
      ts.exception = erred.exception;
      ts.blame = erred.blame ?? erred;
      this.#recs.push([ts, "erred"]);
    } else if (!ts.waitingOn?.size) this.#ready.push(ts);
    else this.#recommend(start, "waiting");
  }

  #toProcessing(ts: TaskState): void {
    const from = ts.state;
    let ws: WorkerState | null = null;
    const root = ts.deps.length === 0 && ts.restrictions === null;
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
    this.#count(from, to);
    if (to === "queued") this.queued.push(ts);
    else this.unrunnable.add(ts);
  }

  /** Whether some worker takes tasks (workers are few: this scans them). */
  #anyRunning(): boolean {
    for (const ws of this.workers.values()) if (ws.status === "running") return true;
    return false;
  }

  /** Takes a ready task out of the queue or the unrunnable set. */
  #leaveReady(ts: TaskState): void {
    if (ts.state === "queued") this.queued.remove(ts);
    else if (ts.state === "no-worker") this.unrunnable.delete(ts);
  }

  #assign(ts: TaskState, ws: WorkerState, from: TaskStateName): void {
    ts.state = "processing";
    this.#count(from, "processing");
    ts.waitingOn = null;
    ts.processingOn = ws;
    ws.processing.add(ts);
    ts.occupancyShare = this.durations.get(ts.prefix) ?? this.config.unknownDuration;
    ws.occupancy += ts.occupancyShare;
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
      r: ts.whoWants !== null && ts.whoWants.size > 0,
    });
  }

  /**
   * Takes a processing task off its worker (whose slot may now take a queued task); tells the
   * worker to drop it when `tell`.
   */
  #unassign(ts: TaskState, tell: boolean): void {
    const ws = ts.processingOn;
    if (!ws) return;
    ws.processing.delete(ts);
    ws.occupancy = ws.processing.size ? Math.max(0, ws.occupancy - ts.occupancyShare) : 0;
    ts.processingOn = null;
    this.#slotsOpened.add(ws);
    if (tell) this.out.worker(ws.address, { op: "free-keys", keys: [ts.key] });
  }

  /** processing → released outside the transitions (the worker dropped it already, or died). */
  #stopProcessing(ts: TaskState, tell: boolean): void {
    this.#unassign(ts, tell);
    ts.state = "released";
    this.#count("processing", "released");
    this.#dropWaiter(ts);
  }

  #toReleased(ts: TaskState): void {
    const from = ts.state;
    switch (from) {
      case "released":
      case "forgotten":
        return;
      case "processing":
        this.#unassign(ts, true);
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
    ts.waitingOn = null;
    ts.state = "released";
    this.#count(from, "released");
    if (from === "waiting" || from === "queued" || from === "no-worker" || from === "processing") {
      this.#dropWaiter(ts);
    }
    if (this.#needed(ts)) return;
    if (!ts.dependents?.size) this.#recs.push([ts, "forgotten"]);
  }

  #toErred(ts: TaskState): void {
    const from = ts.state;
    if (from === "processing") this.#unassign(ts, true);
    else if (from === "memory") {
      this.#toReleased(ts);
      return this.#toErred(ts);
    }
    this.#leaveReady(ts);
    ts.waitingOn = null;
    ts.state = "erred";
    this.#count(from, "erred");
    this.#dropWaiter(ts);
    if (ts.dependents) {
      for (const dts of ts.dependents) {
        if (dts.state === "memory" || dts.state === "erred") continue;
        if (dts.state === "released" && !this.#needed(dts)) continue;
        dts.exception = ts.exception;
        dts.blame = ts.blame ?? ts;
        this.#recs.push([dts, "erred"]);
      }
    }
    if (ts.whoWants) { for (const c of ts.whoWants) this.#tellErred(ts, c); }
  }

  #toForgotten(ts: TaskState): void {
    this.counts[ts.state]--; // forgotten tasks are not counted: they no longer exist
    ts.state = "forgotten";
    this.tasks.delete(ts.key);
    for (const dep of ts.deps) {
      dep.dependents?.delete(ts);
      dep.waiters?.delete(ts);
      if (!this.#needed(dep)) {
        if (dep.state === "memory") this.#recs.push([dep, "released"]);
        else if (!dep.dependents?.size) this.#recs.push([dep, "forgotten"]);
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
      (ts.waitingOn ??= new SmallSet()).add(dep);
      (dep.waiters ??= new SmallSet()).add(ts);
      if (dep.state === "released") this.#recs.push([dep, "waiting"]);
    }
    if (!ready && ts.state !== "waiting") {
      this.#leaveReady(ts);
      this.#count(ts.state, "waiting");
      ts.state = "waiting";
    }
    return ready;
  }

  /** Whether a client or a pending dependent still needs this task's value. */
  #needed(ts: TaskState): boolean {
    return (ts.whoWants !== null && ts.whoWants.size > 0) ||
      (ts.waiters !== null && ts.waiters.size > 0);
  }

  /** `ts` no longer needs its dependencies' data: release those nobody else needs. */
  #dropWaiter(ts: TaskState): void {
    for (const dep of ts.deps) {
      if (!dep.waiters?.delete(ts)) continue;
      if (this.#needed(dep)) continue;
      if (dep.state !== "erred") this.#recs.push([dep, "released"]);
    }
  }

  /** A client dropped its interest in `ts`. */
  #unwant(ts: TaskState, client: string): void {
    ts.whoWants?.delete(client);
    if (this.#needed(ts)) return;
    if (ts.state === "erred" || ts.state === "released") this.#recs.push([ts, "forgotten"]);
    else this.#recs.push([ts, "released"]);
  }

  /** Hands queued root tasks to `ws` while it has free slots. */
  #fillWorker(ws: WorkerState): void {
    if (this.workers.get(ws.address) !== ws || ws.status !== "running") return;
    while (this.queued.size) {
      const head = this.queued.peek()!;
      if (ws.processing.size >= taskSlots(ws, this.#slotsFor(head))) return;
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

  /**
   * `root` can never be computed again (lost scattered data): it and every dependent not
   * already in memory or erred are released, their clients get keys-cancelled, and they are
   * forgotten. Results already computed from it stay.
   */
  #cancel(root: TaskState, reason: string): void {
    const todo = [root];
    const seen = new Set(todo);
    while (todo.length) {
      const ts = todo.pop()!;
      for (const dts of ts.dependents ?? []) {
        if (dts.state === "memory" || dts.state === "erred" || seen.has(dts)) continue;
        seen.add(dts);
        todo.push(dts);
      }
      this.#notifyCancelled(ts, reason);
      if (ts.state !== "released") this.#toReleased(ts);
      this.#recs.push([ts, "forgotten"]);
    }
  }

  #count(from: TaskStateName, to: TaskStateName): void {
    this.counts[from]--;
    this.counts[to]++;
  }

  #tellInMemory(ts: TaskState, client: string, v?: TaskFinished["v"]): void {
    this.out.client(client, {
      op: "key-in-memory",
      k: ts.key,
      w: Array.from(ts.whoHas!, (w) => w.address),
      v,
    });
  }

  #tellErred(ts: TaskState, client: string): void {
    this.out.client(client, {
      op: "key-erred",
      k: ts.key,
      e: ts.exception as ErrorEnvelope,
      blame: (ts.blame ?? ts).key,
    });
  }

  #notifyCancelled(ts: TaskState, reason: string): void {
    if (ts.whoWants) {
      for (const c of ts.whoWants) {
        this.out.client(c, { op: "keys-cancelled", keys: [ts.key], reason });
        this.clients.get(c)?.delete(ts);
      }
    }
    ts.whoWants = null;
  }
}
