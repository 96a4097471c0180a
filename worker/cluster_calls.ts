/**
 * Cluster-wide calls on a worker (and, for `runOnScheduler`, on the scheduler): running a
 * shipped function outside the task graph, and fetching replicas of keys from their holders.
 */
import type { FunctionDef } from "../comm/protocol.ts";
import { decodeValue, encodeValue, type Payload } from "../comm/serialize.ts";
import { type ErrorEnvelope, toEnvelope } from "../comm/errors.ts";
import type { PeerPool } from "../comm/peer_pool.ts";
import { compileFunction, scopeErrorFrom, type TaskFunction } from "./compile.ts";

/** Compiled functions kept per runner; past this many the cache starts over. */
const MAX_CACHED = 1000;

/** Runs functions shipped as source text in this process (`client.run`, `runOnScheduler`). */
export class FunctionRunner {
  #cache = new Map<string, TaskFunction | Error>();

  /** Calls `fn(...args)` (awaiting a thenable result): its encoded value, or its error. */
  async run(fn: FunctionDef, args: Payload): Promise<{ v: Payload } | { e: ErrorEnvelope }> {
    try {
      let f = this.#cache.get(fn.h);
      if (f === undefined) {
        try {
          f = compileFunction(fn.n, fn.s);
        } catch (e) {
          f = e instanceof Error ? e : new Error(String(e));
        }
        if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
        this.#cache.set(fn.h, f);
      }
      if (f instanceof Error) throw f;
      const decoded = decodeValue(args);
      const result = await f(...(Array.isArray(decoded) ? decoded : [decoded]));
      return { v: encodeValue(result, { path: "the result" }) };
    } catch (e) {
      return { e: toEnvelope(scopeErrorFrom(e, fn.n)) };
    }
  }
}

/**
 * Fetches each key of `who` (key -> holders) from its holders, one holder after another, and
 * returns the values it got; keys no holder had (or no holder could serve) are left out.
 */
export async function fetchReplicas(
  peers: PeerPool,
  who: Record<string, string[]>,
): Promise<Record<string, Payload>> {
  const got: Record<string, Payload> = {};
  let todo = Object.keys(who);
  for (let round = 0; todo.length; round++) {
    const byHolder = new Map<string, string[]>();
    for (const k of todo) {
      const h = who[k][round];
      if (h === undefined) continue;
      let keys = byHolder.get(h);
      if (!keys) byHolder.set(h, keys = []);
      keys.push(k);
    }
    if (byHolder.size === 0) break;
    await Promise.all([...byHolder].map(async ([h, keys]) => {
      try {
        Object.assign(got, await peers.getData(h, keys));
      } catch { /* that holder is gone: the next one is tried */ }
    }));
    todo = todo.filter((k) => got[k] === undefined);
  }
  return got;
}
