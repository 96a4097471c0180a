/** A worker's page: what the scheduler knows of it, and its last log lines (as Dask's). */
import { esc, layout, table } from "./layout.ts";
import { formatBytes } from "../../core/format_bytes.ts";
import type { WorkerRow } from "./model.ts";

/** The link to worker `address`'s page. */
export function workerLink(prefix: string, address: string): string {
  return `<a href="${esc(`${prefix}/info/worker/${encodeURIComponent(address)}`)}"><code>${
    esc(address)
  }</code></a>`;
}

/**
 * Renders worker `w`'s page with its log `lines` (`[level, message]`, oldest first), or a note
 * when it did not answer in time (null).
 */
export function workerPage(
  prefix: string,
  w: WorkerRow,
  lines: readonly (readonly [string, string])[] | null,
): string {
  const rows: string[][] = [
    ["address", `<code>${esc(w.address)}</code>`],
    ["name", esc(w.name)],
    ["threads", esc(w.nthreads)],
    ["memory limit", w.memoryLimit ? formatBytes(w.memoryLimit) : "no limit"],
    ["process memory (RSS)", formatBytes(w.memory.rss)],
    ["managed", formatBytes(w.memory.managed)],
    ["unmanaged", formatBytes(w.memory.unmanaged)],
    ["spilled", formatBytes(w.memory.spilled)],
    ["processing", esc(w.processing)],
    ["stored keys", esc(w.stored)],
    ["CPU", `${esc(w.cpu.toFixed(1))} %`],
    ["last seen", `${esc((w.lastSeen / 1000).toFixed(1))} s ago`],
    ["status", esc(w.status)],
  ];
  const logs = lines === null
    ? `<p class="bad">The worker did not send its log lines within 5 s.</p>`
    : lines.length === 0
    ? `<p>No line logged yet.</p>`
    : table(
      ["level", "message"],
      lines.map(([level, message]) => [
        level === "INFO" ? esc(level) : `<span class="bad">${esc(level)}</span>`,
        `<code>${esc(message)}</code>`,
      ]),
    );
  const body = table(["", ""], rows.map(([k, v]) => [esc(k), v])) +
    `<h2 id="logs">Logs (${lines?.length ?? 0})</h2>${logs}`;
  return layout(prefix, `Worker ${w.address}`, "", body);
}

/** The page for an address that is no connected worker's. */
export function unknownWorkerPage(prefix: string, address: string): string {
  return layout(
    prefix,
    "Unknown worker",
    "",
    `<p>No worker <code>${esc(address)}</code> is connected to the scheduler: it left, or it ` +
      `never joined. The <a href="${esc(prefix + "/workers")}">workers page</a> lists those ` +
      `that are.</p>`,
  );
}
