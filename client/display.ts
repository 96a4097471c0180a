/**
 * How a Client and a Future show themselves in a notebook (`deno jupyter` calls
 * `[Symbol.for("Jupyter.display")]()`), as Dask's widgets do. A display is synchronous, so a
 * Client shows what it already knows: the workers of the cluster object it connected to, or
 * else the last `schedulerInfo()` answer it got (and says how old that is). Browser-safe.
 * @module
 */
import {
  clusterSummaryBundle,
  type DisplayBundle,
  escapeHtml,
  workerTotals,
} from "../core/display_html.ts";

type WorkerCounts = { nthreads: number; memoryLimit: number };

/** A cluster object a Client connected through that can list its workers at once. */
interface WorkersNow {
  readonly workers: readonly WorkerCounts[];
}

const clusters = new WeakMap<object, WorkersNow>();
const lastInfo = new WeakMap<object, { workers: WorkerCounts[]; at: number }>();

/** Remembers the cluster object `client` connected through, if it lists its workers. */
export function rememberCluster(client: object, cluster: unknown): void {
  if (cluster === null || typeof cluster !== "object") return;
  try {
    if (Array.isArray((cluster as { workers?: unknown }).workers)) {
      clusters.set(client, cluster as WorkersNow);
    }
  } catch {
    // a cluster that cannot list its workers now: the client shows its last answer instead
  }
}

/** Remembers a `schedulerInfo()` answer, for the client's next display. */
export function rememberSchedulerInfo(
  client: object,
  info: { workers: Record<string, WorkerCounts> },
): void {
  lastInfo.set(client, { workers: Object.values(info.workers), at: Date.now() });
}

/** What a Client's display needs of it. */
export interface ClientFacts {
  readonly schedulerAddress: string;
  readonly dashboardLink: string | null;
  readonly status: string;
  readonly id: string;
}

function clusterWorkers(client: object): WorkerCounts[] | null {
  const cluster = clusters.get(client);
  if (!cluster) return null;
  try {
    return [...cluster.workers];
  } catch {
    return null; // e.g. the cluster closed
  }
}

/** A Client's notebook display: scheduler, dashboard link, workers, threads and memory. */
export function clientDisplay(client: ClientFacts): DisplayBundle {
  const extra: [string, string][] = [["Status", client.status], ["Client id", client.id]];
  const base = {
    title: "Client",
    extra,
    schedulerAddress: client.schedulerAddress,
    dashboardLink: client.dashboardLink,
  };
  const now = clusterWorkers(client);
  if (now) return clusterSummaryBundle({ ...base, ...workerTotals(now) });
  const last = lastInfo.get(client);
  if (last) {
    const age = Math.max(0, Math.round((Date.now() - last.at) / 1000));
    return clusterSummaryBundle({
      ...base,
      ...workerTotals(last.workers),
      note: `worker counts as of the last schedulerInfo() call, ${age} s ago`,
    });
  }
  return clusterSummaryBundle({
    ...base,
    workers: null,
    threads: null,
    memoryLimit: null,
    note: "worker counts not known yet: await client.schedulerInfo(), then display it again",
  });
}

/** The type of a value as a display shows it: `number`, `Array`, `Map`, `MyClass`, `null`. */
export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "Object";
}

const STATUS_COLORS: Record<string, string> = {
  pending: "gray",
  finished: "green",
  error: "red",
  cancelled: "orange",
  lost: "orange",
};

/** A Future's notebook display: its key, status and the type of its value when known. */
export function futureDisplay(key: string, status: string, type: string | null): DisplayBundle {
  const color = STATUS_COLORS[status] ?? "black";
  const html = `<strong>Future: ${escapeHtml(key)}</strong> <span style="color: ${color}">status: ${
    escapeHtml(status)
  }</span>${type === null ? "" : `, <span>type: ${escapeHtml(type)}</span>`}, key: ${
    escapeHtml(key)
  }`;
  const text = `<Future: ${status}${type === null ? "" : `, type: ${type}`}, key: ${key}>`;
  return { "text/html": html, "text/plain": text };
}
