/**
 * Fire-and-forget (i4-graph): a task keeps running to completion with no Future held, even
 * after its client releases it or closes (Dask's "fire-and-forget" pseudo-client wants it).
 */
import { Future } from "./future.ts";
import { collectFutures } from "./gather.ts";

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
    const host = f.client as FireAndForgetHost;
    if (typeof host?.[FIRE_AND_FORGET] !== "function") continue;
    let keys = byClient.get(host);
    if (!keys) byClient.set(host, keys = []);
    keys.push(f.key);
  }
  for (const [host, keys] of byClient) host[FIRE_AND_FORGET](keys);
}
