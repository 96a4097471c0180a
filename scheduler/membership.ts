/**
 * Cluster membership: workers and clients joining and leaving. A worker that leaves takes its
 * processing tasks (rescheduled, or erred with KilledWorker once too many workers died running
 * them) and its data (recomputed from lineage, or cancelled when it was scattered) with it; a
 * client that leaves releases what it wanted; a restart cancels every client's keys. Pure: no
 * I/O, no timers.
 */
import type { WorkerInfo } from "../comm/protocol.ts";
import { type TaskState, WorkerState } from "./task_state.ts";
import type { GraphState, SchedulerExtension, SchedulerOp } from "./graph_state.ts";
import type { ResourceQueue } from "./resources.ts";
import type { TransitionEngine } from "./transitions.ts";
import { killedWorker } from "./killed_worker.ts";
import type { ActorSupervisor } from "./actor_supervision.ts";

/** The records membership reads and changes. */
export type MembershipRecords = Pick<
  GraphState,
  | "clients"
  | "config"
  | "count"
  | "needed"
  | "out"
  | "ready"
  | "recorder"
  | "resourceQueued"
  | "resourcesFreed"
  | "slotsOpened"
  | "stalledClients"
  | "tasks"
  | "totalThreads"
  | "unrunnable"
  | "workers"
>;

/** What membership asks of the transition engine. */
export type MembershipEngine = Pick<
  TransitionEngine,
  "dropWant" | "recommend" | "recommendOne" | "run" | "stopProcessing"
>;

/** Where lost scattered data goes (scattered_data.ts). */
export interface LostDataHandler {
  /** Cancels `root`, scattered data no worker holds any more, and its dependents. */
  cancelLost(root: TaskState, reason: string): void;
}

/** Workers and clients coming and going. */
export class Membership implements SchedulerExtension {
  /** Workers and clients join and leave with their connections, not by a message. */
  readonly handles: readonly SchedulerOp[] = [];

  constructor(
    readonly records: MembershipRecords,
    readonly engine: MembershipEngine,
    readonly resources: Pick<ResourceQueue, "requeue">,
    readonly lostData: LostDataHandler,
    readonly actors: ActorSupervisor,
  ) {}

  /** A worker joined. */
  addWorker(info: WorkerInfo): void {
    const g = this.records;
    if (g.workers.has(info.address)) {
      this.removeWorker(info.address, "a new worker registered at the same address");
    }
    const ws = new WorkerState(info);
    g.workers.set(info.address, ws);
    g.totalThreads += info.nthreads;
    g.out.event("workers", `added ${info.address} (${info.name}, ${info.nthreads} threads)`);
    g.recorder.workerEvent(info.address, info.name, "added", `${info.nthreads} threads`);
    for (const ts of g.unrunnable) g.ready.push(ts);
    g.slotsOpened.add(ws);
    if (info.resources) g.resourcesFreed.add(ws); // resource-queued tasks may fit it
    this.engine.run();
  }

  /**
   * A worker paused (it starts no new task, e.g. under memory pressure) or runs again. Nothing
   * new is placed on a paused worker; what it processes stays. Once it runs again, work waiting
   * for a worker flows to it, as to a worker that joins. Returns whether the status changed (a
   * closing worker stays closing).
   */
  setWorkerStatus(address: string, status: "running" | "paused"): boolean {
    const g = this.records;
    const ws = g.workers.get(address);
    if (!ws || ws.status === "closing" || ws.status === status) return false;
    ws.status = status;
    g.out.event("workers", `${address} is ${status}`);
    g.recorder.workerEvent(address, ws.info.name, status);
    if (status === "running") {
      for (const ts of g.unrunnable) g.ready.push(ts);
      g.slotsOpened.add(ws);
      if (ws.info.resources) g.resourcesFreed.add(ws);
      this.engine.run();
    }
    return true;
  }

  /** A worker left (connection closed, timed out, or retired when `expected`). */
  removeWorker(address: string, reason: string, expected = false): void {
    const g = this.records;
    const ws = g.workers.get(address);
    if (!ws) return;
    g.workers.delete(address);
    g.totalThreads -= ws.info.nthreads;
    g.out.event("workers", `removed ${address}: ${reason}`);
    g.recorder.workerEvent(address, ws.info.name, "removed", reason);
    const again: TaskState[] = [];
    for (const ts of [...ws.processing]) {
      this.engine.stopProcessing(ts, false);
      if (!expected) {
        ts.suspicious++;
        ts.lastDeadWorker = address;
      }
      if (ts.suspicious > g.config.allowedFailures) {
        ts.exception = killedWorker(ts, address, reason);
        ts.blame = ts;
        this.engine.recommendOne(ts, "erred");
      } else again.push(ts);
    }
    // actors first: re-created elsewhere or erred, never recomputed as lost data
    this.actors.workerRemoved(ws, reason);
    const scattered: TaskState[] = [];
    let lostComputed = 0;
    for (const ts of ws.hasWhat) {
      ts.whoHas!.delete(ws);
      if (ts.whoHas!.size > 0) continue;
      ts.whoHas = null;
      ts.state = "released";
      g.count("memory", "released", ts);
      if (!ts.hasArgs) scattered.push(ts);
      else {
        lostComputed++;
        again.push(ts);
      }
    }
    ws.hasWhat.clear();
    g.slotsOpened.delete(ws);
    g.resourcesFreed.delete(ws);
    if (g.resourceQueued.size) this.resources.requeue(); // perhaps nobody can run them now
    for (const ts of scattered) {
      this.lostData.cancelLost(
        ts,
        `${ts.key} was scattered data that lived only on ${address}, which was lost ` +
          `(${reason}); scattered data cannot be recomputed`,
      );
    }
    // still needed: computed again from its lineage; otherwise forgotten
    this.engine.recommend(again.filter((ts) => !g.needed(ts)), "forgotten");
    this.engine.recommend(again.filter((ts) => g.needed(ts)), "waiting");
    if (lostComputed || scattered.length) {
      g.out.event(
        "workers",
        `lost ${lostComputed} computed and ${scattered.length} scattered keys with ${address}`,
      );
    }
    this.engine.run();
  }

  /** client.restart(): every key any client wants is cancelled (keys-cancelled) and released. */
  cancelAll(reason: string): void {
    const g = this.records;
    const byClient = new Map<string, string[]>();
    for (const ts of g.tasks.values()) {
      for (const c of ts.wants()) {
        const keys = byClient.get(c);
        if (keys) keys.push(ts.key);
        else byClient.set(c, [ts.key]);
      }
    }
    for (const [client, keys] of byClient) {
      g.out.client(client, { op: "keys-cancelled", keys, reason });
      for (const k of keys) {
        const ts = g.tasks.get(k);
        if (ts && ts.hasWant(client)) this.engine.dropWant(ts, client);
      }
      this.engine.run();
    }
  }

  /** A client connected. */
  addClient(id: string): void {
    this.records.clients.add(id);
  }

  /**
   * A client stopped reading (`stalled`: its queue passed a bound), or caught up again: while
   * stalled, its results stay on the workers and it fetches them from there.
   */
  clientStalled(id: string, stalled: boolean): void {
    const g = this.records;
    if (stalled && g.clients.has(id)) g.stalledClients.add(id);
    else g.stalledClients.delete(id);
  }

  /** A client left: everything it wanted is released. */
  removeClient(id: string): void {
    const g = this.records;
    g.stalledClients.delete(id);
    if (!g.clients.delete(id)) return;
    for (const ts of g.tasks.values()) {
      if (ts.hasWant(id)) this.engine.dropWant(ts, id);
    }
    this.engine.run();
  }
}
