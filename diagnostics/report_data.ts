/**
 * What a performance report holds, and how it is summed up: the task stream of the run (tasks,
 * transfers, spill writes and reads), the compute time per task prefix, the time and bytes per
 * I/O action, and the workers' memory sampled over time. Pure: the
 * recording is in performance_report.ts, the page in report_html.ts.
 * @module
 */
import { KIND_COLOURS, KIND_NAMES, prefixColour } from "../dashboard/assets/palette.js";
import type { TaskStreamAction, TaskStreamRecord } from "../client/cluster_calls.ts";
import { keyPrefix } from "../core/keys.ts";

/** One worker's memory and status in one sample (bytes). */
export interface WorkerMemorySample {
  managed: number;
  unmanaged: number;
  spilled: number;
  rss: number;
  status: string;
}

/** The workers' memory at one moment. */
export interface MemorySample {
  /** When (ms since the report started). */
  t: number;
  /** By worker address. */
  workers: Record<string, WorkerMemorySample>;
}

/** Compute time of one task prefix over the run. */
export interface PrefixTotals {
  prefix: string;
  count: number;
  erred: number;
  /** Sum of compute times (ms). */
  totalMs: number;
  meanMs: number;
  maxMs: number;
}

/** The time and bytes of one I/O action (transfer, disk-write, disk-read) over the run. */
export interface IoTotals {
  action: TaskStreamAction;
  count: number;
  bytes: number;
  /** Sum of their durations (ms). */
  totalMs: number;
}

/** The colours of the I/O actions: the dashboard's (dashboard/assets/palette.js). */
export const IO_COLOURS: Readonly<Record<string, string>> = Object.fromEntries(
  ["transfer", "disk-write", "disk-read"].map((a) => [a, KIND_COLOURS[KIND_NAMES.indexOf(a)]]),
);

/** Whether a record is a task's (not a worker's I/O). */
export function isCompute(t: TaskStreamRecord): boolean {
  return (t.action ?? "compute") === "compute";
}

/** Time and bytes per I/O action, in the order transfer, disk-write, disk-read. */
export function ioTotals(records: readonly TaskStreamRecord[]): IoTotals[] {
  const by = new Map<TaskStreamAction, IoTotals>();
  for (const action of ["transfer", "disk-write", "disk-read"] as const) {
    by.set(action, { action, count: 0, bytes: 0, totalMs: 0 });
  }
  for (const t of records) {
    const totals = by.get(t.action);
    if (!totals || t.action === "compute") continue;
    totals.count++;
    totals.bytes += t.nbytes ?? 0;
    totals.totalMs += t.startstops.reduce((n, s) => n + Math.max(0, s.stop - s.start), 0);
  }
  return [...by.values()].filter((t) => t.count > 0);
}

/** Everything a report shows; embedded in the page as JSON too. */
export interface ReportData {
  title: string;
  version: string;
  /** When the run started and stopped (ms since the epoch). */
  start: number;
  stop: number;
  schedulerAddress: string;
  /** Tasks that finished during the run, and the workers' transfers and spill I/O. */
  tasks: TaskStreamRecord[];
  prefixes: PrefixTotals[];
  /** The transfers and spill I/O summed up per action. */
  io: IoTotals[];
  /** The memory samples, every `sampleInterval` ms. */
  sampleInterval: number;
  memory: MemorySample[];
  /** What went wrong while recording (the run's own error, a failed call), if anything. */
  notes: string[];
}

/** Compute time per task prefix, the most time first. */
export function prefixTotals(tasks: readonly TaskStreamRecord[]): PrefixTotals[] {
  const byPrefix = new Map<string, PrefixTotals>();
  for (const t of tasks) {
    if (!isCompute(t)) continue;
    const prefix = keyPrefix(t.key);
    let p = byPrefix.get(prefix);
    if (!p) {
      byPrefix.set(prefix, p = { prefix, count: 0, erred: 0, totalMs: 0, meanMs: 0, maxMs: 0 });
    }
    const ms = t.startstops.reduce((n, s) => n + Math.max(0, s.stop - s.start), 0);
    p.count++;
    if (t.status !== "OK") p.erred++;
    p.totalMs += ms;
    p.maxMs = Math.max(p.maxMs, ms);
  }
  const out = [...byPrefix.values()];
  for (const p of out) p.meanMs = p.totalMs / p.count;
  return out.sort((a, b) => b.totalMs - a.totalMs || a.prefix.localeCompare(b.prefix));
}

/** A task prefix's colour: the one the dashboard gives it (dashboard/assets/palette.js). */
export function prefixColor(prefix: string): string {
  return prefixColour(prefix);
}

/** A number of ms as text: `850 µs`, `12.3 ms`, `4.56 s`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
