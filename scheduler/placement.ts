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
 * Picks a worker for a task with dependencies or restrictions: among the holders of its inputs
 * that it may run on (or, when there are none, every worker it may run on), the earliest
 * estimated start: occupancy per thread plus the time to move the inputs it lacks. A loose
 * restriction that no running worker meets is ignored. Null when no worker may run it.
 * Iterates `workers` once.
 */
export function pickWorker(ts: TaskState, workers: Iterable<WorkerState>): WorkerState | null {
  const holders = new Set<WorkerState>();
  for (const dep of ts.deps) {
    if (dep.whoHas) {
      for (const ws of dep.whoHas) if (ws.status === "running") holders.add(ws);
    }
  }
  const candidates = new Set<WorkerState>();
  for (const ws of holders) if (allowed(ts, ws)) candidates.add(ws);
  if (candidates.size) return earliest(ts, candidates);
  const valid: WorkerState[] = [];
  const all: WorkerState[] | null = ts.loose ? [] : null;
  for (const ws of workers) {
    if (ws.status !== "running") continue;
    if (allowed(ts, ws)) valid.push(ws);
    all?.push(ws);
  }
  if (valid.length) return earliest(ts, valid);
  if (!all?.length) return null;
  return earliest(ts, holders.size ? holders : all);
}

/** The worker of `pool` where `ts` would start first (ties: the one holding fewer bytes). */
function earliest(ts: TaskState, pool: Iterable<WorkerState>): WorkerState | null {
  let best: WorkerState | null = null;
  let bestCost = Infinity;
  for (const ws of pool) {
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
