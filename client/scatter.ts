/**
 * Scatter: client data onto workers. The Futures come back at once; in the
 * background the scheduler plans where each value goes (`scatter` / `scatter-plan`), the
 * client sends the values straight to those workers (`put-data`, large buffers as frames), and
 * then tells the scheduler who got what (`update-data`).
 */
import type { ScatterPlan } from "../comm/protocol.ts";
import { encodeValue, type Payload } from "../comm/serialize.ts";
import { hashBytes, randomKey } from "../core/keys.ts";
import { fromEnvelope } from "../core/errors.ts";
import type { KeyState } from "./future.ts";
import type { ClientHost } from "./host.ts";

/** Options of `client.scatter`. */
export interface ScatterOptions {
  /** Put a copy on every (allowed) worker. */
  broadcast?: boolean;
  /** Workers (addresses or names) that may hold the data. */
  workers?: string | string[];
  /** Keys from the content (default true: the same data gives the same key); false: random. */
  hash?: boolean;
  /** How long (ms) to wait for a worker when none is connected (default 30000). */
  timeout?: number;
}

/** client.scatter: see there. */
export function scatter(host: ClientHost, data: unknown, options: ScatterOptions): unknown {
  host.checkOpen();
  const { items, shape } = scatterItems(data, options.hash !== false);
  const fresh: [KeyState, Payload][] = [];
  const futures = items.map(([key, p]) => {
    let ks = host.key(key);
    if (!ks) {
      ks = host.addKey(key);
      fresh.push([ks, p]);
    }
    return host.future(ks);
  });
  // runs synchronously up to its first await: `scatter` goes out before later submissions
  if (fresh.length) void deliver(host, fresh, options);
  return shape(futures);
}

/** Settles a fresh key that could not be scattered, and forgets it. */
function fail(host: ClientHost, ks: KeyState, e: Error): void {
  host.dropKey(ks);
  if (!ks.settled) ks.settle("error", e);
}

/** Sends `update-data` unless the client closed meanwhile. */
function updateData(
  host: ClientHost,
  who: Record<string, string[]>,
  nbytes: Record<string, number>,
): void {
  if (host.isOpen()) host.send({ op: "update-data", who, nbytes });
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

/** A short type name for a value's key prefix, as Dask's `typename`. */
function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v !== "object") return typeof v;
  const name = (v as object).constructor?.name;
  return name && name !== "Object" ? name : "object";
}

/**
 * The keys and encoded values of `data`: one per element of an array, per property of a plain
 * object, else one. Keys come from the content (`hash`), not from property names (unlike
 * Dask), so scattering `{ y }` never collides with a task named "y". Returns them with a
 * function that rebuilds `data`'s shape from one result per key.
 */
export function scatterItems(
  data: unknown,
  hash: boolean,
): { items: [string, Payload][]; shape: <F>(fs: F[]) => unknown } {
  const one = (v: unknown, path: string): [string, Payload] => {
    const p = encodeValue(v, { path });
    const key = hash
      ? `${typeName(v)}-${hashBytes("dtask.scatter", p.header, ...p.frames)}`
      : randomKey(typeName(v));
    return [key, p];
  };
  if (Array.isArray(data)) {
    return { items: data.map((v, i) => one(v, `scatter data [${i}]`)), shape: (fs) => fs };
  }
  if (isPlainObject(data)) {
    const names = Object.keys(data);
    const items = names.map((n) => one(data[n], `scatter data .${n}`));
    return {
      items,
      shape: (fs) => Object.fromEntries(names.map((n, i) => [n, fs[i]])),
    };
  }
  return { items: [one(data, "scatter data")], shape: (fs) => fs[0] };
}

/** Sends the fresh keys' values where the scheduler says (in the background). */
async function deliver(
  host: ClientHost,
  fresh: [KeyState, Payload][],
  options: ScatterOptions,
): Promise<void> {
  const workers = options.workers === undefined
    ? undefined
    : typeof options.workers === "string"
    ? [options.workers]
    : [...options.workers];
  let plan: ScatterPlan;
  try {
    plan = await host.request({
      op: "scatter",
      id: 0,
      keys: fresh.map(([ks]) => ks.key),
      nbytes: fresh.map(([, p]) => p.nbytes),
      workers,
      broadcast: options.broadcast || undefined,
      timeout: options.timeout,
    });
  } catch (e) {
    for (const [ks] of fresh) fail(host, ks, e as Error);
    return;
  }
  if (plan.e) {
    const err = fromEnvelope(plan.e);
    for (const [ks] of fresh) fail(host, ks, err);
    updateData(host, Object.fromEntries(fresh.map(([ks]) => [ks.key, []])), {});
    return;
  }
  const byWorker = new Map<string, Record<string, Payload>>();
  const nbytes: Record<string, number> = {};
  const who: Record<string, string[]> = {};
  for (const [ks, p] of fresh) {
    const to = plan.who[ks.key];
    if (!to) continue; // the scheduler has it already
    nbytes[ks.key] = p.nbytes;
    who[ks.key] = [];
    for (const w of to) {
      let values = byWorker.get(w);
      if (!values) byWorker.set(w, values = {});
      values[ks.key] = p;
    }
  }
  await Promise.all([...byWorker].map(async ([w, values]) => {
    try {
      await host.putData(w, values);
      for (const k in values) who[k].push(w);
    } catch { /* that worker is gone: the key may have reached another, or none */ }
  }));
  if (Object.keys(who).length) updateData(host, who, nbytes);
}
