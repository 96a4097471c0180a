/**
 * Scattered data: values a client puts on workers itself. The scheduler plans where each goes,
 * records the workers that got it (`update-data`), and, since such data has no lineage to be
 * recomputed from, cancels it and its dependents when no worker holds it any more. Pure: no I/O,
 * no timers.
 */
import { keyPrefix } from "../core/keys.ts";
import { SmallSet } from "./small_set.ts";
import { TaskState, type WorkerState } from "./task_state.ts";
import type { GraphState, SchedulerExtension, SchedulerOp } from "./graph_state.ts";
import type { TransitionEngine } from "./transitions.ts";

/** Where each key of a scatter goes: key -> worker addresses (absent: already in memory). */
export type ScatterPlanResult = Record<string, string[]>;

/** The records scattering reads and changes. */
export type ScatterRecords = Pick<
  GraphState,
  | "addTask"
  | "clients"
  | "count"
  | "counts"
  | "needed"
  | "out"
  | "ready"
  | "tasks"
  | "tellInMemory"
  | "workers"
>;

/** What scattering asks of the transition engine. */
export type ScatterEngine = Pick<TransitionEngine, "recommendOne" | "run" | "toReleased">;

/** Scatter plans, their arrival, and the loss of scattered data. */
export class ScatteredData implements SchedulerExtension {
  readonly handles: readonly SchedulerOp[] = ["scatter", "update-data"];

  constructor(readonly records: ScatterRecords, readonly engine: ScatterEngine) {}

  /**
   * `client` scatters `keys`: it wants them from now on (tasks submitted after may depend on
   * them), and gets where to send each value: one worker (the one holding the fewest bytes per
   * thread, counting this plan), or every allowed worker with `broadcast`. Keys already in
   * memory are left out (the client is told `key-in-memory`). Null when no allowed worker is
   * connected yet.
   */
  scatterPlan(
    client: string,
    keys: string[],
    nbytes: number[],
    workers?: string[],
    broadcast = false,
  ): ScatterPlanResult | null {
    const g = this.records;
    const allow = workers?.length ? new Set(workers) : null;
    const cands: WorkerState[] = [];
    for (const ws of g.workers.values()) {
      if (ws.status !== "running") continue; // a paused or closing worker takes in nothing
      if (allow && !allow.has(ws.address) && !allow.has(ws.info.name)) continue;
      cands.push(ws);
    }
    if (cands.length === 0) return null;
    const known = g.clients.has(client);
    const load = new Map<WorkerState, number>();
    for (const ws of cands) load.set(ws, ws.nbytes / ws.info.nthreads);
    const plan: ScatterPlanResult = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      let ts = g.tasks.get(k);
      if (!ts) {
        ts = new TaskState(k, keyPrefix(k), "", null);
        ts.state = "waiting"; // until update-data says which workers got it
        g.addTask(ts);
      }
      if (known) ts.addWant(client);
      if (ts.state === "memory") {
        g.tellInMemory(ts, client);
        continue;
      }
      if (ts.hasArgs) continue; // a computed key of that name: it comes when computed
      if (broadcast) {
        plan[k] = cands.map((ws) => ws.address);
        continue;
      }
      let best = cands[0];
      for (const ws of cands) if (load.get(ws)! < load.get(best)!) best = ws;
      load.set(best, load.get(best)! + nbytes[i] / best.info.nthreads);
      plan[k] = [best.address];
    }
    return plan;
  }

  /**
   * Scattered values reached the workers in `who` (key -> addresses): they are in memory there.
   * A key that reached none is cancelled (it cannot be recomputed); a value nobody wants any
   * more is freed on the workers that got it.
   */
  updateData(who: Record<string, string[]>, nbytes: Record<string, number>): void {
    const g = this.records;
    for (const k in who) {
      const ts = g.tasks.get(k);
      const holders: WorkerState[] = [];
      for (const a of who[k]) {
        const ws = g.workers.get(a);
        if (ws) holders.push(ws);
      }
      if (!ts || ts.hasArgs) {
        for (const ws of holders) g.out.worker(ws.address, { op: "free-keys", keys: [k] });
        continue;
      }
      if (holders.length === 0) {
        if (ts.state !== "memory") {
          this.cancelLost(
            ts,
            `${k} was scattered but its value reached no worker; scatter it again`,
          );
        }
        continue;
      }
      const size = nbytes[k] ?? 0;
      if (ts.state === "memory") {
        for (const ws of holders) {
          if (ts.whoHas!.has(ws)) continue;
          ts.whoHas!.add(ws);
          ws.hasWhat.add(ts);
          ws.nbytes += ts.nbytes;
        }
        continue;
      }
      g.count(ts.state, "memory", ts);
      ts.state = "memory";
      ts.nbytes = size;
      ts.whoHas = new SmallSet();
      for (const ws of holders) {
        ts.whoHas.add(ws);
        ws.hasWhat.add(ts);
        ws.nbytes += size;
      }
      if (ts.dependents) {
        for (const dts of ts.dependents) {
          if (dts.state === "waiting" && dts.deleteWaitingOn(ts) && dts.waitingOnCount === 0) {
            g.ready.push(dts);
          }
        }
      }
      for (const c of ts.wants()) g.tellInMemory(ts, c);
      if (!g.needed(ts)) this.engine.recommendOne(ts, "released");
    }
    this.engine.run();
  }

  /**
   * `root` can never be computed again (lost scattered data): it and every dependent not
   * already in memory or erred are released, their clients get keys-cancelled, and they are
   * forgotten. Results already computed from it stay. The caller runs the engine.
   */
  cancelLost(root: TaskState, reason: string): void {
    const todo = [root];
    const seen = new Set(todo);
    while (todo.length) {
      const ts = todo.pop()!;
      for (const dts of ts.dependents ?? []) {
        if (dts.state === "memory" || dts.state === "erred" || seen.has(dts)) continue;
        seen.add(dts);
        todo.push(dts);
      }
      for (const c of ts.wants()) {
        this.records.out.client(c, { op: "keys-cancelled", keys: [ts.key], reason });
      }
      ts.clearWants();
      if (ts.state !== "released") this.engine.toReleased(ts);
      this.engine.recommendOne(ts, "forgotten");
    }
  }
}
