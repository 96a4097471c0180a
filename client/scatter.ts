/**
 * Scatter: client data onto workers. The Futures come back at once; in the
 * background the scheduler plans where each value goes (`scatter` / `scatter-plan`), the
 * client sends the values straight to those workers (`put-data`, large buffers as frames), and
 * then tells the scheduler who got what (`update-data`). An Arrow Table scattered before
 * apache-arrow is loaded in the client gets a random key (its content cannot be hashed yet) and
 * its bytes once the import is done, before it is sent.
 */
import type { ScatterPlan } from "../comm/protocol.ts";
import { encodeValue, fillLateTables, type LateTable, type Payload } from "../comm/serialize.ts";
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
  const fresh: Fresh[] = [];
  const futures = items.map(([key, p, tables]) => {
    let ks = host.key(key);
    if (!ks) {
      ks = host.addKey(key);
      fresh.push([ks, p, tables]);
    }
    return host.future(ks);
  });
  // runs synchronously up to its first await: `scatter` goes out before later submissions
  if (fresh.length) void deliver(host, fresh, options);
  return shape(futures);
}

/** A key new to this client, its value, and the Arrow Tables still being written into it. */
type Fresh = [KeyState, Payload, Promise<void> | undefined];

/** A scattered value: its key, its encoding, and the Arrow Tables still being written into it. */
type Item = [string, Payload, Promise<void> | undefined];

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
): { items: Item[]; shape: <F>(fs: F[]) => unknown } {
  const late: LateTable[] = [];
  const one = (v: unknown, path: string): Item => {
    const p = encodeValue(v, { path, lateTables: late });
    if (late.length) {
      const tables = fillLateTables(p.frames, late.splice(0));
      tables.catch(() => {}); // awaited once the scheduler's plan is in
      return [randomKey(typeName(v)), p, tables];
    }
    const key = hash
      ? `${typeName(v)}-${hashBytes("dtask.scatter", p.header, ...p.frames)}`
      : randomKey(typeName(v));
    return [key, p, undefined];
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
  fresh: Fresh[],
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
  const unsent = await writeTables(host, fresh);
  const byWorker = new Map<string, Record<string, Payload>>();
  const nbytes: Record<string, number> = {};
  const who: Record<string, string[]> = {};
  for (const [ks, p] of fresh) {
    const to = plan.who[ks.key];
    if (!to) continue; // the scheduler has it already
    if (unsent.has(ks)) {
      who[ks.key] = [];
      continue;
    }
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

/** Waits for the Arrow Tables being written; the keys whose Tables failed are settled erred. */
async function writeTables(host: ClientHost, fresh: Fresh[]): Promise<Set<KeyState>> {
  const failed = new Set<KeyState>();
  for (const [ks, , tables] of fresh) {
    if (!tables) continue;
    try {
      await tables;
    } catch (e) {
      failed.add(ks);
      fail(host, ks, e as Error);
    }
  }
  return failed;
}
