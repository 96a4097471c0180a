/**
 * The bridge between a worker thread and code running inside a task: the thread installs its
 * hooks in a global slot (`Symbol.for`, so every copy of dtask loaded in the thread sees the
 * same one); `getWorker`, `secede` and `rejoin` (here) and `getClient` (client/in_task.ts)
 * read them. Browser-safe: no Deno API, no node: import.
 */
import { DtaskError } from "./errors.ts";
import type { MemoryConfig } from "./memory_config.ts";

/** What a task learns about the worker it runs on (`getWorker()`). */
export interface TaskWorkerInfo {
  /** The worker's address (how it is named everywhere). */
  readonly address: string;
  /** The worker's name. */
  readonly name: string;
  /** Its thread count. */
  readonly nthreads: number;
  /** Its memory limit in bytes (0: none). */
  readonly memoryLimit: number;
  /** Its memory thresholds in bytes (`memoryTarget`, `memoryPause`, … of its limit; null: off). */
  readonly memory: MemoryConfig;
  /** The resources it declared, e.g. `{ GPU: 1 }` (empty when none). */
  readonly resources: Readonly<Record<string, number>>;
  /** The scheduler's tcp:// address. */
  readonly schedulerAddress: string;
  /** The index of the executor thread running the task. */
  readonly thread: number;
}

/** The context of one running task. */
export interface InTaskContext {
  /** The task's key. */
  readonly key: string;
  /** The executor thread's index. */
  readonly thread: number;
}

/** What a worker thread offers the code of its tasks. */
export interface ThreadHooks {
  /** The worker this thread belongs to. */
  readonly worker: TaskWorkerInfo;
  /** The auth token the scheduler wants, if any. */
  readonly authToken?: string;
  /** The CA certificates (PEM) to trust dialling the scheduler's tls:// address, if any. */
  readonly tlsCaCerts?: string[];
  /** The task whose code is running now (follows awaits), or undefined outside a task. */
  current(): InTaskContext | undefined;
  /** Task `key` gives its thread slot back. */
  secede(key: string): void;
  /** Task `key` takes a slot again; resolves once it has one. */
  rejoin(key: string): Promise<void>;
  /** Whether task `key` has seceded (and not rejoined). */
  seceded(key: string): boolean;
  /** Records an event on the scheduler, under each topic (throws when `msg` cannot travel). */
  logEvent(topics: string[], msg: unknown): void;
  /** The thread's Client, created by the first getClient() and reused (held here). */
  client?: unknown;
}

const SLOT = Symbol.for("dtask.threadHooks");

/** The hooks of this thread, or undefined when this realm is not a worker thread. */
export function threadHooks(): ThreadHooks | undefined {
  return (globalThis as { [SLOT]?: ThreadHooks })[SLOT];
}

/** Installs the hooks of this thread (called once by the thread script). */
export function installThreadHooks(hooks: ThreadHooks): void {
  (globalThis as { [SLOT]?: ThreadHooks })[SLOT] = hooks;
}

/** What `getWorker()` returns: the worker's description, plus the running task's key. */
export interface TaskWorker extends TaskWorkerInfo {
  /** The key of the task calling getWorker(). */
  readonly key: string;
  /**
   * Records an event (any encodable value) under a topic, or several, in the scheduler's event
   * log, as `client.logEvent` does. As Dask's `Worker.log_event`: a plain-object `msg` gets
   * `worker: <this worker's address>` (unless the topic is that address).
   */
  logEvent(topic: string | string[], msg: unknown): void;
}

/** Whether `v` is a plain object (`{...}`), the only kind of message an event's sender is added to. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The hooks and the running task's key; throws a clear error outside a task. */
export function inTask(what: string): { hooks: ThreadHooks; key: string } {
  const hooks = threadHooks();
  const ctx = hooks?.current();
  if (!hooks || !ctx) {
    throw new DtaskError(
      `${what} works only inside a task running on a dtask worker (in the submitted ` +
        `function or code it calls); here no task is running`,
    );
  }
  return { hooks, key: ctx.key };
}

/**
 * The worker the calling task runs on: `address`, `name`, `nthreads`, `memoryLimit`, `memory`
 * (its memory thresholds in bytes), `resources`, `schedulerAddress`, `thread` (the executor
 * thread's index) and the task's `key`; `logEvent(topic, msg)` records an event in the scheduler's log, marked with this worker.
 */
export function getWorker(): TaskWorker {
  const { hooks, key } = inTask("getWorker()");
  const address = hooks.worker.address;
  return {
    ...hooks.worker,
    resources: { ...hooks.worker.resources },
    memory: { ...hooks.worker.memory },
    key,
    logEvent(topic: string | string[], msg: unknown): void {
      const topics = typeof topic === "string" ? [topic] : [...topic];
      if (!topics.every((t) => typeof t === "string")) {
        throw new TypeError("an event topic must be a string");
      }
      const mark = isPlainObject(msg) && !(topics.length === 1 && topics[0] === address);
      hooks.logEvent(topics, mark ? { ...msg, worker: address } : msg);
    },
  };
}

/**
 * The calling task gives its thread slot back to its worker, which may start another task
 * meanwhile (use it before waiting a long time, e.g. for tasks it submitted). The task keeps
 * running; `rejoin()` takes a slot again. Resources it holds stay held.
 */
export function secede(): void {
  const { hooks, key } = inTask("secede()");
  hooks.secede(key);
}

/** After `secede()`: waits until the worker has a free slot and takes it. No-op otherwise. */
export function rejoin(): Promise<void> {
  let t;
  try {
    t = inTask("rejoin()");
  } catch (e) {
    return Promise.reject(e);
  }
  return t.hooks.rejoin(t.key);
}

/**
 * Runs a wait on Futures: inside a task that holds a slot, the task secedes while it waits and
 * rejoins after (Dask's worker_client); elsewhere (or already seceded) it just waits.
 */
export async function waitOutsideSlot<T>(f: () => Promise<T>): Promise<T> {
  const hooks = threadHooks();
  const ctx = hooks?.current();
  if (!hooks || !ctx || hooks.seceded(ctx.key)) return await f();
  hooks.secede(ctx.key);
  try {
    return await f();
  } finally {
    await hooks.rejoin(ctx.key);
  }
}
