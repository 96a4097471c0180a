/**
 * Tasks that need resources (`{ GPU: 1 }`, Dask's worker resources): they run only where enough is
 * free. While a worker that has enough in total is busy they queue, by priority, and the queue is
 * looked at when a worker's resources free up or a worker joins; while no running worker has
 * enough at all they are no-worker. Ordinary tasks never pay for any of this.
 */
import type { GraphState } from "./graph_state.ts";
import { allowed, hasResources, pickResourceWorker, type Resources } from "./placement.ts";
import type { TaskState, WorkerState } from "./task_state.ts";
import type { Assignment } from "./assignment.ts";
import type { ResourcePolicy } from "./transitions.ts";

/** The records the resource policy reads, and the queues it keeps. */
export type ResourceRecords = Pick<
  GraphState,
  | "count"
  | "leaveReady"
  | "ready"
  | "resourceNeeds"
  | "resourceQueued"
  | "unrunnable"
  | "workers"
>;

/** Places tasks that need resources, and hands queued ones to workers that free some. */
export class ResourceQueue implements ResourcePolicy {
  constructor(
    readonly records: ResourceRecords,
    readonly assignment: Pick<Assignment, "assign">,
  ) {}

  /**
   * A ready task that needs `need` runs where it is free; it queues while a worker that has it
   * in total is busy, and is no-worker while no running worker has it at all.
   */
  place(ts: TaskState, need: Resources): void {
    const g = this.records;
    const from = ts.state;
    const ws = pickResourceWorker(ts, need, g.workers.values());
    if (ws !== null && ws !== "wait") {
      g.leaveReady(ts);
      return this.assignment.assign(ts, ws, from);
    }
    const to = ws === "wait" ? "queued" : "no-worker";
    if (from === to) return;
    g.leaveReady(ts);
    ts.state = to;
    g.count(from, to, ts);
    if (to === "queued") g.resourceQueued.push(ts);
    else g.unrunnable.add(ts);
  }

  /** Hands resource-queued tasks that fit `ws` to it, by priority, while it has room. */
  fill(ws: WorkerState): void {
    const g = this.records;
    if (g.workers.get(ws.address) !== ws || ws.status !== "running" || !anyFree(ws)) return;
    const skipped: TaskState[] = [];
    while (g.resourceQueued.size) {
      const ts = g.resourceQueued.pop()!;
      const need = g.resourceNeeds.get(ts)!;
      if ((allowed(ts, ws) || ts.loose) && hasResources(ws, need, true)) {
        this.assignment.assign(ts, ws, "queued");
        if (!anyFree(ws)) break;
      } else skipped.push(ts);
    }
    for (const ts of skipped) g.resourceQueued.push(ts);
  }

  /** Resource-queued tasks look again for a worker (one that could run them left). */
  requeue(): void {
    const g = this.records;
    for (const ts of [...g.resourceQueued.values()]) g.ready.push(ts);
  }
}

/** Whether any resource of `ws` has some amount left free. */
function anyFree(ws: WorkerState): boolean {
  const have = ws.info.resources;
  for (const r in have) if (have[r] - (ws.usedResources?.[r] ?? 0) > 1e-9) return true;
  return false;
}
