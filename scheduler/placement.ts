/** Where a ready task runs: data locality first, then the earliest estimated start. */
import type { TaskState, WorkerState } from "./task_state.ts";

/** Bytes per second assumed between workers when estimating transfer cost. */
export const BANDWIDTH = 100e6;

/** How many tasks `ws` may hold before root tasks queue (Dask's worker-saturation rule). */
export function taskSlots(ws: WorkerState, saturation: number): number {
  if (!Number.isFinite(saturation)) return Infinity;
  return Math.max(Math.ceil(saturation * ws.info.nthreads), 1);
}

/** Whether `ws` satisfies the task's worker restrictions (by address or name). */
export function allowed(ts: TaskState, ws: WorkerState): boolean {
  const r = ts.restrictions;
  return r === null || r.has(ws.address) || r.has(ws.info.name);
}

/**
 * Picks the least busy running worker with a free slot for a root task, or null when every
 * worker is full (the task then queues). Workers are few; this scans them.
 */
export function pickRootWorker(
  workers: Iterable<WorkerState>,
  saturation: number,
): WorkerState | null {
  let best: WorkerState | null = null;
  let bestLoad = Infinity;
  for (const ws of workers) {
    if (ws.status !== "running") continue;
    const n = ws.processing.size;
    if (n >= taskSlots(ws, saturation)) continue;
    const load = Number.isFinite(saturation)
      ? n / ws.info.nthreads
      : ws.occupancy / ws.info.nthreads;
    if (load < bestLoad) {
      best = ws;
      bestLoad = load;
    }
  }
  return best;
}

/**
 * Picks a worker for a task with dependencies: among the holders of its inputs (or every
 * worker when none is running), the earliest estimated start: occupancy per thread plus
 * the time to move the inputs it lacks.
 */
export function pickWorker(ts: TaskState, workers: Iterable<WorkerState>): WorkerState | null {
  const candidates = new Set<WorkerState>();
  for (const dep of ts.deps) {
    if (dep.whoHas) {
      for (const ws of dep.whoHas) if (ws.status === "running") candidates.add(ws);
    }
  }
  const pool: Iterable<WorkerState> = candidates.size ? candidates : workers;
  let best: WorkerState | null = null;
  let bestCost = Infinity;
  for (const ws of pool) {
    if (ws.status !== "running") continue;
    let missing = 0;
    for (const dep of ts.deps) if (!dep.whoHas?.has(ws)) missing += Math.max(dep.nbytes, 0);
    const cost = ws.occupancy / ws.info.nthreads + missing / BANDWIDTH;
    if (cost < bestCost || (cost === bestCost && best && ws.nbytes < best.nbytes)) {
      best = ws;
      bestCost = cost;
    }
  }
  return best;
}
