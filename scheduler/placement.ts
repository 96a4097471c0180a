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
    const n = ws.busy;
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

/**
 * Picks a worker for an actor task: among the running workers it may run on (any running one
 * when a loose restriction meets none), the one holding the fewest actors (`actorsOn`), then
 * the earliest estimated start, as Dask's worker_objective. Null when no worker may run it.
 */
export function pickActorWorker(
  ts: TaskState,
  workers: Iterable<WorkerState>,
  actorsOn: (ws: WorkerState) => number,
): WorkerState | null {
  const running = [...workers].filter((ws) => ws.status === "running");
  let pool = running.filter((ws) => allowed(ts, ws));
  if (pool.length === 0 && ts.loose) pool = running;
  let fewest = Infinity, least: WorkerState[] = [];
  for (const ws of pool) {
    const n = actorsOn(ws);
    if (n < fewest) [fewest, least] = [n, [ws]];
    else if (n === fewest) least.push(ws);
  }
  return earliest(ts, least);
}

// ---- resources

/** Resources a task needs, e.g. `{ GPU: 1 }`. */
export type Resources = Record<string, number>;

/** Whether `ws` has `need`: in total, or (with `free`) beyond what its processing tasks hold. */
export function hasResources(ws: WorkerState, need: Resources, free: boolean): boolean {
  const have = ws.info.resources;
  for (const r in need) {
    let n = have?.[r] ?? 0;
    if (free) n -= ws.usedResources?.[r] ?? 0;
    if (n + 1e-9 < need[r]) return false;
  }
  return true;
}

/**
 * For a task that needs resources: among the running workers it may run on with enough free
 * resources, the holders of its inputs first, then the earliest start (as pickWorker). Returns
 * "wait" when some such worker has enough in total but not free now, null when none has.
 */
export function pickResourceWorker(
  ts: TaskState,
  need: Resources,
  workers: Iterable<WorkerState>,
): WorkerState | "wait" | null {
  const fit: WorkerState[] = [];
  let wait = false;
  for (const ws of workers) {
    if (ws.status !== "running" || !(allowed(ts, ws) || ts.loose)) continue;
    if (!hasResources(ws, need, false)) continue;
    if (hasResources(ws, need, true)) fit.push(ws);
    else wait = true;
  }
  if (fit.length === 0) return wait ? "wait" : null;
  const holders = fit.filter((ws) => ts.deps.some((d) => d.whoHas?.has(ws)));
  return earliest(ts, holders.length ? holders : fit);
}

/** The worker of `pool` where `ts` would start first (ties: the one holding fewer bytes). */
function earliest(ts: TaskState, pool: Iterable<WorkerState>): WorkerState | null {
  let best: WorkerState | null = null;
  let bestCost = Infinity;
  for (const ws of pool) {
    let missing = 0;
    for (const dep of ts.deps) if (!dep.whoHas?.has(ws)) missing += Math.max(dep.nbytes, 0);
    const cost = ws.occupancy / ws.info.nthreads + missing / BANDWIDTH;
    // a tie between equally idle workers keeps to the first: a lone task at a time then finds
    // a warm thread, rather than alternating with whichever worker holds fewer bytes right now
    if (cost < bestCost || (cost === bestCost && best && ws.nbytes < best.nbytes && cost > 0)) {
      best = ws;
      bestCost = cost;
    }
  }
  return best;
}
