/**
 * The value path of a Client: `gather` and a Future's value, waiting for keys to settle and
 * fetching values that did not come with their results straight from the workers.
 */
import { arrowMissed, decodeValue, loadArrow, type Payload } from "../comm/serialize.ts";
import { CancelledError } from "../core/errors.ts";
import { type Future, type KeyState, keyStateOf } from "./future.ts";
import { collectFutures, type Gathered, rebuild, SKIP } from "./gather.ts";
import type { ClientHost } from "./host.ts";
import { decodeFor, holdingHandles } from "./reviving_client.ts";

/** What `gather` does with erred Futures. */
export interface GatherOptions {
  /** "raise" (default): reject with the first error; "skip": leave erred Futures out. */
  errors?: "raise" | "skip";
}

/** `client.gather`: values of Futures, in the same structure. */
export async function gather<T>(
  host: ClientHost,
  futures: T,
  options: GatherOptions,
): Promise<Gathered<T>> {
  const found: Future[] = [];
  collectFutures(futures, found);
  const states = found.map(keyStateOf);
  const skip = options.errors === "skip";
  // like Dask, raising gathers stop at the first error instead of waiting for the rest
  await allSettled(states, !skip);
  if (!skip) {
    const bad = states.find((ks) => ks.settled && ks.status !== "finished");
    if (bad) throw bad.error ?? new CancelledError(`${bad.key} was ${bad.status}`);
  }
  await fetchMissing(host, states);
  for (const ks of states) {
    const arrow = ks.status === "finished" ? arrowFor(host, ks) : undefined;
    if (arrow) await arrow;
  }
  return rebuild(futures, (f) => {
    const ks = keyStateOf(f);
    if (ks.status === "finished") return decoded(host, ks);
    if (skip) return SKIP;
    throw ks.error ?? new CancelledError(`${ks.key} was ${ks.status}`);
  }) as Gathered<T>;
}

/** One key's value, once it settles (its error if it did otherwise than finish). */
export async function valueOf(host: ClientHost, ks: KeyState): Promise<unknown> {
  if (!ks.settled) await new Promise<void>((r) => ks.onSettled(r));
  if (ks.status !== "finished") {
    throw ks.error ?? new CancelledError(`${ks.key} was ${ks.status}`);
  }
  if (!ks.payload && !ks.decoded) await fetchMissing(host, [ks]);
  const arrow = arrowFor(host, ks);
  if (arrow) await arrow;
  return decoded(host, ks);
}

/**
 * Decodes a finished key's value now, when it can: a Promise only when the value holds an Arrow
 * Table and apache-arrow is not loaded here yet (it resolves once it is). Other errors are left
 * for `decoded` to throw where the value is used.
 */
function arrowFor(host: ClientHost, ks: KeyState): Promise<void> | undefined {
  try {
    decoded(host, ks);
  } catch {
    if (arrowMissed()) return loadArrow();
  }
  return undefined;
}

/**
 * Values holding handles that hold keys (an actor's handle), by key, kept weakly: kept with its
 * key, the hold would keep the key, and so itself, alive. Decoded again once collected.
 */
const holdingValues = new WeakMap<KeyState, WeakRef<object>>();

/** A finished key's value, decoded once (the handles in it belong to the host's Client). */
function decoded(host: ClientHost, ks: KeyState): unknown {
  if (ks.decoded) return ks.value;
  const kept = holdingValues.get(ks)?.deref();
  if (kept !== undefined) return kept;
  const holds = holdingHandles();
  const value = decodeFor(host.client, () => decodeValue(ks.payload!));
  if (holdingHandles() !== holds && typeof value === "object" && value !== null) {
    holdingValues.set(ks, new WeakRef(value));
    return value;
  }
  ks.value = value;
  ks.decoded = true;
  return value;
}

/** Resolves once every key settled, or (`stopOnError`) once one did otherwise than finished. */
function allSettled(states: KeyState[], stopOnError = false): Promise<void> {
  let left = 0;
  const { promise, resolve } = Promise.withResolvers<void>();
  const waiting: [KeyState, () => void][] = [];
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    for (const [ks, cb] of waiting) if (!ks.settled) ks.offSettled(cb);
    resolve();
  };
  for (const ks of states) {
    if (stopOnError && ks.settled && ks.status !== "finished") {
      finish();
      return promise;
    }
  }
  for (const ks of states) {
    if (!ks.settled) {
      left++;
      const cb = () => {
        if (--left === 0 || (stopOnError && ks.status !== "finished")) finish();
      };
      waiting.push([ks, cb]);
      ks.onSettled(cb);
    }
  }
  if (left === 0) finish();
  return promise;
}

/** Fetches values that did not come with their results, straight from the workers. */
async function fetchMissing(host: ClientHost, states: KeyState[]): Promise<void> {
  const byWorker = new Map<string, KeyState[]>();
  const seen = new Set<KeyState>(); // a key may be gathered through several Futures
  for (const ks of states) {
    if (ks.status !== "finished" || ks.payload || ks.decoded || seen.has(ks)) continue;
    const w = ks.holders[0];
    if (w === undefined) continue;
    seen.add(ks);
    let list = byWorker.get(w);
    if (!list) byWorker.set(w, list = []);
    list.push(ks);
  }
  await Promise.all([...byWorker].map(async ([w, list]) => {
    let values: Record<string, Payload> = {};
    try {
      values = await host.getData(w, list.map((ks) => ks.key));
    } catch { /* that worker is gone: ask the scheduler where else it is */ }
    const missing: KeyState[] = [];
    host.receive({ kind: "values-fetched", states: list, values, missing });
    if (missing.length) {
      await allSettled(missing);
      await fetchMissing(host, missing);
    }
  }));
}

/**
 * Values fetched from a worker (the actor's "values-fetched"): kept with their keys; the keys
 * it did not have go to `missing`, reset, and the scheduler is asked where else they are.
 */
export function fetched(
  host: ClientHost,
  states: KeyState[],
  values: Record<string, Payload>,
  missing: KeyState[],
): void {
  for (const ks of states) {
    const v = values[ks.key];
    if (v) ks.payload = v;
    else {
      ks.holders = ks.holders.slice(1);
      missing.push(ks);
    }
  }
  if (missing.length) {
    for (const ks of missing) ks.reset();
    host.requestValues(missing.map((ks) => ks.key));
  }
}
