/**
 * Functions shipped as source text: checking them on the client, compiling them on a worker.
 *
 * `checkFunctionSource` is browser-safe (no `Deno.*`, no `node:`, no eval); `compileFunction`
 * runs on a worker thread. A compiled function sees only globals: a name from its enclosing
 * scope on the client raises a ReferenceError when the task runs, which `scopeErrorFrom` turns
 * into a ScopeError that says what to do instead.
 */
import { ScopeError } from "./errors.ts";
import { functionKind, label, methodError } from "./function_source.ts";

export {
  checkFunctionSource,
  type FunctionKind,
  functionKind,
  type Shippable,
} from "./function_source.ts";

/**
 * Worker globals a task function could bind by accident; bound to undefined in its scope.
 * (`bindings` of compileFunction add names bound to values: getWorker, getClient, ...)
 */
export const SHADOWED_GLOBALS: readonly string[] = [
  "name",
  "close",
  "postMessage",
  "self",
  "onmessage",
  "onerror",
];

/** The `sourceURL` scheme of compiled task functions (marks their stack frames). */
export const TASK_SOURCE_SCHEME = "dtask-fn:";

/** A compiled task function. */
export type TaskFunction = (...args: unknown[]) => unknown;

/**
 * Compiles a function shipped as source text, in strict mode, with the worker globals in
 * SHADOWED_GLOBALS bound to undefined; throws a SyntaxError/TypeError naming the function.
 */
export function compileFunction(
  name: string,
  source: string,
  bindings: Record<string, unknown> = {},
): TaskFunction {
  if (functionKind(source) === "native") {
    throw new TypeError(`cannot compile function ${label(name)}: its source is [native code]`);
  }
  const url = TASK_SOURCE_SCHEME + (encodeURIComponent(name) || "anonymous");
  let factory: (...bound: unknown[]) => unknown;
  const names = Object.keys(bindings);
  try {
    // The newline before ")" ends a trailing line comment in the source.
    factory = new Function(
      ...SHADOWED_GLOBALS,
      ...names,
      `"use strict";\nreturn (${source}\n);\n//# sourceURL=${url}`,
    ) as typeof factory;
  } catch (e) {
    if (functionKind(source) === "method") throw methodError(name, source, "compile");
    const msg = e instanceof Error ? e.message : String(e);
    throw new SyntaxError(`cannot compile function ${label(name)}: ${msg}`, { cause: e });
  }
  const fn = factory(...SHADOWED_GLOBALS.map(() => undefined), ...names.map((n) => bindings[n]));
  if (typeof fn !== "function") {
    throw new TypeError(`cannot compile function ${label(name)}: its source is not a function`);
  }
  return fn as TaskFunction;
}

/** Whether an error's innermost stack frame is in a compiled task function (true if unknown). */
function thrownByTask(e: Error): boolean {
  const stack = typeof e.stack === "string" ? e.stack : "";
  const frame = stack.split("\n").find((l) => /^\s+at /.test(l));
  return frame === undefined || frame.includes(TASK_SOURCE_SCHEME);
}

/**
 * Turns a `ReferenceError: x is not defined` raised by a task function into a ScopeError that
 * names `x` and says what to do; any other error is returned unchanged.
 */
export function scopeErrorFrom(e: unknown, fnName: string): unknown {
  if (!(e instanceof ReferenceError)) return e;
  const m = /^(\S+) is not defined$/.exec(e.message);
  if (m === null || !thrownByTask(e)) return e;
  const err = new ScopeError(m[1], fnName, { cause: e });
  // Keep the task's frames: they say where the name was used.
  const frames = typeof e.stack === "string"
    ? e.stack.split("\n").filter((l) => /^\s+at /.test(l))
    : [];
  if (frames.length > 0) err.stack = `${err.name}: ${err.message}\n${frames.join("\n")}`;
  return err;
}
