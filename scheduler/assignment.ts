/**
 * A processing task's hold on its worker, the transition engine's bookkeeping: assigning a task
 * takes a slot there, adds its expected duration to the worker's occupancy, holds the resources it
 * needs, makes it a candidate for work stealing and sends `compute-task`; unassigning gives all of
 * that back. Reads and writes only the records (graph_state.ts).
 */
import type { ComputeTask, FunctionDef } from "../comm/protocol.ts";
import type { GraphState } from "./graph_state.ts";
import type { TaskState, TaskStateName, WorkerState } from "./task_state.ts";

/** The records an assignment reads and writes. */
export type AssignmentRecords = Pick<
  GraphState,
  | "actors"
  | "config"
  | "count"
  | "durations"
  | "functions"
  | "out"
  | "resourceNeeds"
  | "resourcesFreed"
  | "slotsOpened"
  | "stalledClients"
  | "stealsInFlight"
>;

/** Puts processing tasks on workers and takes them off. */
export class Assignment {
  constructor(readonly records: AssignmentRecords) {}

  /** `ts` (in state `from`) runs on `ws` from now on; the worker is told to compute it. */
  assign(ts: TaskState, ws: WorkerState, from: TaskStateName): void {
    const g = this.records;
    ts.state = "processing";
    g.count(from, "processing", ts, ws.address);
    ts.clearWaitingOn();
    ts.processingOn = ws;
    ws.processing.add(ts);
    ts.occupancyShare = g.durations.get(ts.prefix) ?? g.config.unknownDuration;
    ws.occupancy += ts.occupancyShare;
    const actor = g.actors.size !== 0 && g.actors.has(ts);
    // work stealing: root tasks under queuing go to whichever worker frees a slot; others may
    // move (not actors: they are placed to balance them)
    if (
      g.config.workStealing && !actor &&
      (ts.deps.length > 0 || ts.restrictions !== null || g.config.workerSaturation === Infinity)
    ) {
      ws.stealable.push(ts);
      if (ws.stealable.length > 2 * ws.processing.size + 64) ws.compactStealable();
    }
    const need = g.resourceNeeds.size ? g.resourceNeeds.get(ts) : undefined;
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
      fn = g.functions.get(ts.fn);
    }
    const msg: ComputeTask = {
      op: "compute-task",
      k: ts.key,
      f: ts.fn,
      fn,
      a: ts.args!,
      d: deps,
      p: ts.priority,
      r: this.#sendsValue(ts),
    };
    if (actor) msg.ac = true;
    g.out.worker(ws.address, msg);
  }

  /** Whether a client that wants `ts` takes its value with its completion message. */
  #sendsValue(ts: TaskState): boolean {
    const stalled = this.records.stalledClients;
    if (stalled.size === 0) return ts.wantCount > 0;
    for (const c of ts.wants()) if (!stalled.has(c)) return true;
    return false;
  }

  /**
   * Takes a processing task off its worker (whose slot may now take a queued task); tells the
   * worker to drop it when `tell`. The task's state is the caller's to change.
   */
  unassign(ts: TaskState, tell: boolean): void {
    const ws = ts.processingOn;
    if (!ws) return;
    const g = this.records;
    ws.processing.delete(ts);
    ws.longRunning.delete(ts);
    ws.occupancy = ws.processing.size ? Math.max(0, ws.occupancy - ts.occupancyShare) : 0;
    const need = g.resourceNeeds.size ? g.resourceNeeds.get(ts) : undefined;
    if (need && ws.usedResources) {
      for (const r in need) ws.usedResources[r] = Math.max(0, ws.usedResources[r] - need[r]);
      g.resourcesFreed.add(ws);
    }
    ts.processingOn = null;
    g.slotsOpened.add(ws);
    // a steal answered later finds nothing to move
    if (g.stealsInFlight.size) g.stealsInFlight.delete(ts);
    if (tell) g.out.worker(ws.address, { op: "free-keys", keys: [ts.key] });
  }
}
