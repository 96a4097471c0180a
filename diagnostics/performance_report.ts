/**
 * `performanceReport(path, fn)` (Dask's `performance_report`): runs `fn` and writes one
 * self-contained HTML page about that run: the task stream, compute time per task prefix, and
 * the workers' memory sampled from `schedulerInfo()` while it ran. Writes a file with Deno's
 * API, so it lives beside mod.ts, outside the browser-safe client.
 * @module
 */
import type { Client } from "../client/client.ts";
import { resolveClient } from "../client/primitive_client.ts";
import { pause } from "../core/backoff.ts";
import type { TaskStreamRecord } from "../client/cluster_calls.ts";
import denoJson from "../deno.json" with { type: "json" };
import { ioTotals, type MemorySample, prefixTotals, type ReportData } from "./report_data.ts";
import { reportHtml } from "./report_html.ts";

/**
 * Options of `performanceReport`.
 *
 * @example Sample memory every 100 ms
 * ```ts
 * import { Client, type PerformanceReportOptions } from "@x/dtask";
 *
 * declare const client: Client;
 * const options: PerformanceReportOptions = { client, sampleInterval: 100, title: "ETL run" };
 * ```
 */
export interface PerformanceReportOptions {
  /** The client whose cluster to record; default: the newest open client (`Client.current()`). */
  client?: Client;
  /** How often to sample the workers' memory (ms, default 250). */
  sampleInterval?: number;
  /** The page's title (default "dtask performance report"). */
  title?: string;
}

/** Asks the scheduler for its workers' memory every `interval` ms, one request at a time. */
class MemorySampler {
  readonly samples: MemorySample[] = [];
  error: unknown = null;
  readonly #stopped = new AbortController();
  readonly #loop: Promise<void>;

  constructor(readonly client: Client, readonly start: number, readonly interval: number) {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const stopped = this.#stopped.signal;
    while (!stopped.aborted) {
      await this.sample();
      if (this.error !== null) return;
      await pause(this.interval, stopped);
    }
  }

  /** Takes one sample (keeps the first error and stops sampling after it). */
  async sample(): Promise<void> {
    try {
      const info = await this.client.schedulerInfo();
      const workers: MemorySample["workers"] = {};
      for (const [addr, w] of Object.entries(info.workers)) {
        const m = w.memory ?? { managed: 0, unmanaged: 0, spilled: 0, rss: 0 };
        workers[addr] = { ...m, status: w.status ?? "running" };
      }
      this.samples.push({ t: Date.now() - this.start, workers });
    } catch (e) {
      this.error ??= e;
    }
  }

  /** Stops sampling; resolves once the request in flight has answered. */
  async stop(): Promise<void> {
    this.#stopped.abort();
    await this.#loop;
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * Runs `fn` and writes an HTML report of that run to `path` (Dask's `performance_report`):
 * the task stream, compute time per task prefix, and the workers' memory over time, with the
 * dtask version, date and duration. The page is one file that loads nothing from the
 * network. Resolves with `fn`'s result; when `fn` throws, the report is written anyway and
 * the error rethrown.
 *
 * @example Record a map and a reduction
 * ```ts
 * import { Client, LocalCluster, performanceReport } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 2 });
 * await using client = await Client.connect(cluster);
 * const total = await performanceReport("dtask-report.html", async () => {
 *   const squares = client.map((x: number) => x * x, [1, 2, 3, 4]);
 *   return await client.submit((xs: number[]) => xs.reduce((a, b) => a + b, 0), squares);
 * }, { client });
 * console.log(total); // 30; open dtask-report.html in a browser
 * ```
 */
export async function performanceReport<T>(
  path: string | URL,
  fn: () => T | Promise<T>,
  options: PerformanceReportOptions = {},
): Promise<Awaited<T>> {
  const client = resolveClient(options.client, "performanceReport");
  if (typeof fn !== "function") {
    throw new TypeError("performanceReport: the second argument must be the function to run");
  }
  const interval = options.sampleInterval ?? 250;
  if (!(interval > 0)) {
    throw new TypeError(`performanceReport: sampleInterval must be ms > 0, got ${interval}`);
  }
  const start = Date.now();
  const sampler = new MemorySampler(client, start, interval);
  let result: { ok: true; value: Awaited<T> } | { ok: false; error: unknown };
  try {
    result = { ok: true, value: await fn() };
  } catch (error) {
    result = { ok: false, error };
  }
  const stop = Date.now();
  await sampler.stop();
  const notes: string[] = [];
  if (!result.ok) notes.push(`The run threw ${describe(result.error)}`);
  if (sampler.error === null) await sampler.sample(); // the memory as the run ends
  if (sampler.error !== null) {
    notes.push(`Memory sampling stopped: ${describe(sampler.error)}`);
  }
  let tasks: TaskStreamRecord[] = [];
  try {
    tasks = (await client.getTaskStream({ start })).filter((t) =>
      t.startstops.some((s) => s.stop >= start)
    );
  } catch (e) {
    notes.push(`The task stream could not be fetched: ${describe(e)}`);
  }
  const data: ReportData = {
    title: options.title ?? "dtask performance report",
    version: denoJson.version,
    start,
    stop: tasks.reduce((m, t) => t.startstops.reduce((m, s) => Math.max(m, s.stop), m), stop),
    schedulerAddress: client.schedulerAddress,
    tasks,
    prefixes: prefixTotals(tasks),
    io: ioTotals(tasks),
    sampleInterval: interval,
    memory: sampler.samples,
    notes,
  };
  await Deno.writeTextFile(path, reportHtml(data));
  if (!result.ok) throw result.error;
  return result.value;
}
