/**
 * What a worker thread runs for a task: its function — compiled once per hash, or the export
 * of a preloaded module with the same name and source — and its arguments, decoded with each
 * dependency decoded once.
 *
 * @module
 */
import { decodeValue, Payload } from "../comm/serialize.ts";
import type { WireTask } from "../comm/protocol/worker_thread.ts";
import { compileFunction, type TaskFunction, taskSourceUrl } from "../core/compile.ts";

/** A task's function as its errors name it: its name, and the `sourceURL` it was compiled under. */
export interface TaskLabel {
  name: string;
  /** Absent for a preloaded export (its frames are its module's). */
  url?: string;
}

/** A function by hash: compiled (or preloaded), or the error compiling it gave. */
type Entry = TaskLabel & { source: string } & ({ fn: TaskFunction } | { error: unknown });

/** What the function table tells its thread. */
export interface FunctionEvents {
  /** A preload failed (reported as a stray error). */
  onPreloadError(e: Error): void;
  /** The last preload in progress finished: tasks may run. */
  onPreloaded(): void;
}

/** A thread's task functions, by hash, and the preloaded modules' exports. */
export class TaskFunctions {
  #fns = new Map<string, Entry>();
  /** Exports of preloaded modules that are functions, by name. */
  #exports = new Map<string, ((...args: unknown[]) => unknown)[]>();
  /** Preloads being imported: tasks wait for them. */
  #preloading = 0;

  /** `bindings`: the names a task function compiled from a source may use without importing them. */
  constructor(
    readonly bindings: (source: string) => Record<string, unknown>,
    readonly events: FunctionEvents,
  ) {}

  /** Whether preloads are being imported (tasks wait for them). */
  get preloading(): boolean {
    return this.#preloading > 0;
  }

  /** Imports modules whose exports a task function may turn out to be. */
  preload(urls: string[]): void {
    for (const url of urls) {
      this.#preloading++;
      import(url).then(
        (mod: Record<string, unknown>) => this.#addExports(mod),
        (e) => {
          const why = e instanceof Error ? e.message : String(e);
          this.events.onPreloadError(new Error(`preload ${url} failed: ${why}`, { cause: e }));
        },
      ).finally(() => {
        if (--this.#preloading === 0) this.events.onPreloaded();
      });
    }
  }

  /** Task `t`'s function, compiled the first time its hash comes (with its source). */
  get(t: WireTask): TaskLabel & ({ fn: TaskFunction } | { error: unknown }) {
    let entry = this.#fns.get(t.h);
    if (entry === undefined) {
      const name = t.n ?? "";
      if (t.s === undefined) {
        // Not cached: a later task with the source may still compile it.
        return { error: new Error(`function ${t.h} was never sent to this thread`), name };
      }
      const exported = this.#preloaded(name, t.s);
      if (exported) entry = { fn: exported, name, source: t.s };
      else {
        const url = taskSourceUrl(name, t.u);
        try {
          entry = {
            fn: compileFunction(name, t.s, this.bindings(t.s), t.u),
            name,
            url,
            source: t.s,
          };
        } catch (e) {
          entry = { error: e, name, url, source: t.s };
        }
      }
      this.#fns.set(t.h, entry);
    }
    return entry;
  }

  #addExports(mod: Record<string, unknown>): void {
    for (const [name, v] of Object.entries(mod)) {
      if (typeof v !== "function") continue;
      let list = this.#exports.get(name);
      if (!list) this.#exports.set(name, list = []);
      list.push(v as (...args: unknown[]) => unknown);
      // a function compiled before the module came may now be one of its exports
      for (const [h, entry] of this.#fns) {
        if (entry.name === name && entry.source === Function.prototype.toString.call(v)) {
          this.#fns.set(h, { fn: v as TaskFunction, name, source: entry.source });
        }
      }
    }
  }

  /** A preloaded export with this name and source, if any. */
  #preloaded(name: string, source: string): TaskFunction | undefined {
    const list = this.#exports.get(name);
    if (!list) return undefined;
    for (const f of list) {
      if (Function.prototype.toString.call(f) === source) return f as TaskFunction;
    }
    return undefined;
  }
}

/** Task `t`'s arguments, its Refs replaced by its dependencies' values (each decoded once). */
export function decodeArgs(t: WireTask): unknown[] {
  let deps: Map<string, [string, Uint8Array, Uint8Array[]]> | undefined;
  const decoded = new Map<string, unknown>();
  const resolve = (key: string): unknown => {
    if (decoded.has(key)) return decoded.get(key);
    deps ??= new Map(t.d?.map((d) => [d[0], d]));
    const d = deps.get(key);
    if (d === undefined) throw new Error(`task ${t.k}: dependency ${key} was not provided`);
    const v = decodeValue(new Payload(d[1], d[2]));
    decoded.set(key, v);
    return v;
  };
  const args = decodeValue(new Payload(t.a[0], t.a[1]), resolve);
  if (!Array.isArray(args)) throw new TypeError(`task ${t.k}: arguments are not an array`);
  return args;
}

/** Whether a value is a thenable (reading `.then` may throw: callers are inside try). */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function";
}
