/**
 * What workers report about their tasks: one finished (processing → memory, its dependents may
 * become ready), one raised (retried while retries last, else erred), one's thread died under
 * it (counted as a worker death: run again, or KilledWorker), one seceded (it holds no slot any
 * more), or an input could not be fetched from its holder. Pure: no I/O, no timers.
 */
import type { TaskErred, TaskFinished } from "../comm/protocol.ts";
import { SmallSet } from "./small_set.ts";
import {
  FIRE_AND_FORGET,
  type GraphState,
  type SchedulerExtension,
  type SchedulerOp,
} from "./graph_state.ts";
import type { Assignment } from "./assignment.ts";
import type { TransitionEngine } from "./transitions.ts";
import { countDeath } from "./killed_worker.ts";

/** The records the reports read and change. */
export type ReportRecords = Pick<
  GraphState,
  | "config"
  | "count"
  | "durations"
  | "needed"
  | "out"
  | "ready"
  | "sizes"
  | "slotsOpened"
  | "tasks"
  | "tasksCompleted"
  | "tellInMemory"
  | "workers"
>;

/** What the reports ask of the transition engine. */
export type ReportEngine = Pick<
  TransitionEngine,
  "dropWant" | "dropWaiter" | "recommendOne" | "run" | "stopProcessing"
>;

/** Applies workers' reports on tasks. */
export class WorkerReports implements SchedulerExtension {
  readonly handles: readonly SchedulerOp[] = [
    "task-finished",
    "task-erred",
    "task-crashed",
    "long-running",
    "missing-data",
  ];

  constructor(
    readonly records: ReportRecords,
    readonly engine: ReportEngine,
    readonly assignment: Pick<Assignment, "unassign">,
  ) {}

  /** A worker finished a task. */
  taskFinished(address: string, msg: TaskFinished): void {
    const g = this.records;
    const ws = g.workers.get(address);
    const ts = g.tasks.get(msg.k);
    if (!ws) return;
    if (!ts || (ts.state !== "processing" && ts.state !== "memory")) {
      g.out.worker(address, { op: "free-keys", keys: [msg.k] });
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
    this.assignment.unassign(ts, ts.processingOn !== ws); // another worker ran it: the assignee stops
    const seconds = Math.max(0, (msg.stop - msg.start) / 1000);
    const old = g.durations.get(ts.prefix);
    g.durations.set(ts.prefix, old === undefined ? seconds : 0.5 * old + 0.5 * seconds);
    const oldSize = g.sizes.get(ts.prefix);
    g.sizes.set(ts.prefix, Math.max(msg.nbytes, 0.9 * (oldSize ?? 0)));
    ts.state = "memory";
    g.count("processing", "memory", ts, address);
    g.tasksCompleted++;
    ts.nbytes = msg.nbytes;
    ts.whoHas = new SmallSet([ws]);
    ws.hasWhat.add(ts);
    ws.nbytes += msg.nbytes;
    if (ts.dependents) {
      for (const dts of ts.dependents) {
        if (dts.state === "waiting" && dts.deleteWaitingOn(ts) && dts.waitingOnCount === 0) {
          g.ready.push(dts);
        }
      }
    }
    const engine = this.engine;
    engine.dropWaiter(ts);
    for (const c of ts.wants()) g.tellInMemory(ts, c, msg.v);
    if (ts.hasWant(FIRE_AND_FORGET)) engine.dropWant(ts, FIRE_AND_FORGET);
    if (!g.needed(ts)) engine.recommendOne(ts, "released");
    g.slotsOpened.add(ws);
    engine.run();
  }

  /** A worker's task raised. */
  taskErred(address: string, msg: TaskErred): void {
    const g = this.records;
    const ts = g.tasks.get(msg.k);
    const ws = g.workers.get(address);
    if (!ts || !ws || ts.state !== "processing" || ts.processingOn !== ws) return;
    if (ts.retries > 0) {
      ts.retries--;
      this.engine.stopProcessing(ts, false);
      this.engine.recommendOne(ts, "waiting");
    } else {
      this.assignment.unassign(ts, false);
      ts.exception = msg.e;
      ts.blame = ts;
      this.engine.recommendOne(ts, "erred");
    }
    this.engine.run();
  }

  /**
   * A worker's thread died while task `k` ran there (`how`): as when a worker dies under a task,
   * it is suspicious; it runs again, or errs with KilledWorker past `allowedFailures`.
   */
  taskCrashed(address: string, k: string, how: string): void {
    const g = this.records;
    const ts = g.tasks.get(k);
    const ws = g.workers.get(address);
    if (!ts || !ws || ts.state !== "processing" || ts.processingOn !== ws) return;
    this.engine.stopProcessing(ts, false);
    if (countDeath(ts, address, how, g.config.allowedFailures)) {
      this.engine.recommendOne(ts, "erred");
    } else this.engine.recommendOne(ts, g.needed(ts) ? "waiting" : "forgotten");
    this.engine.run();
  }

  /** A worker's task seceded: it holds no slot and counts in no occupancy until it ends. */
  longRunning(address: string, k: string): void {
    const g = this.records;
    const ts = g.tasks.get(k);
    const ws = g.workers.get(address);
    if (!ts || !ws || ts.state !== "processing" || ts.processingOn !== ws) return;
    if (ws.longRunning.has(ts)) return;
    ws.longRunning.add(ts);
    ws.occupancy = Math.max(0, ws.occupancy - ts.occupancyShare);
    ts.occupancyShare = 0;
    g.slotsOpened.add(ws);
    this.engine.run();
  }

  /** A worker could not fetch `key` for task `k` from `holder`: run `k` again once `key` is back. */
  missingData(address: string, k: string, key: string, holder: string): void {
    const g = this.records;
    const ts = g.tasks.get(k);
    const dep = g.tasks.get(key);
    const bad = g.workers.get(holder);
    if (dep && bad && dep.whoHas?.delete(bad)) {
      bad.hasWhat.delete(dep);
      bad.nbytes -= dep.nbytes;
      if (dep.whoHas.size === 0) {
        dep.whoHas = null;
        dep.state = "released";
        g.count("memory", "released", dep);
        this.engine.recommendOne(dep, g.needed(dep) ? "waiting" : "forgotten");
      }
    }
    if (ts && ts.state === "processing" && ts.processingOn?.address === address) {
      this.engine.stopProcessing(ts, true);
      this.engine.recommendOne(ts, "waiting");
    }
    this.engine.run();
  }
}
