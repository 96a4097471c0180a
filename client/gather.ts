/** Walking nested arrays and plain objects of Futures, for `gather`. */
import { Future } from "./future.ts";

/** The value structure `gather` returns for an input structure. */
export type Gathered<T> = T extends Future<infer V> ? V
  : T extends readonly unknown[] ? { [I in keyof T]: Gathered<T[I]> }
  : T extends Record<string, unknown> ? { [K in keyof T]: Gathered<T[K]> }
  : T;

/** Returned by a leaf function to leave that element out. */
export const SKIP: unique symbol = Symbol("skip");

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const p = Object.getPrototypeOf(x);
  return p === Object.prototype || p === null;
}

/** Collects every Future inside arrays and plain objects. */
export function collectFutures(x: unknown, out: Future[]): void {
  if (x instanceof Future) out.push(x);
  else if (Array.isArray(x)) { for (const v of x) collectFutures(v, out); }
  else if (isPlainObject(x)) { for (const v of Object.values(x)) collectFutures(v, out); }
}

/** Rebuilds the structure with each Future replaced by `leaf(future)` (SKIP drops it). */
export function rebuild(x: unknown, leaf: (f: Future) => unknown): unknown {
  if (x instanceof Future) return leaf(x);
  if (Array.isArray(x)) {
    const out: unknown[] = [];
    for (const v of x) {
      const r = rebuild(v, leaf);
      if (r !== SKIP) out.push(r);
    }
    return out;
  }
  if (isPlainObject(x)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      const r = rebuild(v, leaf);
      if (r !== SKIP) out[k] = r;
    }
    return out;
  }
  return x;
}
