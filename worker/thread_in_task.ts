/**
 * A worker thread's side of the in-task API: which tasks gave their slot back (secede) and
 * asked for one again (rejoin), and the client module that getClient(), wait() and
 * asCompleted() need — imported when a task first names them — with the names a task function
 * may use without importing them.
 *
 * @module
 */
import type { FromThread, WireTask } from "../comm/protocol/worker_thread.ts";
import { getWorker, inTask, rejoin, secede } from "../core/in_task.ts";

/** The tasks of a thread that seceded, and those waiting to rejoin. */
export class Secession {
  /** Tasks that gave their slot back and are still running here (perhaps rejoined). */
  readonly detached = new Set<string>();
  /** Seceded tasks that have not rejoined. */
  readonly seceded = new Set<string>();
  #rejoining = new Map<string, (() => void)[]>();

  /** `post` tells the executor (secede, rejoin). */
  constructor(readonly post: (msg: FromThread) => void) {}

  /** Task `key` gives its slot back; false when it had already. */
  secede(key: string): boolean {
    if (this.seceded.has(key)) return false;
    this.seceded.add(key);
    this.detached.add(key);
    this.post({ op: "secede", key });
    return true;
  }

  /** Task `key` asks for a slot again; resolves once the executor gives it one. */
  rejoin(key: string): Promise<void> {
    if (!this.seceded.has(key)) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    let waiting = this.#rejoining.get(key);
    if (!waiting) {
      this.#rejoining.set(key, waiting = []);
      this.post({ op: "rejoin", key });
    }
    waiting.push(resolve);
    return promise;
  }

  /** The executor gave task `key` a slot again. */
  rejoined(key: string): void {
    this.seceded.delete(key);
    const waiting = this.#rejoining.get(key);
    this.#rejoining.delete(key);
    if (waiting) { for (const r of waiting) r(); }
  }

  /** Task `key` settled: true when it had seceded (the thread went on without it). */
  ended(key: string): boolean {
    if (!this.detached.delete(key)) return false;
    this.seceded.delete(key);
    return true;
  }
}

/**
 * Sources that use the platform's DOM events: their `Event` stays the global one, not dtask's
 * (a task that dispatches events on an EventTarget must get the class it expects).
 */
const USES_DOM_EVENTS = /\b(?:dispatchEvent|addEventListener|EventTarget|CustomEvent)\b/;

/** Names in a function's source that need the client module. */
const USES_CLIENT =
  /\b(?:getClient|wait|asCompleted|Lock|MultiLock|Semaphore|Queue|Variable|Event)\b/;

/** The client side of the thread (it weighs ~20 ms of start-up, so only tasks that use it wait). */
type ClientModule = typeof import("../client/in_task.ts");

/** The thread's client module, imported the first time a task's function names it. */
export class ClientLoader {
  #module: ClientModule | null = null;
  #loading: Promise<void> | null = null;
  /** Set once the import finished, loaded or not: no task waits for it after that. */
  #tried = false;
  /** Function hashes whose source uses the client module. */
  #needs = new Set<string>();

  /**
   * Names a task function may use without importing them (dtask's in-task API): bound when it
   * is compiled.
   */
  readonly bindings: Record<string, unknown> = {
    getWorker,
    secede,
    rejoin,
    getClient: (options?: { timeout?: number }) => {
      inTask("getClient()");
      if (!this.#module) throw new Error("getClient(): the client module is not loaded");
      return this.#module.getClient(options);
    },
    // waits on the Futures of getClient(): the client module is in by then
    wait: (...args: Parameters<ClientModule["wait"]>) => this.#module!.wait(...args),
    asCompleted: (...args: Parameters<ClientModule["asCompleted"]>) =>
      this.#module!.asCompleted(...args),
  };

  constructor() {
    // classes, as getters: read when a function naming them is compiled (after the client
    // module was loaded for it)
    const classes = ["Lock", "MultiLock", "Semaphore", "Queue", "Variable", "Event"] as const;
    for (const name of classes) {
      Object.defineProperty(this.bindings, name, {
        get: () => this.#module?.[name],
        enumerable: true,
      });
    }
  }

  /** The names bound in a function compiled from `source`. */
  bindingsFor(source: string): Record<string, unknown> {
    if (!USES_DOM_EVENTS.test(source)) return this.bindings;
    const { Event: _dtaskEvent, ...rest } = Object.getOwnPropertyDescriptors(this.bindings);
    return Object.defineProperties({}, rest);
  }

  /** Whether task `t` must wait for the client module (its function's source names it). */
  mustWait(t: WireTask): boolean {
    if (this.#tried) return false; // a failure to load surfaces in getClient()
    if (t.s !== undefined && USES_CLIENT.test(t.s)) this.#needs.add(t.h);
    return this.#needs.has(t.h);
  }

  /** Whether the client modules were imported (or failed to: then no task waits for them). */
  get loaded(): boolean {
    return this.#tried;
  }

  /** Imports the client modules (once); resolves when done, also when the import failed. */
  load(): Promise<void> {
    return this.#loading ??= Promise.all([
      import("../client/in_task.ts"),
      import("../client/client.ts"),
      import("../comm/dial.ts"),
      import("../client/actor_handle.ts"), // revives actor handles among values
    ]).then(([m, client, dial]) => {
      client.registerDialer("tcp", dial.dial);
      client.registerDialer("tls", dial.dial);
      this.#module = m;
    }).catch(() => {}).finally(() => {
      this.#tried = true;
    });
  }
}
