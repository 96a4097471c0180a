/**
 * A Client's calls about the cluster's workers: scheduler info, who holds what, waiting for
 * workers, restarting and retiring them, and preloading modules on them.
 */
import type { SchedulerWorkerEntry, WorkerInfo } from "../comm/protocol.ts";
import { CommClosedError, fromEnvelope, TimeoutError } from "../core/errors.ts";
import { Future } from "./future.ts";
import type { CallsClient } from "./cluster_calls.ts";
import { WORKERS_WAIT_TIMEOUT } from "../comm/timeouts.ts";

/** `client.schedulerInfo`: the scheduler's address and its workers. */
export async function schedulerInfo(
  c: CallsClient,
): Promise<{ address: string; workers: Record<string, SchedulerWorkerEntry> }> {
  const r = await c.ask({ op: "scheduler-info", id: 0 });
  return { address: r.address, workers: r.workers };
}

/** `client.whoHas`: workers holding each Future's value (all this client's keys by default). */
export async function whoHas(
  c: CallsClient,
  futures?: Iterable<Future> | Future,
): Promise<Record<string, string[]>> {
  const keys = futures === undefined
    ? c.heldKeys()
    : futures instanceof Future
    ? [futures.key]
    : Array.from(futures, (f) => f.key);
  const r = await c.ask({ op: "who-has", id: 0, keys });
  return r.whoHas;
}

/** Worker addresses or names, one or several, as a list (undefined stays undefined). */
function workerList(workers: string | Iterable<string> | undefined): string[] | undefined {
  if (workers === undefined) return undefined;
  const list = typeof workers === "string" ? [workers] : [...workers];
  if (!list.every((w) => typeof w === "string")) {
    throw new TypeError("workers are named by their address or name (strings)");
  }
  return list;
}

/** `client.hasWhat`: keys held by each worker (of `workers`, addresses or names, if given). */
export async function hasWhat(
  c: CallsClient,
  workers?: string | Iterable<string>,
): Promise<Record<string, string[]>> {
  const r = await c.ask({ op: "has-what", id: 0, workers: workerList(workers) });
  return r.hasWhat;
}

/** `client.waitForWorkers`: resolves once `n` workers are connected; TimeoutError after that. */
export async function waitForWorkers(
  c: CallsClient,
  n: number,
  options: { timeout?: number } = {},
): Promise<void> {
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`n must be a whole number, got ${n}`);
  const timeout = options.timeout ?? 2 ** 31 - 1;
  const r = await c.ask({
    op: "wait-for-workers",
    id: 0,
    n,
    timeout,
  });
  if (r.error !== undefined) {
    if (!/timed out/.test(r.error)) throw new CommClosedError(r.error);
    throw new TimeoutError(`only ${r.n} of ${n} workers arrived within ${timeout} ms`);
  }
}

/**
 * `client.nthreads`: threads per worker, by address (of `workers`, addresses or names, if
 * given; ones not connected are left out).
 */
export async function nthreads(
  c: CallsClient,
  workers?: string | Iterable<string>,
): Promise<Record<string, number>> {
  const wanted = workerList(workers);
  const all = Object.values((await schedulerInfo(c)).workers);
  const out: Record<string, number> = {};
  if (wanted === undefined) {
    for (const w of all) out[w.address] = w.nthreads;
    return out;
  }
  for (const name of wanted) {
    const w = all.find((w) => w.address === name) ?? all.find((w) => w.name === name);
    if (w) out[w.address] = w.nthreads;
  }
  return out;
}

/** `client.restart`: every worker restarts through its nanny; resolves once they are back. */
export async function restart(c: CallsClient, options: { timeout?: number } = {}): Promise<void> {
  const r = await c.request({
    op: "restart",
    id: 0,
    timeout: options.timeout ?? WORKERS_WAIT_TIMEOUT,
  });
  if (r.e) throw fromEnvelope(r.e);
}

/**
 * `client.retireWorkers`: stops workers gracefully, their data copied elsewhere first;
 * resolves with each retired worker's info by address.
 */
export async function retireWorkers(
  c: CallsClient,
  workers: string | Iterable<string>,
): Promise<Record<string, WorkerInfo>> {
  const r = await c.request({ op: "retire-workers", id: 0, workers: workerList(workers)! });
  if (r.e) throw fromEnvelope(r.e);
  return r.workers;
}

/** `client.preload`: every worker imports the module; resolves once the scheduler has it. */
export async function preload(c: CallsClient, moduleUrl: string | URL): Promise<void> {
  const url = String(moduleUrl);
  if (!URL.canParse(url)) {
    throw new TypeError(
      `preload needs an absolute module URL or import-map name, got ${JSON.stringify(url)}; ` +
        `resolve a path with import.meta.resolve(...)`,
    );
  }
  c.send({ op: "preload", urls: [url] });
  await schedulerInfo(c); // a round trip: the scheduler has handled it
}
