/**
 * Cancel, retry and fire-and-forget. Fire-and-forget: a task keeps running to
 * completion with no Future held, even after its client releases it or closes (Dask's
 * "fire-and-forget" pseudo-client wants it).
 */
import { CancelledError } from "../core/errors.ts";
import { Future, type KeyState, keyStateOf } from "./future.ts";
import { collectFutures } from "./gather.ts";
import type { ClientHost } from "./host.ts";

/** How `fireAndForget` reaches a Future's client. */
export const FIRE_AND_FORGET: unique symbol = Symbol("dtask.fireAndForget");

/** A client that can hand keys to the scheduler's fire-and-forget holder. */
export interface FireAndForgetHost {
  [FIRE_AND_FORGET](keys: string[]): void;
}

/** Futures inside `x`: a Future, an iterable of them, or arrays and plain objects of them. */
export function futuresIn(x: unknown): Future[] {
  const found: Future[] = [];
  if (x !== null && typeof x === "object" && !(x instanceof Future) && !Array.isArray(x)) {
    const it = (x as Partial<Iterable<unknown>>)[Symbol.iterator];
    if (typeof it === "function") x = [...(x as Iterable<unknown>)];
  }
  collectFutures(x, found);
  return found;
}

/** Runs the tasks of these Futures (and their dependencies) to completion, held or not. */
export function fireAndForget(futures: unknown): void {
  const byClient = new Map<FireAndForgetHost, string[]>();
  for (const f of futuresIn(futures)) {
    const host = f.client as unknown as FireAndForgetHost;
    if (typeof host?.[FIRE_AND_FORGET] !== "function") continue;
    let keys = byClient.get(host);
    if (!keys) byClient.set(host, keys = []);
    keys.push(f.key);
  }
  for (const [host, keys] of byClient) host[FIRE_AND_FORGET](keys);
}

/**
 * Cancels keys of this client: their Futures settle `cancelled`, the client forgets the keys
 * (a resubmit computes again), and the scheduler is told.
 */
export function cancelKeys(host: ClientHost, states: Iterable<KeyState>, force: boolean): void {
  const keys: string[] = [];
  for (const ks of states) {
    if (!host.dropKey(ks)) continue;
    keys.push(ks.key);
    ks.settle(
      "cancelled",
      new CancelledError(`${ks.key} was cancelled; submit it again to compute it`),
    );
  }
  if (keys.length && host.isOpen()) {
    host.send({ op: "cancel-keys", keys, force: force || undefined });
  }
}

/** Re-runs the erred keys of these Futures: they go back to pending until the new outcome. */
export function retryKeys(host: ClientHost, futures: Future<unknown>[]): void {
  host.checkOpen();
  const keys = new Set<string>();
  for (const f of futures) {
    const ks = keyStateOf(f);
    if (host.key(ks.key) !== ks) continue;
    if (ks.status === "error") {
      ks.reset();
      keys.add(ks.key);
    }
    if (keys.has(ks.key)) ks.strong?.push(f); // held until it settles again
  }
  if (keys.size === 0) return;
  host.send({ op: "retry-keys", keys: [...keys] });
  // a key recomputed meanwhile (as another key's erred dependency) is in memory already: the
  // scheduler says so now instead of never
  host.send({ op: "request-values", keys: [...keys] });
}
