/** What the scheduler shows the outside: a snapshot, and its Prometheus text form. */

/** One worker as the dashboard sees it. */
export interface WorkerView {
  /** Its address. */
  address: string;
  /** Its name. */
  name: string;
  /** Its thread slots. */
  nthreads: number;
  /** Bytes of memory it may use (0: no limit). */
  memoryLimit: number;
  /** Its memory: managed, unmanaged and spilled bytes, and its process memory (RSS). */
  memory: { managed: number; unmanaged: number; spilled: number; rss: number };
  /** Bytes it has written to disk by spilling, ever. */
  spillBytes: number;
  /** Seconds it has spent writing and reading spill files, ever. */
  spillSeconds: number;
  /** Tasks assigned to it and not finished. */
  processing: number;
  /** Keys whose values it holds. */
  stored: number;
  /** "running", "paused" (it starts no new task) or "closing" (it is leaving). */
  status: "running" | "paused" | "closing";
}

/** The parts of a worker's memory, each a sample of `dtask_worker_memory_bytes`. */
const MEMORY_TYPES = ["managed", "unmanaged", "spilled"] as const;

/** The statuses a worker may have, each a sample of `dtask_worker_status`. */
const WORKER_VIEW_STATUSES = ["running", "paused", "closing"] as const;

/** One semaphore as the metrics show it (Dask's `semaphore_*` metrics). */
export interface SemaphoreView {
  /** Its name. */
  name: string;
  /** How many leases it gives at once. */
  maxLeases: number;
  /** Leases held now. */
  activeLeases: number;
  /** Acquires waiting now. */
  pendingLeases: number;
  /** Acquire calls, ever. */
  acquireTotal: number;
  /** Leases given back, ever. */
  releaseTotal: number;
  /** Seconds a granted lease waited: a running average, (average + latest) / 2, as Dask's. */
  averagePendingLeaseTime: number;
}

/** A read-only snapshot of the cluster (`scheduler.view()`). */
export interface ClusterView {
  /** The scheduler's address. */
  address: string;
  /** Seconds since the scheduler started. */
  uptimeSeconds: number;
  /** Tasks the scheduler knows, by state ("waiting", "processing", "memory", …). */
  counts: Readonly<Record<string, number>>;
  /** Tasks that finished, ever. */
  tasksCompleted: number;
  /** Connected clients. */
  clients: number;
  /** The connected workers. */
  workers: WorkerView[];
  /** The semaphores the scheduler knows (none when absent). */
  semaphores?: SemaphoreView[];
}

/** Each semaphore metric: its name after `dtask_semaphore_`, type, help, and its field. */
const SEMAPHORE_METRICS: [string, string, string, keyof SemaphoreView][] = [
  ["max_leases", "gauge", "Maximum leases of each semaphore.", "maxLeases"],
  ["active_leases", "gauge", "Leases of each semaphore held now.", "activeLeases"],
  ["pending_leases", "gauge", "Acquires of each semaphore waiting now.", "pendingLeases"],
  ["acquire_total", "counter", "Acquire calls of each semaphore, ever.", "acquireTotal"],
  ["release_total", "counter", "Leases of each semaphore given back, ever.", "releaseTotal"],
  [
    "average_pending_lease_time_s",
    "gauge",
    "Seconds an acquire of each semaphore waited for its lease, averaged as (average + " +
    "latest) / 2.",
    "averagePendingLeaseTime",
  ],
];

function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Renders the snapshot as Prometheus text exposition (every metric prefixed `dtask_`). */
export function prometheusText(v: ClusterView): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP dtask_${name} ${help}`, `# TYPE dtask_${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`dtask_${name}${labels} ${value}`);
  };
  metric("workers", "gauge", "Number of connected workers.", [["", v.workers.length]]);
  metric("clients", "gauge", "Number of connected clients.", [["", v.clients]]);
  metric(
    "tasks",
    "gauge",
    "Number of tasks known to the scheduler, by state.",
    Object.entries(v.counts).filter(([s]) => s !== "forgotten").map((
      [s, n],
    ) => [`{state="${label(s)}"}`, n]),
  );
  metric("tasks_completed_total", "counter", "Tasks that finished, ever.", [[
    "",
    v.tasksCompleted,
  ]]);
  metric(
    "worker_memory_bytes",
    "gauge",
    "Each worker's memory: managed (values in memory), unmanaged (the rest of its process " +
      "memory) and spilled (values only on disk), in bytes.",
    v.workers.flatMap((w) =>
      MEMORY_TYPES.map((t): [string, number] => [
        `{worker="${label(w.address)}",type="${t}"}`,
        w.memory[t],
      ])
    ),
  );
  metric(
    "worker_spill_bytes_total",
    "counter",
    "Bytes each worker has written to disk by spilling.",
    v.workers.map((w) => [`{worker="${label(w.address)}"}`, w.spillBytes]),
  );
  metric(
    "worker_spill_seconds_total",
    "counter",
    "Seconds each worker has spent writing and reading spill files.",
    v.workers.map((w) => [`{worker="${label(w.address)}"}`, w.spillSeconds]),
  );
  metric(
    "worker_threads",
    "gauge",
    "Thread slots of each worker.",
    v.workers.map((w) => [`{worker="${label(w.address)}"}`, w.nthreads]),
  );
  metric(
    "worker_status",
    "gauge",
    "Each worker's status: 1 for the one it has (running, paused or closing), 0 for the others.",
    v.workers.flatMap((w) =>
      WORKER_VIEW_STATUSES.map((s): [string, number] => [
        `{worker="${label(w.address)}",status="${s}"}`,
        w.status === s ? 1 : 0,
      ])
    ),
  );
  metric("uptime_seconds", "gauge", "Seconds since the scheduler started.", [[
    "",
    v.uptimeSeconds,
  ]]);
  const semaphores = v.semaphores ?? [];
  if (semaphores.length > 0) {
    for (const [name, type, help, field] of SEMAPHORE_METRICS) {
      metric(
        `semaphore_${name}`,
        type,
        help,
        semaphores.map((s) => [`{name="${label(s.name)}"}`, s[field] as number]),
      );
    }
  }
  return lines.join("\n") + "\n";
}
