/** The scheduler as the dashboard and the metrics see it: a read-only snapshot. */
import type { ClusterView, SemaphoreView } from "../dashboard/metrics.ts";
import type { WorkerMemory } from "../comm/protocol.ts";
import type { SchedulerState } from "./state.ts";
import type { WorkerState } from "./task_state.ts";

/** A worker's memory as of its last heartbeat: managed, unmanaged (RSS minus managed), spilled. */
export function workerMemory(ws: WorkerState): WorkerMemory {
  return {
    managed: ws.memory,
    unmanaged: Math.max(0, ws.rss - ws.memory),
    spilled: ws.spilled,
    rss: ws.rss,
  };
}

/**
 * A snapshot of `state` for a scheduler at `address` started at `startedAt` (ms epoch), with
 * its semaphores.
 */
export function clusterView(
  state: SchedulerState,
  address: string,
  startedAt: number,
  semaphores: SemaphoreView[] = [],
): ClusterView {
  return {
    address,
    uptimeSeconds: (Date.now() - startedAt) / 1000,
    counts: state.counts,
    tasksCompleted: state.tasksCompleted,
    clients: state.clients.size,
    workers: Array.from(state.workers.values(), (ws) => ({
      address: ws.address,
      name: ws.info.name,
      nthreads: ws.info.nthreads,
      memoryLimit: ws.info.memoryLimit,
      memory: workerMemory(ws),
      spillBytes: ws.spillBytes,
      spillSeconds: ws.spillSeconds,
      processing: ws.processing.size,
      stored: ws.hasWhat.size,
      status: ws.status,
    })),
    semaphores,
  };
}
