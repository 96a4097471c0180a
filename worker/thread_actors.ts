/**
 * The actors a worker thread holds: each instance, made with `new` by its actor task and kept
 * here under its key, and the method calls on it. Calls start in the order they arrive; a sync
 * method runs to its end before the next call starts, an async one lets the next calls start
 * at its awaits (as Dask's async actors). Results (or errors) go back to the executor in
 * batches. A call whose arguments hold a handle waits, with every call after it, while the
 * client modules that revive it are imported.
 *
 * @module
 */
import { decodeValue, encodeValue, handleMissed, Payload } from "../comm/serialize.ts";
import { HANDLE, type Travelling } from "../comm/value_handles.ts";
import { ActorLostError, toEnvelope } from "../core/errors.ts";
import { scopeErrorFrom } from "../core/compile.ts";
import { isThenable, type TaskLabel } from "./thread_functions.ts";
import type { FromThread, ThreadActorCall, ThreadActorResult } from "../comm/protocol.ts";
import { ACTOR_HANDLE_TAG } from "../comm/protocol/actor_calls.ts";

/** Where a thread's actor table can be read (how many instances it holds), for tests. */
export const THREAD_ACTORS_SLOT: unique symbol = Symbol.for("dtask.threadActors") as never;

/** What an actor task returns: a handle that travels as the actor's key and class name. */
class CreatedActor implements Travelling {
  constructor(readonly key: string, readonly className: string) {}
  [HANDLE](): [string, unknown] {
    return [ACTOR_HANDLE_TAG, { k: this.key, c: this.className }];
  }
}

/** What the table needs from its thread. */
export interface ThreadActorsHost {
  /** Posts results to the executor (moving the listed buffers). */
  post(msg: FromThread, transfer: Transferable[]): void;
  /** Runs `f` as code of actor `key` (getClient(), getWorker() and console prefixes know it). */
  run<T>(key: string, f: () => T): T;
  /** Whether the client modules were imported (or failed to be). */
  clientLoaded(): boolean;
  /** Imports the client modules; resolves when done, loaded or not. */
  loadClient(): Promise<void>;
}

interface Held {
  instance: Record<string, unknown>;
  className: string;
  /** The `sourceURL` its class was compiled under (its frames name it). */
  url?: string;
}

/** A thread's actors and the calls on them. */
export class ThreadActors {
  readonly #held = new Map<string, Held>();
  /** Calls not started yet, in arrival order (they wait while the client modules load). */
  #queue: ThreadActorCall[] = [];
  #loading = false;
  /** Releases that came while calls waited in the queue: done once it has drained. */
  #drops: string[] = [];
  #results: ThreadActorResult[] = [];
  #transfer: Transferable[] = [];
  #flushQueued = false;

  constructor(readonly host: ThreadActorsHost) {
    (globalThis as { [THREAD_ACTORS_SLOT]?: ThreadActors })[THREAD_ACTORS_SLOT] = this;
  }

  /** How many instances this thread holds. */
  get size(): number {
    return this.#held.size;
  }

  /** Whether this thread holds actor `key`. */
  has(key: string): boolean {
    return this.#held.has(key);
  }

  /**
   * Makes the instance of actor `key` with `new cls(...args)` (a throw is the task's error) and
   * keeps it; returns the task's value, a handle that travels. `label`: how its class is named.
   */
  create(
    key: string,
    cls: (...args: unknown[]) => unknown,
    args: unknown[],
    label: TaskLabel,
  ): unknown {
    if (!/^\s*class\b/.test(Function.prototype.toString.call(cls))) {
      throw new TypeError(`actor ${key}: ${label.name || "its function"} is not a class`);
    }
    const instance = this.host.run(key, () => Reflect.construct(cls, args)) as Held["instance"];
    const className = label.name || cls.name || "Actor";
    this.#held.set(key, { instance, className, url: label.url });
    return new CreatedActor(key, className);
  }

  /**
   * Forgets actors (their keys were released): their instances can be collected. Calls that
   * came before the release and wait for the client modules run first.
   */
  drop(keys: string[]): void {
    if (this.#queue.length) this.#drops.push(...keys);
    else for (const k of keys) this.#held.delete(k);
  }

  /** Calls arrived: they start in order. */
  receive(calls: ThreadActorCall[]): void {
    for (const c of calls) this.#queue.push(c);
    this.#pump();
  }

  #pump(): void {
    while (!this.#loading && this.#queue.length) {
      const c = this.#queue[0];
      let args: unknown[];
      try {
        args = decodeArgs(c);
      } catch (e) {
        if (handleMissed() && !this.host.clientLoaded()) {
          this.#loading = true; // a handle among the arguments: its reviver is a client module
          void this.host.loadClient().then(() => {
            this.#loading = false;
            this.#pump();
          });
          return;
        }
        this.#queue.shift();
        this.#failed(c.i, e);
        continue;
      }
      this.#queue.shift();
      this.#start(c, args);
    }
    if (this.#queue.length === 0 && this.#drops.length) this.drop(this.#drops.splice(0));
  }

  /** Starts call `c`: a sync method runs to its end here, an async one settles later. */
  #start(c: ThreadActorCall, args: unknown[]): void {
    const held = this.#held.get(c.k);
    if (held === undefined) {
      return this.#failed(
        c.i,
        new ActorLostError(`actor ${c.k} is not held here any more: it was released`),
      );
    }
    const { instance, className, url } = held;
    // a name from the class's enclosing scope: a ScopeError that says what to do instead
    const failed = (e: unknown) => this.#failed(c.i, scopeErrorFrom(e, className, url));
    let result: unknown, thenable: boolean;
    try {
      const member = methodOf(instance, c.m);
      if (member === undefined) {
        throw new TypeError(
          `${className} has no method "${c.m}" (actor ${c.k}): call one of its methods`,
        );
      }
      if (typeof member !== "function") {
        // a field: calling it with no arguments reads it (Dask's attribute access)
        if (args.length) throw new TypeError(`${className}.${c.m} is a field, not a method`);
        return this.#succeeded(c, instance[c.m], className);
      }
      result = this.host.run(c.k, () => member.apply(instance, args));
      thenable = isThenable(result);
    } catch (e) {
      return failed(e);
    }
    if (thenable) {
      Promise.resolve(result).then((v) => this.#succeeded(c, v, className), failed);
    } else this.#succeeded(c, result, className);
  }

  #succeeded(c: ThreadActorCall, v: unknown, className: string): void {
    let p: Payload;
    try {
      p = encodeValue(v, { path: `the result of ${className}.${c.m}` });
    } catch (e) {
      return this.#failed(c.i, e);
    }
    // frames are copied: one may be a buffer the instance keeps (moving it would detach it)
    const header = owned(p.header, this.#transfer);
    const frames = p.frames.map((f) => owned(f.slice(), this.#transfer));
    this.#results.push({ i: c.i, v: [header, frames] });
    this.#flushSoon();
  }

  #failed(i: number, e: unknown): void {
    let error;
    try {
      error = toEnvelope(e);
    } catch {
      error = toEnvelope(
        new Error(`an actor method failed with an error that cannot be described`),
      );
    }
    this.#results.push({ i, e: error });
    this.#flushSoon();
  }

  /** Results go in one message once the calls that arrived together have started. */
  #flushSoon(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      const results = this.#results, transfer = this.#transfer;
      this.#results = [];
      this.#transfer = [];
      this.host.post({ op: "actor-results", results }, transfer);
    });
  }
}

/** The member `name` of an actor instance; Object's own members and `constructor` are not. */
function methodOf(instance: Record<string, unknown>, name: string): unknown {
  if (name === "constructor" || !(name in instance)) return undefined;
  if (name in Object.prototype && instance[name] === (Object.prototype as never)[name]) {
    return undefined;
  }
  return instance[name];
}

/** A call's arguments (an encoded array). */
function decodeArgs(c: ThreadActorCall): unknown[] {
  const args = decodeValue(new Payload(c.a[0], c.a[1]));
  if (!Array.isArray(args)) throw new TypeError(`actor call ${c.i}: arguments are not an array`);
  return args;
}

/** A buffer this thread may move: a whole buffer as is, a view copied. */
function owned(f: Uint8Array, transfer: Transferable[]): Uint8Array {
  if (typeof SharedArrayBuffer !== "undefined" && f.buffer instanceof SharedArrayBuffer) return f;
  const out = f.byteOffset === 0 && f.byteLength === f.buffer.byteLength ? f : f.slice();
  if (!transfer.includes(out.buffer as ArrayBuffer)) transfer.push(out.buffer as ArrayBuffer);
  return out;
}
