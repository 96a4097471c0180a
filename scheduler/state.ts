/**
 * The scheduler's decisions as a pure state machine: each stimulus (a message from a client
 * or worker, a worker joining or leaving) updates the task graph and emits messages through
 * an outbox. No I/O, no timers, no awaiting.
 */
import type {
  PlainTasks,
  SchedulerToClient,
  SchedulerToWorker,
  TaskErred,
  TaskFinished,
  UpdateGraph,
  WorkerInfo,
} from "../comm/protocol.ts";
import { DEFAULT_FIFO_TIMEOUT } from "../comm/protocol.ts";
import { keyPrefix } from "../comm/keys.ts";
import { SmallSet } from "./small_set.ts";
import { TaskState, WorkerState } from "./task_state.ts";
import { SchedulerClientOps } from "./client_ops.ts";
import { FIRE_AND_FORGET } from "./transitions.ts";
import { ArgSlab } from "./arg_slab.ts";

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
  /** Idle workers take not-yet-started tasks from busy ones (Dask's work-stealing). */
  workStealing: boolean;
  /** How often the scheduler actor calls `balance()` (ms; Dask's work-stealing-interval). */
  workStealingInterval: number;
}

/** Dask's defaults. */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  workerSaturation: 1.1,
  allowedFailures: 3,
  unknownDuration: 0.5,
  workStealing: true,
  workStealingInterval: 100,
};

/** The scheduler's whole state and the stimuli that change it (transitions.ts applies them). */
export class SchedulerState extends SchedulerClientOps {
  /** Tasks that finished (went to memory), ever. */
  tasksCompleted = 0;
  #seq = 0;
  /** FIFO generation of submissions, and when (ms) it last moved on. */
  #generation = 0;
  #generationAt = -Infinity;
  #slab = new ArgSlab();
  #lastOnlyDep: TaskState[] = [];

  constructor(out: SchedulerOutbox, config: Partial<SchedulerConfig> = {}) {
    super(out, { ...DEFAULT_SCHEDULER_CONFIG, ...config });
  }

  // ---------------------------------------------------------------- stimuli

  /** A worker joined. */
  addWorker(info: WorkerInfo): void {
    if (this.workers.has(info.address)) {
      this.removeWorker(info.address, "a new worker registered at the same address");
    }
    const ws = new WorkerState(info);
    this.workers.set(info.address, ws);
    this.totalThreads += info.nthreads;
    this.out.event("workers", `added ${info.address} (${info.name}, ${info.nthreads} threads)`);
    for (const ts of this.unrunnable) this.ready.push(ts);
    this.slotsOpened.add(ws);
    if (info.resources) this.resourcesFreed.add(ws); // resource-queued tasks may fit it
    this.run();
  }

  /** A worker left (connection closed, timed out, or retired when `expected`). */
  removeWorker(address: string, reason: string, expected = false): void {
    const ws = this.workers.get(address);
    if (!ws) return;
    this.workers.delete(address);
    this.totalThreads -= ws.info.nthreads;
    this.out.event("workers", `removed ${address}: ${reason}`);
    const again: TaskState[] = [];
    for (const ts of [...ws.processing]) {
      this.stopProcessing(ts, false);
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
        this.recs.push(ts, "erred");
      } else again.push(ts);
    }
    const scattered: TaskState[] = [];
    let lostComputed = 0;
    for (const ts of ws.hasWhat) {
      ts.whoHas!.delete(ws);
      if (ts.whoHas!.size > 0) continue;
      ts.whoHas = null;
      ts.state = "released";
      this.count("memory", "released");
      if (!ts.hasArgs) scattered.push(ts);
      else {
        lostComputed++;
        again.push(ts);
      }
    }
    ws.hasWhat.clear();
    this.slotsOpened.delete(ws);
    this.resourcesFreed.delete(ws);
    if (this.resourceQueued.size) this.requeueResources(); // perhaps nobody can run them now
    for (const ts of scattered) {
      this.cancel(
        ts,
        `${ts.key} was scattered data that lived only on ${address}, which was lost ` +
          `(${reason}); scattered data cannot be recomputed`,
      );
    }
    // still needed: computed again from its lineage; otherwise forgotten
    this.recommend(again.filter((ts) => !this.needed(ts)), "forgotten");
    this.recommend(again.filter((ts) => this.needed(ts)), "waiting");
    if (lostComputed || scattered.length) {
      this.out.event(
        "workers",
        `lost ${lostComputed} computed and ${scattered.length} scattered keys with ${address}`,
      );
    }
    this.run();
  }

  /** client.restart() (i5): every key any client wants is cancelled (keys-cancelled) and released. */
  cancelAll(reason: string): void {
    const byClient = new Map<string, string[]>();
    for (const ts of this.tasks.values()) {
      for (const c of ts.wants()) {
        const keys = byClient.get(c);
        if (keys) keys.push(ts.key);
        else byClient.set(c, [ts.key]);
      }
    }
    for (const [client, keys] of byClient) {
      this.out.client(client, { op: "keys-cancelled", keys, reason });
      this.releaseKeys(client, keys);
    }
  }

  /** A client connected. */
  addClient(id: string): void {
    this.clients.add(id);
  }

  /**
   * A client stopped reading (`stalled`: its queue passed a bound), or caught up again: while
   * stalled, its results stay on the workers and it fetches them from there.
   */
  clientStalled(id: string, stalled: boolean): void {
    if (stalled && this.clients.has(id)) this.stalledClients.add(id);
    else this.stalledClients.delete(id);
  }

  /** A client left: everything it wanted is released. */
  removeClient(id: string): void {
    this.stalledClients.delete(id);
    if (!this.clients.delete(id)) return;
    for (const ts of this.tasks.values()) {
      if (ts.hasWant(id)) this.dropWant(ts, id);
    }
    this.run();
  }

  /**
   * A client submitted tasks and says which keys it wants. `now` (ms, any monotonic clock)
   * starts a new FIFO generation when more than the message's fifoTimeout passed since the
   * last one began: later generations run after earlier ones (Dask's fifo_timeout).
   */
  updateGraph(client: string, msg: UpdateGraph, now?: number): void {
    if (now !== undefined && now > this.#generationAt + (msg.fifo ?? DEFAULT_FIFO_TIMEOUT)) {
      this.#generation++;
      this.#generationAt = now;
    }
    if (msg.functions) { for (const f of msg.functions) this.functions.set(f.h, f); }
    const fresh: TaskState[] = [];
    const toWait: TaskState[] = [];
    const known = this.clients.has(client);
    if (msg.plain) this.#addPlain(client, known, msg.plain, fresh, toWait);
    const plainCount = fresh.length;
    const specs: UpdateGraph["tasks"] = [];
    for (const spec of msg.tasks) {
      if (this.tasks.has(spec.k)) continue;
      // the function's hash string is shared with its definition, not one copy per task
      const fn = this.functions.get(spec.f)?.h ?? spec.f;
      const ts = new TaskState(spec.k, keyPrefix(spec.k), fn, spec.a, this.#slab);
      ts.rank = spec.p ? -spec.p : 0; // never -0: a double would box every task's rank
      ts.order = ++this.#seq;
      ts.generation = this.#generation;
      ts.retries = spec.r ?? 0;
      if (spec.w?.length) {
        ts.restrictions = new Set(spec.w);
        ts.loose = spec.lo === true;
      }
      // in-task (issue 4): resources; tasks submitted from a task run before its siblings
      if (spec.rs && Object.values(spec.rs).some((n) => n > 0)) {
        this.resourceNeeds.set(ts, spec.rs);
      }
      if (spec.ps !== undefined) {
        const parent = this.tasks.get(spec.ps);
        if (parent) ts.rank = subtaskRank(ts.rank, parent.rank);
      }
      this.addTask(ts);
      this.counts.released++;
      fresh.push(ts);
      specs.push(spec);
    }
    // linked once every new task exists: a dependency may come later in the same message
    for (let i = 0; i < specs.length; i++) {
      const ts = fresh[plainCount + i], spec = specs[i];
      this.#checkFunction(ts, spec.f);
      for (const dk of spec.d) this.#link(ts, dk);
    }
    for (const k of msg.wanted) {
      const ts = this.tasks.get(k);
      if (ts && known) this.#want(client, ts, toWait);
    }
    const broken: TaskState[] = [];
    const unneeded: TaskState[] = [];
    for (let i = 0; i < fresh.length; i++) {
      const ts = fresh[i];
      if (ts.exception && (this.needed(ts) || ts.dependents?.size)) {
        ts.blame = ts;
        broken.push(ts);
      } else if (!this.needed(ts)) unneeded.push(ts);
    }
    // applied last to first: errors first, so that nothing starts on top of a broken task
    this.recommend(unneeded, "forgotten");
    this.recommend(toWait, "waiting");
    this.recommend(broken, "erred");
    this.#lastOnlyDep = []; // the cache serves one message: it must not keep a task alive
    this.run();
  }

  /** Creates, links and wants the tasks of a `plain` block (their dependencies come first). */
  #addPlain(
    client: string,
    known: boolean,
    p: PlainTasks,
    fresh: TaskState[],
    toWait: TaskState[],
  ): void {
    const args = p.a.header;
    let start = 0, at = 0;
    for (let i = 0; i < p.k.length; i++) {
      const key = p.k[i], end = p.ae[i];
      const stop = at + (p.dc ? p.dc[i] : 0);
      let ts = this.tasks.get(key);
      if (ts === undefined) {
        const f = p.f[p.fi ? p.fi[i] : 0];
        ts = new TaskState(key, keyPrefix(key), this.functions.get(f)?.h ?? f, null);
        ts.setArgsRange(args, start, end, this.#slab);
        ts.order = ++this.#seq;
        ts.generation = this.#generation;
        this.addTask(ts);
        this.counts.released++;
        fresh.push(ts);
        this.#checkFunction(ts, f);
        for (; at < stop; at++) this.#link(ts, p.d[p.di![at]]);
      }
      at = stop;
      start = end;
      if (known) this.#want(client, ts, toWait);
    }
  }

  /** A task naming a function the client never sent errs. */
  #checkFunction(ts: TaskState, f: string): void {
    if (this.functions.has(f)) return;
    ts.exception = {
      name: "ProtocolError",
      message: `task ${ts.key} names function ${f}, which the client never sent`,
    };
  }

  /** Makes `ts` depend on the task under `dk` (a missing one makes it err). */
  #link(ts: TaskState, dk: string): void {
    const dep = this.tasks.get(dk);
    if (!dep) {
      ts.exception ??= {
        name: "CancelledError",
        message: `dependency ${dk} of ${ts.key} is not known to the scheduler ` +
          `(it was released or lost); submit it again`,
      };
      return;
    }
    if (dep.dependents?.has(ts)) return; // listed twice
    // A lone dependency's list is shared (frozen) by every task that has just it, as in a map
    // over one input; a second one makes a list of its own, sized exactly (an array grown by
    // push reserves room for 17).
    if (ts.deps.length === 0) ts.deps = this.#onlyDep(dep);
    else if (ts.deps.length === 1) ts.deps = [ts.deps[0], dep];
    else ts.deps.push(dep);
    (dep.dependents ??= new SmallSet()).add(ts);
  }

  /** `client` wants `ts`: told at once if it is done, else it waits (collected in `toWait`). */
  #want(client: string, ts: TaskState, toWait: TaskState[]): void {
    ts.addWant(client);
    if (ts.state === "memory") this.#tellInMemory(ts, client);
    else if (ts.state === "erred") this.tellErred(ts, client);
    else if (ts.state === "released" && !ts.exception) toWait.push(ts);
  }

  /** The shared, frozen `[dep]` (the last one made is reused). */
  #onlyDep(dep: TaskState): TaskState[] {
    if (this.#lastOnlyDep[0] !== dep) this.#lastOnlyDep = Object.freeze([dep]) as TaskState[];
    return this.#lastOnlyDep;
  }

  /** A client dropped its Futures for these keys. */
  releaseKeys(client: string, keys: string[]): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (!ts || !ts.hasWant(client)) continue;
      this.dropWant(ts, client);
    }
    this.run();
  }

  /** A client asks again where values are (it will fetch them from the workers). */
  requestValues(client: string, keys: string[]): void {
    for (const k of keys) {
      const ts = this.tasks.get(k);
      if (ts?.state === "memory") this.#tellInMemory(ts, client);
      else if (ts?.state === "erred") this.tellErred(ts, client);
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
    this.unassign(ts, ts.processingOn !== ws); // another worker ran it: the assignee stops
    const seconds = Math.max(0, (msg.stop - msg.start) / 1000);
    const old = this.durations.get(ts.prefix);
    this.durations.set(ts.prefix, old === undefined ? seconds : 0.5 * old + 0.5 * seconds);
    const oldSize = this.sizes.get(ts.prefix);
    this.sizes.set(ts.prefix, Math.max(msg.nbytes, 0.9 * (oldSize ?? 0)));
    ts.state = "memory";
    this.count("processing", "memory");
    this.tasksCompleted++;
    ts.nbytes = msg.nbytes;
    ts.whoHas = new SmallSet([ws]);
    ws.hasWhat.add(ts);
    ws.nbytes += msg.nbytes;
    if (ts.dependents) {
      for (const dts of ts.dependents) {
        if (dts.state === "waiting" && dts.deleteWaitingOn(ts) && dts.waitingOnCount === 0) {
          this.ready.push(dts);
        }
      }
    }
    this.dropWaiter(ts);
    for (const c of ts.wants()) this.#tellInMemory(ts, c, msg.v);
    if (ts.hasWant(FIRE_AND_FORGET)) this.dropWant(ts, FIRE_AND_FORGET); // i4-graph
    if (!this.needed(ts)) this.recs.push(ts, "released");
    this.slotsOpened.add(ws);
    this.run();
  }

  /** A worker's task raised. */
  taskErred(address: string, msg: TaskErred): void {
    const ts = this.tasks.get(msg.k);
    const ws = this.workers.get(address);
    if (!ts || !ws || ts.state !== "processing" || ts.processingOn !== ws) return;
    if (ts.retries > 0) {
      ts.retries--;
      this.stopProcessing(ts, false);
      this.recs.push(ts, "waiting");
    } else {
      this.unassign(ts, false);
      ts.exception = msg.e;
      ts.blame = ts;
      this.recs.push(ts, "erred");
    }
    this.run();
  }

  /** A worker's task seceded: it holds no slot and counts in no occupancy until it ends. */
  longRunning(address: string, k: string): void {
    const ts = this.tasks.get(k);
    const ws = this.workers.get(address);
    if (!ts || !ws || ts.state !== "processing" || ts.processingOn !== ws) return;
    if (ws.longRunning.has(ts)) return;
    ws.longRunning.add(ts);
    ws.occupancy = Math.max(0, ws.occupancy - ts.occupancyShare);
    ts.occupancyShare = 0;
    this.slotsOpened.add(ws);
    this.run();
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
        this.count("memory", "released");
        this.recs.push(dep, this.needed(dep) ? "waiting" : "forgotten");
      }
    }
    if (ts && ts.state === "processing" && ts.processingOn?.address === address) {
      this.stopProcessing(ts, true);
      this.recs.push(ts, "waiting");
    }
    this.run();
  }

  // ---------------------------------------------------------------- helpers

  /** A client dropped its interest in `ts`. */
  #tellInMemory(ts: TaskState, client: string, v?: TaskFinished["v"]): void {
    this.out.client(client, {
      op: "key-in-memory",
      k: ts.key,
      w: Array.from(ts.whoHas!, (w) => w.address),
      v,
    });
  }

  /**
   * `root` can never be computed again (lost scattered data): it and every dependent not
   * already in memory or erred are released, their clients get keys-cancelled, and they are
   * forgotten. Results already computed from it stay.
   */
  protected override cancel(root: TaskState, reason: string): void {
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
      if (ts.state !== "released") this.toReleased(ts);
      this.recs.push(ts, "forgotten");
    }
  }

  #notifyCancelled(ts: TaskState, reason: string): void {
    for (const c of ts.wants()) {
      this.out.client(c, { op: "keys-cancelled", keys: [ts.key], reason });
    }
    ts.clearWants();
  }
}

/** How much a submitted-from-a-task level raises priority: below any user priority step. */
const SUBTASK_STEP = 1 / 1024;

/**
 * The rank of a task submitted from inside the task of rank `parentRank` (Dask: a generation
 * before its parent's): its own user priority first, then one step ahead of its parent's level,
 * so it runs before its parent's siblings still waiting and before later submissions.
 */
export function subtaskRank(rank: number, parentRank: number): number {
  const parentLevel = Math.round((Math.round(parentRank) - parentRank) / SUBTASK_STEP);
  return rank - Math.min(parentLevel + 1, 511) * SUBTASK_STEP;
}
