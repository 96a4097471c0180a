/**
 * The Web Worker script of an executor thread (a module worker).
 *
 * It receives batches of tasks, compiles each function hash once, runs one task at a time in
 * arrival order (an async task holds the thread until it settles), and posts the outcomes back
 * in batches: every outcome finished within one macrotask goes in one postMessage. Nothing a
 * task does may kill the thread: tasks run in try/catch, and stray errors and rejections are
 * prevented and reported. What tasks print is prefixed with their key (or dropped).
 */
import { decodeValue, encodeValue, Payload } from "../comm/serialize.ts";
import { type ErrorEnvelope, toEnvelope } from "../core/errors.ts";
import type {
  FromThread,
  ToThread,
  WireOutcome,
  WireTask,
} from "../comm/protocol/worker_thread.ts";
import { compileFunction, scopeErrorFrom, type TaskFunction } from "../core/compile.ts";
import { setCurrentTask } from "./task_context.ts";
import { collectGarbage } from "./collect_garbage.ts";
// in-task: getWorker/getClient/secede/rejoin, preload
import { AsyncLocalStorage } from "node:async_hooks";
import {
  getWorker,
  installThreadHooks,
  inTask,
  type InTaskContext,
  rejoin,
  secede,
  type TaskWorkerInfo,
} from "../core/in_task.ts";

/** Names in a function's source that need the client module (loaded in the background). */
const USES_CLIENT = /\b(?:getClient|wait|asCompleted)\b/;

/** The client side of the thread, imported on first need (it weighs ~20 ms of start-up). */
type ClientModule = typeof import("../client/in_task.ts");

/** The part of the worker global scope this script uses (typed here to stay lib-neutral). */
interface ThreadScope {
  postMessage(message: FromThread, transfer?: Transferable[]): void;
  close(): void;
  addEventListener(type: string, listener: (e: any) => void): void;
}

/** Epoch milliseconds. */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Whether a value is a thenable (reading `.then` may throw: callers are inside try). */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    typeof (v as { then?: unknown }).then === "function";
}

/** Runs tasks and batches their outcomes; one per thread. */
class ThreadRunner {
  #scope: ThreadScope;
  #thread = -1;
  #silence = false;
  #fns = new Map<
    string,
    { fn: TaskFunction; name: string; source: string } | {
      error: unknown;
      name: string;
      source: string;
    }
  >();
  #queue: (WireTask | undefined)[] = [];
  #head = 0;
  #busy = false;
  #current: string | undefined;
  #outcomes: WireOutcome[] = [];
  #transfer: Transferable[] = [];
  #transferSet = new Set<ArrayBuffer>();
  /** Buffers that came from the executor: a result that reuses one is copied, not moved. */
  #received = new WeakSet<ArrayBufferLike>();
  /** Posting to itself is a macrotask hop: it flushes once this macrotask's microtasks ran. */
  #tick: MessageChannel;
  #tickPending = false;
  // in-task
  /** The context of each task's code, across its awaits. */
  #als = new AsyncLocalStorage<InTaskContext>();
  /** The async task holding the thread (its next task waits for it), unless it seceded. */
  #busyKey: string | undefined;
  /** Tasks that gave their slot back and are still running here (perhaps rejoined). */
  #detached = new Set<string>();
  /** Seceded tasks that have not rejoined. */
  #seceded = new Set<string>();
  #rejoining = new Map<string, (() => void)[]>();
  /** Preloads being imported: tasks wait for them. */
  #preloading = 0;
  /** Exports of preloaded modules that are functions, by name. */
  #exports = new Map<string, ((...args: unknown[]) => unknown)[]>();
  #clientModule: ClientModule | null = null;
  #clientLoading: Promise<void> | null = null;
  /** Function hashes whose source uses the client module: they wait for it to load. */
  #needsClient = new Set<string>();
  /**
   * Names a task function may use without importing them (dtask's in-task API): bound when it
   * is compiled.
   */
  #bindings: Record<string, unknown> = {
    getWorker,
    secede,
    rejoin,
    getClient: (options?: { timeout?: number }) => {
      inTask("getClient()");
      if (!this.#clientModule) throw new Error("getClient(): the client module is not loaded");
      return this.#clientModule.getClient(options);
    },
    // waits on the Futures of getClient(): the client module is in by then
    wait: (...args: Parameters<ClientModule["wait"]>) => this.#clientModule!.wait(...args),
    asCompleted: (...args: Parameters<ClientModule["asCompleted"]>) =>
      this.#clientModule!.asCompleted(...args),
  };

  constructor(scope: ThreadScope) {
    this.#scope = scope;
    this.#tick = new MessageChannel();
    this.#tick.port1.onmessage = () => {
      this.#tickPending = false;
      this.#flush();
    };
  }

  /** The key of the task running now, if any. */
  get currentKey(): string | undefined {
    return this.#current;
  }

  /** Whether console output is dropped. */
  get silenced(): boolean {
    return this.#silence;
  }

  /** Handles one message from the executor. */
  receive(msg: ToThread): void {
    if (msg.op === "init") {
      this.#thread = msg.thread;
      this.#silence = msg.silenceLogs;
      if (msg.worker) this.#install(msg.worker, msg.authToken);
      return;
    }
    if (msg.op === "rejoined") return this.#rejoined(msg.key);
    if (msg.op === "preload") return this.#preload(msg.urls);
    if (msg.op === "collect") return collectGarbage?.();
    for (const t of msg.tasks) {
      this.#remember(t.a);
      if (t.d) { for (const d of t.d) this.#remember([d[1], d[2]]); }
      this.#queue.push(t);
    }
    if (!this.#busy) this.#pump();
  }

  // ---------------------------------------------------------------- in-task

  /** The key of the task whose code runs now (follows its awaits). */
  get taskKey(): string | undefined {
    return this.#als.getStore()?.key ?? this.#current;
  }

  /** Imports the client modules (once, when a task first needs them: they wait for it). */
  #loadClient(): Promise<void> {
    return this.#clientLoading ??= Promise.all([
      import("../client/in_task.ts"),
      import("../client/client.ts"),
      import("../comm/dial.ts"),
    ]).then(([m, client, dial]) => {
      client.registerDialer("tcp", dial.dial);
      this.#clientModule = m;
    });
  }

  #install(worker: TaskWorkerInfo, authToken: string | undefined): void {
    installThreadHooks({
      worker: { ...worker, thread: this.#thread },
      authToken,
      current: () => this.#als.getStore(),
      secede: (key) => this.#secede(key),
      rejoin: (key) => this.#rejoin(key),
      seceded: (key) => this.#seceded.has(key),
    });
  }

  #secede(key: string): void {
    if (this.#seceded.has(key)) return;
    this.#seceded.add(key);
    this.#detached.add(key);
    this.#scope.postMessage({ op: "secede", key });
    if (this.#busyKey === key) {
      // the thread is free for the next task while this one awaits
      this.#busyKey = undefined;
      this.#busy = false;
      this.#current = undefined;
      setCurrentTask(undefined);
      queueMicrotask(() => {
        if (!this.#busy) this.#pump();
      });
    }
  }

  #rejoin(key: string): Promise<void> {
    if (!this.#seceded.has(key)) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    let waiting = this.#rejoining.get(key);
    if (!waiting) {
      this.#rejoining.set(key, waiting = []);
      this.#scope.postMessage({ op: "rejoin", key });
    }
    waiting.push(resolve);
    return promise;
  }

  #rejoined(key: string): void {
    this.#seceded.delete(key);
    const waiting = this.#rejoining.get(key);
    this.#rejoining.delete(key);
    if (waiting) { for (const r of waiting) r(); }
  }

  #preload(urls: string[]): void {
    for (const url of urls) {
      this.#preloading++;
      import(url).then(
        (mod: Record<string, unknown>) => {
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
        },
        (e) => {
          const why = e instanceof Error ? e.message : String(e);
          this.stray(new Error(`preload ${url} failed: ${why}`, { cause: e }));
        },
      ).finally(() => {
        if (--this.#preloading === 0 && !this.#busy) this.#pump();
      });
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

  /** Reports a stray error or rejection (the caller has prevented its default). */
  stray(reason: unknown): void {
    let error: ErrorEnvelope;
    try {
      error = toEnvelope(reason);
    } catch {
      error = toEnvelope(new Error(`unhandled ${String(reason)}`));
    }
    this.#scope.postMessage({ op: "stray", key: this.#current, error });
  }

  #remember(p: [Uint8Array, Uint8Array[]]): void {
    this.#received.add(p[0].buffer);
    for (const f of p[1]) this.#received.add(f.buffer);
  }

  #pump(): void {
    if (this.#preloading > 0) return; // resumed once the modules are in
    while (this.#head < this.#queue.length) {
      const next = this.#queue[this.#head]!;
      if (next.s !== undefined && USES_CLIENT.test(next.s)) this.#needsClient.add(next.h);
      if (this.#clientModule === null && this.#needsClient.has(next.h)) {
        // resumed once the client module is in (a failure to load surfaces in getClient)
        this.#busy = true;
        this.#loadClient().catch(() => {}).finally(() => {
          this.#busy = false;
          if (this.#clientModule === null) this.#needsClient.clear();
          this.#pump();
        });
        return;
      }
      const t = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      }
      const start = now();
      let name = t.n ?? "";
      let result: unknown;
      this.#enter(t.k);
      try {
        const entry = this.#function(t);
        name = entry.name;
        if ("error" in entry) throw entry.error;
        const args = this.#args(t);
        result = this.#als.run({ key: t.k, thread: this.#thread }, entry.fn, ...args);
        if (this.#detached.has(t.k)) {
          // it seceded before returning: it holds neither the thread nor a slot
          const settle = (ok: boolean, v: unknown) => {
            this.#detached.delete(t.k);
            this.#seceded.delete(t.k);
            this.#settle(t.k, name, start, ok, v, true);
            this.#scheduleFlush();
          };
          Promise.resolve(result).then((v) => settle(true, v), (e) => settle(false, e));
          this.#current = undefined;
          setCurrentTask(undefined);
          continue;
        }
        if (isThenable(result)) {
          this.#busy = true;
          this.#busyKey = t.k;
          Promise.resolve(result).then(
            (v) => this.#settled(t.k, name, start, true, v),
            (e) => this.#settled(t.k, name, start, false, e),
          );
          // Outcomes so far go when this macrotask ends, with any that settle in its microtasks.
          if (this.#outcomes.length > 0 && !this.#tickPending) {
            this.#tickPending = true;
            this.#tick.port2.postMessage(null);
          }
          return;
        }
      } catch (e) {
        this.#settle(t.k, name, start, false, e);
        continue;
      }
      this.#settle(t.k, name, start, true, result);
    }
    // Idle: nothing else can finish before the next message arrives.
    this.#flush();
  }

  #settled(key: string, name: string, start: number, ok: boolean, v: unknown): void {
    if (this.#detached.delete(key)) {
      // seceded while it ran: the thread went on without it
      this.#seceded.delete(key);
      this.#settle(key, name, start, ok, v, true);
      this.#scheduleFlush();
      return;
    }
    this.#busy = false;
    this.#busyKey = undefined;
    this.#settle(key, name, start, ok, v);
    this.#pump();
  }

  /** Flushes outcomes once this macrotask's microtasks ran. */
  #scheduleFlush(): void {
    if (this.#outcomes.length > 0 && !this.#tickPending) {
      this.#tickPending = true;
      this.#tick.port2.postMessage(null);
    }
  }

  #enter(key: string): void {
    this.#current = key;
    setCurrentTask({ key, thread: this.#thread });
  }

  #settle(
    key: string,
    name: string,
    start: number,
    ok: boolean,
    v: unknown,
    detached = false,
  ): void {
    const stop = now();
    if (!detached) {
      this.#current = undefined;
      setCurrentTask(undefined);
    }
    let out: WireOutcome;
    if (ok) {
      try {
        const p = encodeValue(v);
        out = {
          k: key,
          s: start,
          t: stop,
          v: [this.#outgoing(p.header), p.frames.map((f) => this.#outgoing(f))],
        };
      } catch (e) {
        const err = new TypeError(
          `the result of task ${key} cannot be sent: ${e instanceof Error ? e.message : e}`,
          { cause: e },
        );
        out = { k: key, s: start, t: stop, e: this.#envelope(err, name) };
      }
    } else {
      out = { k: key, s: start, t: stop, e: this.#envelope(v, name) };
    }
    this.#outcomes.push(out);
  }

  #envelope(e: unknown, name: string): ErrorEnvelope {
    try {
      return toEnvelope(scopeErrorFrom(e, name));
    } catch (e2) {
      return toEnvelope(new Error(`task failed with an error that cannot be described: ${e2}`));
    }
  }

  /** A result buffer to post: shared ones as they are, whole ones moved, others copied. */
  #outgoing(f: Uint8Array): Uint8Array {
    const buf = f.buffer;
    if (typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer) return f;
    if (
      f.byteOffset !== 0 || f.byteLength !== buf.byteLength || this.#received.has(buf) ||
      this.#transferSet.has(buf as ArrayBuffer)
    ) {
      f = f.slice();
    }
    this.#transferSet.add(f.buffer as ArrayBuffer);
    this.#transfer.push(f.buffer as ArrayBuffer);
    return f;
  }

  #flush(): void {
    if (this.#outcomes.length === 0) return;
    const outcomes = this.#outcomes;
    const transfer = this.#transfer;
    this.#outcomes = [];
    this.#transfer = [];
    this.#transferSet.clear();
    this.#scope.postMessage({ op: "done", outcomes }, transfer);
  }

  #function(t: WireTask): { fn: TaskFunction; name: string } | { error: unknown; name: string } {
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
        try {
          entry = { fn: compileFunction(name, t.s, this.#bindings), name, source: t.s };
        } catch (e) {
          entry = { error: e, name, source: t.s };
        }
      }
      this.#fns.set(t.h, entry);
    }
    return entry;
  }

  #args(t: WireTask): unknown[] {
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
}

/** Prefixes (or drops) console output while a task runs. */
function patchConsole(runner: ThreadRunner): void {
  const c = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const m of ["log", "info", "warn", "error", "debug"]) {
    const orig = c[m].bind(console);
    c[m] = (...args: unknown[]) => {
      if (runner.silenced) return;
      const key = runner.taskKey;
      if (key === undefined) return orig(...args);
      const prefix = `[${key.replaceAll("%", "%%")}]`;
      if (typeof args[0] === "string") orig(`${prefix} ${args[0]}`, ...args.slice(1));
      else orig(prefix, ...args);
    };
  }
}

/** Starts the thread: listeners, console, close/exit reporting. */
function main(): void {
  const scope = globalThis as unknown as ThreadScope;
  const runner = new ThreadRunner(scope);
  patchConsole(runner);
  scope.addEventListener("message", (e: MessageEvent<ToThread>) => runner.receive(e.data));
  scope.addEventListener("unhandledrejection", (e: PromiseRejectionEvent) => {
    e.preventDefault();
    runner.stray(e.reason);
  });
  scope.addEventListener("error", (e: ErrorEvent) => {
    e.preventDefault();
    runner.stray(e.error ?? new Error(e.message));
  });
  // A thread that closes itself stops silently: say so first, so the executor replaces it.
  const close = scope.close.bind(scope);
  scope.close = () => {
    scope.postMessage({ op: "closing", reason: "close() was called in the thread" });
    close();
  };
  scope.addEventListener("unload", () => {
    scope.postMessage({ op: "closing", reason: "the thread exited (Deno.exit?)" });
  });
  scope.postMessage({ op: "ready" });
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  main();
}
