/**
 * Queuing, Dask's worker-saturation rule: root-ish tasks wait on the scheduler, by priority,
 * while every worker is full, and go to whichever worker frees a slot; other tasks never queue.
 * Tasks measured as tiny (and small in result) pipeline deeper, so the round trip to the worker
 * does not starve it.
 */
import type { GraphState } from "./graph_state.ts";
import { taskSlots } from "./placement.ts";
import type { TaskState, WorkerState } from "./task_state.ts";
import type { Assignment } from "./assignment.ts";
import type { QueuingPolicy } from "./transitions.ts";

/** Tasks shorter than this (s) and with results smaller than TINY_RESULT may pipeline deeper. */
export const TINY_TASK = 0.005;
/** Results (bytes) small enough for a tiny task to pipeline deeper. */
export const TINY_RESULT = 64 * 1024;
/** Seconds of tiny tasks kept in flight per thread. */
export const PIPELINE_SECONDS = 0.05;
/** The most tiny tasks a thread may hold. */
export const MAX_PIPELINE = 128;

/** The records queuing reads, and the queue it hands out from. */
export type QueuingRecords = Pick<
  GraphState,
  "config" | "durations" | "prefixCounts" | "queued" | "sizes" | "totalThreads" | "workers"
>;

/** The root-ish rule, the slots per thread, and the hand-out of queued root tasks. */
export class Queuing implements QueuingPolicy {
  constructor(
    readonly records: QueuingRecords,
    readonly assignment: Pick<Assignment, "assign">,
  ) {}

  /**
   * Whether a task is root-ish, so it queues on the scheduler while workers are saturated:
   * no dependencies, no restrictions, and its prefix has more tasks than twice the cluster's
   * threads (Dask's rule). A handful of tasks goes straight to the workers, whose ready heaps
   * then order them by priority, as in Dask.
   */
  rootish(ts: TaskState): boolean {
    const g = this.records;
    return ts.deps.length === 0 && ts.restrictions === null &&
      g.prefixCounts.get(ts.prefix)! > 2 * g.totalThreads;
  }

  /**
   * Root tasks a worker may hold per thread. Dask's worker-saturation protects memory from
   * root tasks running far ahead of their consumers; tasks measured as tiny (and small in
   * result) may pipeline deeper, so the round trip to the worker does not starve it.
   */
  slotsFor(ts: TaskState): number {
    const g = this.records;
    const sat = g.config.workerSaturation;
    const d = g.durations.get(ts.prefix);
    const size = g.sizes.get(ts.prefix);
    if (d === undefined || size === undefined || size > TINY_RESULT || d >= TINY_TASK) return sat;
    return Math.max(sat, Math.min(MAX_PIPELINE, PIPELINE_SECONDS / Math.max(d, 1e-5)));
  }

  /** Hands queued root tasks to `ws` while it has free slots. */
  fill(ws: WorkerState): void {
    const g = this.records;
    if (g.workers.get(ws.address) !== ws || ws.status !== "running") return;
    const queued = g.queued;
    while (queued.size) {
      const head = queued.peek()!;
      if (ws.busy >= taskSlots(ws, this.slotsFor(head))) return;
      queued.pop();
      this.assignment.assign(head, ws, "queued");
    }
  }
}
