/**
 * Functions shipped as source text: checking them on the client, compiling them on a worker.
 *
 * `checkFunctionSource` is browser-safe (no `Deno.*`, no `node:`, no eval); `compileFunction`
 * runs on a worker thread. A compiled function sees only globals: a name from its enclosing
 * scope on the client raises a ReferenceError when the task runs, which `scopeErrorFrom` turns
 * into a ScopeError that says what to do instead.
 *
 * A function compiled with the place it was submitted from (`site`, "file:///…/main.ts:12")
 * is named after that place in stack traces (its `sourceURL`), and its `import("./x.ts")`
 * resolves relative to that file (core/task_imports.ts).
 */
import { ScopeError } from "./errors.ts";
import { functionKind, label, methodError } from "./function_source.ts";
import { IMPORT_BINDING, resolveFrom, routeImports } from "./task_imports.ts";

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

/** The `sourceURL` scheme of compiled task functions submitted from an unknown place. */
export const TASK_SOURCE_SCHEME = "dtask-fn:";

/** The line of a compiled function's script where its source text begins. */
export const SOURCE_FIRST_LINE = 5;

/** A compiled task function. */
export type TaskFunction = (...args: unknown[]) => unknown;

/**
 * The `sourceURL` a function is compiled under, which its stack frames show: the place it was
 * submitted from ("file:///…/main.ts:12"), else `dtask-fn:<name>`.
 */
export function taskSourceUrl(name: string, site?: string): string {
  if (site && !/[\s()]/.test(site)) return site;
  return TASK_SOURCE_SCHEME + (encodeURIComponent(name) || "anonymous");
}

/** The file part of a site ("file:///…/main.ts:12" gives "file:///…/main.ts"). */
export function siteFile(site: string): string {
  return site.replace(/:\d+$/, "");
}

/**
 * Compiles a function shipped as source text, in strict mode, with the worker globals in
 * SHADOWED_GLOBALS bound to undefined, and named `name` if its source has no name of its own;
 * throws a SyntaxError/TypeError naming the function. `site`: where it was submitted from.
 */
export function compileFunction(
  name: string,
  source: string,
  bindings: Record<string, unknown> = {},
  site?: string,
): TaskFunction {
  if (functionKind(source) === "native") {
    throw new TypeError(`cannot compile function ${label(name)}: its source is [native code]`);
  }
  const url = taskSourceUrl(name, site);
  let factory: (...bound: unknown[]) => unknown;
  const routed = site ? routeImports(source) : null;
  if (routed !== null) {
    const base = siteFile(site!);
    bindings = {
      ...bindings,
      [IMPORT_BINDING]: (specifier: unknown, options?: ImportCallOptions) =>
        import(resolveFrom(specifier, base) as string, options),
    };
  }
  const names = Object.keys(bindings);
  // `({ [name]: (f) })[name]` names an anonymous f as the client knew it (stack frames show it).
  // Each part on its own line: the source starts at SOURCE_FIRST_LINE, column 1; the newline
  // before ")" ends a trailing line comment in the source.
  const key = JSON.stringify(name);
  const body = name
    ? `"use strict";\nreturn ({ [${key}]: (\n${routed ?? source}\n) })[${key}];`
    : `"use strict";\nreturn (\n${routed ?? source}\n);`;
  try {
    factory = new Function(
      ...SHADOWED_GLOBALS,
      ...names,
      `${body}\n//# sourceURL=${url}`,
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
function thrownByTask(e: Error, url: string | undefined): boolean {
  const stack = typeof e.stack === "string" ? e.stack : "";
  const frame = stack.split("\n").find((l) => /^\s+at /.test(l));
  return frame === undefined ||
    frame.includes(url === undefined ? TASK_SOURCE_SCHEME : `(${url}, <anonymous>:`);
}

/**
 * Turns a `ReferenceError: x is not defined` raised by a task function into a ScopeError that
 * names `x` and says what to do; any other error is returned unchanged. `url`: the function's
 * taskSourceUrl (default: any `dtask-fn:` one).
 */
export function scopeErrorFrom(e: unknown, fnName: string, url?: string): unknown {
  if (!(e instanceof ReferenceError)) return e;
  const m = /^(\S+) is not defined$/.exec(e.message);
  if (m === null || !thrownByTask(e, url)) return e;
  const err = new ScopeError(m[1], fnName, { cause: e });
  // Keep the task's frames: they say where the name was used.
  const frames = typeof e.stack === "string"
    ? e.stack.split("\n").filter((l) => /^\s+at /.test(l))
    : [];
  if (frames.length > 0) err.stack = `${err.name}: ${err.message}\n${frames.join("\n")}`;
  return err;
}
