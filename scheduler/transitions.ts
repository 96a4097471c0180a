/**
 * The scheduler's transition engine: the rules that move tasks between states (waiting,
 * processing, memory, released, erred, forgotten), driven by recommendations until they settle.
 * It operates on the records (graph_state.ts); where a ready task goes is asked of placement.ts and
 * of the queuing and resource policies, given to it by the composer (state.ts) behind the
 * interfaces below. No I/O, no timers, no awaiting.
 */
import { SmallSet } from "./small_set.ts";
import { FIRE_AND_FORGET, type GraphState } from "./graph_state.ts";
import { runsBefore, type TaskState, type TaskStateName, type WorkerState } from "./task_state.ts";
import { pickActorWorker, pickRootWorker, pickWorker, type Resources } from "./placement.ts";
import type { Assignment } from "./assignment.ts";
import { RecStack } from "./recommendations.ts";

/** The queuing policy, as the engine consults it (queuing.ts). */
export interface QueuingPolicy {
  /** Whether `ts` queues on the scheduler while every worker is full. */
  rootish(ts: TaskState): boolean;
  /** Root tasks a worker may hold per thread, for tasks like `ts`. */
  slotsFor(ts: TaskState): number;
  /** Hands queued root tasks to `ws` while it has free slots. */
  fill(ws: WorkerState): void;
}

/** The resource policy, as the engine consults it (resources.ts). */
export interface ResourcePolicy {
  /** Moves ready `ts`, which needs `need`, to processing, queued or no-worker. */
  place(ts: TaskState, need: Resources): void;
  /** Hands resource-queued tasks that fit `ws` to it. */
  fill(ws: WorkerState): void;
}

/** What the composer plugs into the engine. */
export interface EngineHooks {
  /** Scattered data `root` that no worker holds any more: it and its dependents are cancelled. */
  cancelLost(root: TaskState, reason: string): void;
}

/** The task graph's transitions; the stimuli that start them are in the extensions. */
export class TransitionEngine {
  readonly #recs: RecStack = new RecStack();

  constructor(
    readonly records: GraphState,
    readonly assignment: Pick<Assignment, "assign" | "unassign">,
    readonly queuing: QueuingPolicy,
    readonly resources: ResourcePolicy,
    readonly hooks: EngineHooks,
  ) {}

  /**
   * Applies recommendations until none are left; then places the tasks that became ready, by
   * priority (so a graph's tasks start in order, whichever path made them ready); then hands
   * queued root tasks to the workers whose slots may have opened (after ready dependents took
   * theirs: depth first).
   */
  run(): void {
    const recs = this.#recs, g = this.records;
    for (;;) {
      while (recs.length) {
        const to = recs.peekTo();
        const ts = recs.pop();
        if (ts.state === to || ts.state === "forgotten") continue;
        this.#transition(ts, to);
      }
      if (g.ready.length) {
        const ready = g.ready;
        g.ready = [];
        this.recommend(ready, "processing");
        continue;
      }
      if (g.slotsOpened.size === 0 && g.resourcesFreed.size === 0) return;
      const opened = [...g.slotsOpened];
      g.slotsOpened.clear();
      if (g.queued.size) { for (const ws of opened) this.queuing.fill(ws); }
      if (g.resourcesFreed.size) {
        const freed = [...g.resourcesFreed];
        g.resourcesFreed.clear();
        if (g.resourceQueued.size) { for (const ws of freed) this.resources.fill(ws); }
      }
    }
  }

  /** Queues recommendations so that the highest priority is applied first. */
  recommend(list: TaskState[], to: TaskStateName): void {
    let sorted = true; // usually already in order (submission order): no need to sort
    for (let i = 1; sorted && i < list.length; i++) {
      sorted = !runsBefore(list[i], list[i - 1]);
    }
    if (!sorted) list.sort((a, b) => runsBefore(a, b) ? -1 : a === b ? 0 : 1);
    for (let i = list.length - 1; i >= 0; i--) this.#recs.push(list[i], to);
  }

  /** Recommends moving one task to state `to` (applied on the next `run`). */
  recommendOne(ts: TaskState, to: TaskStateName): void {
    this.#recs.push(ts, to);
  }

  /**
   * Applies one recommendation, checked again: between the moment it was made and now, the
   * task may have become needed (or unneeded) again.
   */
  #transition(ts: TaskState, to: TaskStateName): void {
    switch (to) {
      case "waiting":
        if (ts.state !== "released") return;
        if (!this.records.needed(ts)) {
          this.#recs.push(ts, "forgotten");
          return;
        }
        if (!ts.hasArgs) {
          return this.hooks.cancelLost(
            ts,
            `${ts.key} is scattered data that no worker holds any more; ` +
              `scattered data cannot be recomputed`,
          );
        }
        return this.#toWaiting(ts);
      case "processing":
        if (!ts.hasArgs) return; // scattered data on its way: nothing to run
        if (ts.state === "waiting" || ts.state === "no-worker" || ts.state === "queued") {
          if (ts.waitingOnCount === 0 && this.#depsReady(ts)) this.#toProcessing(ts);
        }
        return;
      case "released":
        if (this.records.needed(ts)) return;
        return this.toReleased(ts);
      case "erred":
        return this.#toErred(ts);
      case "forgotten":
        if (this.records.needed(ts)) return;
        if (ts.state !== "released" && ts.state !== "erred") this.toReleased(ts);
        if (!ts.dependents?.size) this.#toForgotten(ts);
        return;
      case "memory":
      case "no-worker":
      case "queued":
        return; // reached only through #toProcessing and a worker's report
    }
  }

  #toWaiting(ts: TaskState): void {
    ts.state = "waiting";
    this.records.count("released", "waiting", ts);
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
      this.#recs.push(ts, "erred");
    } else if (ts.waitingOnCount === 0) this.records.ready.push(ts);
    else if (start) this.recommend(start, "waiting");
  }

  #toProcessing(ts: TaskState): void {
    const g = this.records;
    const from = ts.state;
    const need = g.resourceNeeds.size ? g.resourceNeeds.get(ts) : undefined;
    if (need) return this.resources.place(ts, need);
    // an actor never queues: it goes to the worker holding the fewest actors
    const actor = g.actors.size !== 0 && g.actors.has(ts);
    const root = !actor && this.queuing.rootish(ts);
    let ws: WorkerState | null = null;
    if (g.workers.size) {
      ws = actor
        ? pickActorWorker(ts, g.workers.values(), (w) => g.actors.countOn(w))
        : root
        ? pickRootWorker(g.workers.values(), this.queuing.slotsFor(ts))
        : pickWorker(ts, g.workers.values());
    }
    if (ws) {
      g.leaveReady(ts);
      return this.assignment.assign(ts, ws, from);
    }
    // root tasks queue while every worker is full; others wait for a worker that may run them
    const to = root && g.anyRunning() ? "queued" : "no-worker";
    if (from === to) return;
    g.leaveReady(ts);
    ts.state = to;
    g.count(from, to, ts);
    if (to === "queued") g.queued.push(ts);
    else g.unrunnable.add(ts);
  }

  /** processing → released outside the transitions (the worker dropped it already, or died). */
  stopProcessing(ts: TaskState, tell: boolean): void {
    this.assignment.unassign(ts, tell);
    ts.state = "released";
    this.records.count("processing", "released", ts);
    this.dropWaiter(ts);
  }

  /** Releases `ts` (from any state but forgotten): its worker or holders are told to drop it. */
  toReleased(ts: TaskState): void {
    const g = this.records;
    const from = ts.state;
    switch (from) {
      case "released":
      case "forgotten":
        return;
      case "processing":
        this.assignment.unassign(ts, true);
        break;
      case "memory":
        for (const ws of ts.whoHas!) {
          ws.hasWhat.delete(ts);
          ws.nbytes -= ts.nbytes;
          g.out.worker(ws.address, { op: "free-keys", keys: [ts.key] });
        }
        ts.whoHas = null;
        break;
      case "queued":
      case "no-worker":
        g.leaveReady(ts);
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
    g.count(from, "released", ts);
    if (from === "waiting" || from === "queued" || from === "no-worker" || from === "processing") {
      this.dropWaiter(ts);
    }
    if (g.needed(ts)) return;
    if (!ts.dependents?.size) this.#recs.push(ts, "forgotten");
  }

  #toErred(ts: TaskState): void {
    const g = this.records;
    const from = ts.state;
    if (from === "processing") this.assignment.unassign(ts, true);
    else if (from === "memory") {
      this.toReleased(ts);
      return this.#toErred(ts);
    }
    g.leaveReady(ts);
    ts.clearWaitingOn();
    ts.state = "erred";
    g.count(from, "erred", ts);
    this.dropWaiter(ts);
    if (ts.dependents) {
      for (const dts of ts.dependents) {
        if (dts.state === "memory" || dts.state === "erred") continue;
        if (dts.state === "released" && !g.needed(dts)) continue;
        dts.exception = ts.exception;
        dts.blame = ts.blame ?? ts;
        this.#recs.push(dts, "erred");
      }
    }
    for (const c of ts.wants()) g.tellErred(ts, c);
    if (ts.hasWant(FIRE_AND_FORGET)) this.dropWant(ts, FIRE_AND_FORGET);
  }

  #toForgotten(ts: TaskState): void {
    const g = this.records;
    g.removeTask(ts);
    g.recorder.transition(ts.key, ts.state, "forgotten");
    ts.state = "forgotten";
    for (const dep of ts.deps) {
      dep.dependents?.delete(ts);
      dep.waiters?.delete(ts);
      if (!g.needed(dep)) {
        if (dep.state === "memory") this.#recs.push(dep, "released");
        else if (!dep.dependents?.size) this.#recs.push(dep, "forgotten");
      }
    }
  }

  /** Checks every dependency is in memory; if one was lost meanwhile, waits for it again. */
  #depsReady(ts: TaskState): boolean {
    let ready = true;
    for (const dep of ts.deps) {
      if (dep.state === "memory") continue;
      ready = false;
      ts.addWaitingOn(dep);
      (dep.waiters ??= new SmallSet()).add(ts);
      if (dep.state === "released") this.#recs.push(dep, "waiting");
    }
    if (!ready && ts.state !== "waiting") {
      this.records.leaveReady(ts);
      this.records.count(ts.state, "waiting", ts);
      ts.state = "waiting";
    }
    return ready;
  }

  /** `client` no longer wants `ts`: released, or forgotten, once nothing else needs it. */
  dropWant(ts: TaskState, client: string): void {
    ts.deleteWant(client);
    if (this.records.needed(ts)) return;
    if (ts.state === "erred" || ts.state === "released") this.#recs.push(ts, "forgotten");
    else this.#recs.push(ts, "released");
  }

  /** `ts` no longer needs its dependencies' data: release those nobody else needs. */
  dropWaiter(ts: TaskState): void {
    for (const dep of ts.deps) {
      if (!dep.waiters?.delete(ts)) continue;
      if (this.records.needed(dep)) continue;
      if (dep.state !== "erred") this.#recs.push(dep, "released");
    }
  }
}
