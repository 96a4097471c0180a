/**
 * Retiring workers (Dask's `retire_workers`), the pure part: which workers a request names,
 * and where the keys that live only on them go before they stop. The scheduler actor sends the
 * `acquire-replicas` requests and closes the workers once their copies are registered.
 *
 * @module
 */
import type { SchedulerState } from "./state.ts";
import type { WorkerState } from "./task_state.ts";
import type { AcquirePlan } from "./replicas.ts";

/** The worker with this address, else the one with this name. */
export function workerNamed(
  state: Pick<SchedulerState, "workers">,
  name: string,
): WorkerState | undefined {
  const ws = state.workers.get(name);
  if (ws) return ws;
  for (const w of state.workers.values()) if (w.info.name === name) return w;
  return undefined;
}

/** The workers named by address or name (unknown names are skipped), each once. */
export function resolveWorkers(state: SchedulerState, names: Iterable<string>): WorkerState[] {
  const out = new Set<WorkerState>();
  for (const n of names) {
    const ws = workerNamed(state, n);
    if (ws) out.add(ws);
  }
  return [...out];
}

/**
 * Marks `leaving` as closing (nothing new is placed there) and plans a copy of every key held
 * only by them onto the remaining running workers, the emptiest first. Keys with no worker to
 * go to are left out (they will be recomputed or cancelled when the worker leaves).
 */
export function planRetire(state: SchedulerState, leaving: WorkerState[]): AcquirePlan {
  for (const ws of leaving) ws.status = "closing";
  const stay = [...state.workers.values()].filter((ws) => ws.status === "running");
  const plan: AcquirePlan = new Map();
  if (stay.length === 0) return plan;
  const bytes = new Map<WorkerState, number>(stay.map((ws) => [ws, ws.nbytes]));
  for (const ws of leaving) {
    for (const ts of ws.hasWhat) {
      if (ts.state !== "memory" || !ts.whoHas) continue;
      if ([...ts.whoHas].some((h) => h.status === "running")) continue; // a copy stays
      let to = stay[0];
      for (const c of stay) if (bytes.get(c)! < bytes.get(to)!) to = c;
      bytes.set(to, bytes.get(to)! + Math.max(ts.nbytes, 0));
      let who = plan.get(to.address);
      if (!who) plan.set(to.address, who = {});
      who[ts.key] = Array.from(ts.whoHas, (h) => h.address);
    }
  }
  return plan;
}
