/**
 * The workers page: one row per worker, its memory, its work and its health; each address links
 * to the worker's page (its log lines).
 */
import { esc, layout, table } from "./layout.ts";
import { formatBytes } from "../../core/format_bytes.ts";
import type { WorkerRow } from "./model.ts";
import { workerLink } from "./worker_page.ts";

/** Renders the workers page. */
export function workersPage(prefix: string, workers: readonly WorkerRow[]): string {
  const rows = workers.map((w) => [
    workerLink(prefix, w.address),
    esc(w.name),
    esc(w.nthreads),
    `${formatBytes(w.memory.rss)} / ${w.memoryLimit ? formatBytes(w.memoryLimit) : "no limit"}`,
    formatBytes(w.memory.managed),
    formatBytes(w.memory.unmanaged),
    formatBytes(w.memory.spilled),
    esc(w.processing),
    esc(w.stored),
    `${esc(w.cpu.toFixed(1))} %`,
    `${esc((w.lastSeen / 1000).toFixed(1))} s ago`,
    esc(w.status),
  ]);
  const body =
    `<p>${workers.length} workers, ${workers.reduce((n, w) => n + w.nthreads, 0)} threads</p>` +
    table([
      "address",
      "name",
      "threads",
      "memory / limit",
      "managed",
      "unmanaged",
      "spilled",
      "processing",
      "stored keys",
      "CPU",
      "last seen",
      "status",
    ], rows);
  return layout(prefix, "Workers", "/workers", body);
}
