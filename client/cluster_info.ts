/**
 * A Client's calls about the cluster's workers: scheduler info, who holds what, waiting for
 * workers, restarting and retiring them, and preloading modules on them.
 */
import type { WorkerInfo } from "../comm/protocol.ts";
import { CommClosedError, fromEnvelope, TimeoutError } from "../core/errors.ts";
import { Future } from "./future.ts";
import type { CallsClient } from "./cluster_calls.ts";
import { WORKERS_WAIT_TIMEOUT } from "../comm/timeouts.ts";

/** `client.schedulerInfo`: the scheduler's address and its workers. */
export async function schedulerInfo(
  c: CallsClient,
): Promise<{ address: string; workers: Record<string, WorkerInfo> }> {
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

/** `client.hasWhat`: keys held by each worker. */
export async function hasWhat(c: CallsClient): Promise<Record<string, string[]>> {
  const r = await c.ask({ op: "has-what", id: 0 });
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

/** `client.nthreads`: threads per worker, by address. */
export async function nthreads(c: CallsClient): Promise<Record<string, number>> {
  const info = await schedulerInfo(c);
  return Object.fromEntries(Object.entries(info.workers).map(([a, w]) => [a, w.nthreads]));
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

/** `client.retireWorkers`: stops workers gracefully, their data copied elsewhere first. */
export async function retireWorkers(
  c: CallsClient,
  addresses: string | Iterable<string>,
): Promise<void> {
  const r = await c.request({
    op: "retire-workers",
    id: 0,
    workers: typeof addresses === "string" ? [addresses] : [...addresses],
  });
  if (r.e) throw fromEnvelope(r.e);
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
