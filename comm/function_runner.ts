/**
 * Runs a function shipped as source text outside the task graph, in this process: `client.run`
 * on a worker, `runOnScheduler` on the scheduler.
 */
import type { FunctionDef } from "./protocol.ts";
import { decodeValueAsync, encodeValueSoon, type Payload } from "./serialize.ts";
import { type ErrorEnvelope, toEnvelope } from "../core/errors.ts";
import { compileFunction, scopeErrorFrom, type TaskFunction } from "../core/compile.ts";

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
      const decoded = await decodeValueAsync(args);
      const result = await f(...(Array.isArray(decoded) ? decoded : [decoded]));
      return { v: await encodeValueSoon(result, { path: "the result" }) };
    } catch (e) {
      return { e: toEnvelope(scopeErrorFrom(e, fn.n)) };
    }
  }
}
