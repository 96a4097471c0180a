/**
 * What the dashboard reads from the scheduler, read-only: the live feed's source (the counts,
 * the per-prefix tallies, the workers, the task stream) and what the server-rendered pages show
 * (a worker's CPU and last heartbeat, a task's links, the erred tasks). The dashboard never
 * changes the scheduler's state.
 *
 * @module
 */
import type { FeedIdentity, FeedWorker } from "../dashboard/feed_protocol.ts";
import type { FeedSource } from "../dashboard/feed.ts";
import type { TaskInfo, WorkerRow } from "../dashboard/pages/model.ts";
import type { ClusterCalls } from "./cluster_calls.ts";
import type { Liveness } from "./liveness.ts";
import type { SchedulerState } from "./state.ts";
import { workerMemory } from "./view.ts";
import { FIRE_AND_FORGET } from "./graph_state.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The parts of the scheduler actor the dashboard reads. */
export interface DashboardReads {
  readonly state: SchedulerState;
  readonly calls: ClusterCalls;
  readonly liveness: Liveness;
  readonly identity: FeedIdentity;
}

/** Who the scheduler at `address` is: a fresh id, dtask's version, when it started. */
export function schedulerIdentity(address: string): FeedIdentity {
  return {
    address,
    id: `Scheduler-${crypto.randomUUID()}`,
    version: denoJson.version,
    started: Date.now(),
  };
}

/** The connected workers as the page shows them. */
export function feedWorkers(r: DashboardReads, now = performance.now()): FeedWorker[] {
  return Array.from(r.state.workers.values(), (ws) => ({
    address: ws.address,
    name: ws.info.name,
    nthreads: ws.info.nthreads,
    memoryLimit: ws.info.memoryLimit,
    memory: workerMemory(ws),
    status: ws.status,
    processing: ws.processing.size,
    stored: ws.hasWhat.size,
    lastSeen: Math.round(now - (r.liveness.lastSeen(ws.address) ?? now)),
  }));
}

/** The live feed's source. */
export function feedSource(r: DashboardReads): FeedSource {
  return {
    identity: r.identity,
    counts: () => withoutForgotten(r.state.counts),
    clients: () => r.state.clients.size,
    workers: () => feedWorkers(r),
    prefixes: r.state.prefixStates.byPrefix,
    stream: r.calls.taskStream,
  };
}

/** The workers page's rows: the feed's workers with their CPU use. */
export function workerRows(r: DashboardReads): WorkerRow[] {
  return feedWorkers(r).map((w) => ({ ...w, cpu: r.state.workers.get(w.address)?.cpu ?? 0 }));
}

/** What the scheduler knows of task `key`, or null when it knows no such task. */
export function taskInfo(r: DashboardReads, key: string): TaskInfo | null {
  const ts = r.state.tasks.get(key);
  if (!ts) return null;
  const exception = ts.exception;
  return {
    key,
    state: ts.state,
    prefix: ts.prefix,
    dependencies: ts.deps.map((d) => ({ key: d.key, state: d.state })),
    dependents: Array.from(ts.dependents ?? [], (d) => ({ key: d.key, state: d.state })),
    whoHas: Array.from(ts.whoHas ?? [], (ws) => ws.address),
    processingOn: ts.processingOn?.address ?? null,
    wantedBy: Array.from(ts.wants(), (c) => c === FIRE_AND_FORGET ? "fire-and-forget" : c),
    nbytes: ts.nbytes,
    error: exception ? { name: exception.name, message: exception.message } : null,
    blame: ts.blame?.key ?? null,
  };
}

function withoutForgotten(counts: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s in counts) if (s !== "forgotten") out[s] = counts[s];
  return out;
}
