/**
 * HTML building blocks for notebook displays (`deno jupyter`'s `Symbol.for("Jupyter.display")`)
 * and reports: escaping, byte sizes, and the cluster summary table that a Client and a
 * LocalCluster both show. Pure string work: no I/O.
 * @module
 */
import { formatBytes } from "./format_bytes.ts";

/**
 * A MIME bundle, as `deno jupyter` displays it: what `[Symbol.for("Jupyter.display")]()` of a
 * Client, a LocalCluster or a Future returns.
 *
 * @example A Future's bundle
 * ```ts
 * import { Client, type DisplayBundle, LocalCluster } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 1 });
 * await using client = await Client.connect(cluster);
 * const future = client.submit((x: number) => x + 1, 1);
 * await future;
 * const shown = future as unknown as Record<symbol, () => DisplayBundle>;
 * const bundle = shown[Symbol.for("Jupyter.display")](); // what `deno jupyter` calls
 * console.log(bundle["text/plain"]); // <Future: finished, type: number, key: lambda-…>
 * ```
 */
export interface DisplayBundle {
  /** The rich form, shown by notebooks. */
  "text/html": string;
  /** The plain form, shown where HTML is not. */
  "text/plain": string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** `text` with `& < > " '` escaped: safe in element content and in quoted attributes. */
export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Whether `url` is an http(s) URL, so that it may be shown as a link. */
function isWebUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** What a cluster summary shows (counts are null when not known). */
export interface ClusterSummary {
  /** The heading: "Client", "LocalCluster". */
  title: string;
  /** Rows before the counts, e.g. the client's status. */
  extra?: [string, string][];
  schedulerAddress: string;
  dashboardLink: string | null;
  workers: number | null;
  threads: number | null;
  /** Total memory limit in bytes (0: no limit). */
  memoryLimit: number | null;
  /** A line under the table, e.g. how old the counts are. */
  note?: string;
}

/** Worker count, total threads and total memory limit of some workers. */
export function workerTotals(
  workers: Iterable<{ nthreads: number; memoryLimit: number }>,
): { workers: number; threads: number; memoryLimit: number } {
  let n = 0, threads = 0, memoryLimit = 0;
  for (const w of workers) {
    n++;
    threads += w.nthreads;
    memoryLimit += w.memoryLimit;
  }
  return { workers: n, threads, memoryLimit };
}

function memoryText(bytes: number | null): string {
  if (bytes === null) return "unknown";
  return bytes === 0 ? "no limit" : formatBytes(bytes);
}

/** The cluster summary as a MIME bundle: a small table in HTML, `key: value` lines in text. */
export function clusterSummaryBundle(s: ClusterSummary): DisplayBundle {
  const count = (n: number | null) => n === null ? "unknown" : String(n);
  const rows: [string, string, string?][] = [
    ...(s.extra ?? []),
    ["Scheduler", s.schedulerAddress],
    ["Dashboard", s.dashboardLink ?? "none", s.dashboardLink ?? undefined],
    ["Workers", count(s.workers)],
    ["Total threads", count(s.threads)],
    ["Total memory", memoryText(s.memoryLimit)],
  ];
  const cell = ([, text, link]: [string, string, string?]) =>
    link !== undefined && isWebUrl(link)
      ? `<a href="${escapeHtml(link)}" target="_blank">${escapeHtml(text)}</a>`
      : escapeHtml(text);
  const html = `<div class="dtask-summary"><h3 style="margin:0 0 4px">${
    escapeHtml(s.title)
  }</h3><table style="text-align:left">${
    rows.map((r) => `<tr><th>${escapeHtml(r[0])}</th><td>${cell(r)}</td></tr>`).join("")
  }</table>${
    s.note ? `<p style="margin:4px 0;font-size:smaller">${escapeHtml(s.note)}</p>` : ""
  }</div>`;
  const text = [s.title, ...rows.map(([k, v]) => `  ${k}: ${v}`)];
  if (s.note) text.push(`  (${s.note})`);
  return { "text/html": html, "text/plain": text.join("\n") };
}
