/**
 * Replication and rebalancing decisions (pure: no I/O). The scheduler actor sends the
 * `acquire-replicas` requests a plan asks for; workers fetch the data from each other; their
 * replies come back through `addReplicas`, and a move's source copy goes with `removeReplicas`.
 */
import type { SchedulerState } from "./state.ts";
import type { TaskState, WorkerState } from "./task_state.ts";

/** Per recipient worker: key -> workers to fetch it from. */
export type AcquirePlan = Map<string, Record<string, string[]>>;

/** A key to move from one worker to another. */
export interface Move {
  key: string;
  from: string;
  to: string;
}

/**
 * Whether `ts` may be copied or moved: in memory, and not an actor (an actor's instance lives
 * on the worker that made it; its key must stay there, as it does from work stealing).
 */
function movable(state: SchedulerState, ts: TaskState): boolean {
  return ts.state === "memory" && ts.whoHas !== null && !state.actors.has(ts);
}

/** The movable tasks of `keys` (unknown keys, keys not in memory and actors are skipped). */
function inMemory(state: SchedulerState, keys: Iterable<string>): TaskState[] {
  const out: TaskState[] = [];
  for (const k of keys) {
    const ts = state.tasks.get(k);
    if (ts !== undefined && movable(state, ts)) out.push(ts);
  }
  return out;
}

/**
 * Dask's `replicate`: each key in memory ends up on `n` running workers (all when undefined,
 * at most all). Missing copies go to the workers holding the fewest bytes; surplus copies are
 * dropped from the workers holding the most (`free-keys` goes out at once). Returns the copies
 * to make.
 */
export function planReplicate(
  state: SchedulerState,
  keys: Iterable<string>,
  n?: number,
): AcquirePlan {
  // copies go only to running workers: a paused or closing one takes in nothing new
  const running = [...state.workers.values()].filter((ws) => ws.status === "running");
  const want = Math.min(n ?? running.length, running.length);
  const plan: AcquirePlan = new Map();
  // planned bytes per worker, so copies spread as they are planned
  const bytes = new Map<WorkerState, number>(running.map((ws) => [ws, ws.nbytes]));
  for (const ts of inMemory(state, keys)) {
    const holders = ts.whoHas!;
    if (holders.size < want) {
      const from = Array.from(holders, (w) => w.address);
      const free = running.filter((ws) => !holders.has(ws))
        .sort((a, b) => bytes.get(a)! - bytes.get(b)!);
      for (const ws of free.slice(0, want - holders.size)) {
        let who = plan.get(ws.address);
        if (!who) plan.set(ws.address, who = {});
        who[ts.key] = from;
        bytes.set(ws, bytes.get(ws)! + Math.max(ts.nbytes, 0));
      }
    } else if (holders.size > want && want >= 1) {
      const extra = [...holders].sort((a, b) => b.nbytes - a.nbytes).slice(0, holders.size - want);
      for (const ws of extra) removeReplicas(state, ws.address, [ts.key]);
    }
  }
  return plan;
}

/**
 * Dask's `rebalance`, simplified: moves keys (of `keys`, or all in memory) from workers holding
 * more bytes than the mean to workers holding less (the emptiest first), largest keys first,
 * while a move brings the two closer together and leaves the recipient at most at the mean. A
 * key never moves to a worker that holds it already.
 */
export function planRebalance(state: SchedulerState, keys?: Iterable<string>): Move[] {
  // a paused worker may give keys away but takes none in
  const running = [...state.workers.values()].filter((ws) => ws.status !== "closing");
  if (running.length < 2) return [];
  const only = keys === undefined ? null : new Set(inMemory(state, keys));
  const bytes = new Map<WorkerState, number>(running.map((ws) => [ws, ws.nbytes]));
  let total = 0;
  for (const b of bytes.values()) total += b;
  const mean = total / running.length;
  const moves: Move[] = [];
  const gained = new Map<WorkerState, Set<TaskState>>();
  const senders = running.filter((ws) => ws.nbytes > mean).sort((a, b) => b.nbytes - a.nbytes);
  for (const from of senders) {
    const candidates = [...from.hasWhat]
      .filter((ts) => movable(state, ts) && ts.nbytes > 0 && (only === null || only.has(ts)))
      .sort((a, b) => b.nbytes - a.nbytes);
    for (const ts of candidates) {
      if (bytes.get(from)! <= mean) break;
      let to: WorkerState | null = null;
      for (const ws of running) {
        if (ws === from || ws.status !== "running") continue;
        if (ts.whoHas!.has(ws) || gained.get(ws)?.has(ts)) continue;
        if (bytes.get(ws)! >= mean) continue;
        if (to === null || bytes.get(ws)! < bytes.get(to)!) to = ws;
      }
      // only a move that brings the two closer and leaves the recipient at most at the mean
      if (to === null) continue;
      const toBytes = bytes.get(to)!;
      if (ts.nbytes >= bytes.get(from)! - toBytes || toBytes + ts.nbytes > mean) continue;
      bytes.set(from, bytes.get(from)! - ts.nbytes);
      bytes.set(to, bytes.get(to)! + ts.nbytes);
      let g = gained.get(to);
      if (!g) gained.set(to, g = new Set());
      g.add(ts);
      moves.push({ key: ts.key, from: from.address, to: to.address });
    }
  }
  return moves;
}

/** A worker now holds these replicas: it joins their holders, or frees keys no longer wanted. */
export function addReplicas(state: SchedulerState, address: string, keys: string[]): void {
  const ws = state.workers.get(address);
  if (!ws) return;
  const unwanted: string[] = [];
  for (const k of keys) {
    const ts = state.tasks.get(k);
    if (ts?.state === "memory") {
      if (ts.whoHas!.has(ws)) continue;
      ts.whoHas!.add(ws);
      ws.hasWhat.add(ts);
      ws.nbytes += Math.max(ts.nbytes, 0);
    } else if (!(ts?.state === "processing" && ts.processingOn === ws)) unwanted.push(k);
  }
  if (unwanted.length) state.out.worker(address, { op: "free-keys", keys: unwanted });
}

/** Drops the copies of these keys on a worker, never the last copy of a key. */
export function removeReplicas(state: SchedulerState, address: string, keys: string[]): void {
  const ws = state.workers.get(address);
  if (!ws) return;
  const freed: string[] = [];
  for (const k of keys) {
    const ts = state.tasks.get(k);
    if (ts?.state !== "memory" || !ts.whoHas!.has(ws) || ts.whoHas!.size < 2) continue;
    ts.whoHas!.delete(ws);
    ws.hasWhat.delete(ts);
    ws.nbytes -= Math.max(ts.nbytes, 0);
    freed.push(k);
  }
  if (freed.length) state.out.worker(address, { op: "free-keys", keys: freed });
}
