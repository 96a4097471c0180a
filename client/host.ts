/**
 * What the graph, scatter, cancel and values modules need from their Client: a narrow view
 * of its key records and its queue to the scheduler, so that client.ts only delegates.
 */
import type { ClientToScheduler, Requester, TaskSpec } from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import type { Future, KeyState } from "./future.ts";
import type { ClientStimulus } from "./stimulus.ts";

/** Task options that apply to each task of a graph (a subset of `client.with`'s). */
export interface TaskOptions {
  priority?: number;
  retries?: number;
  /** Workers (addresses or names) the tasks may run on. */
  workers?: string | string[];
  /** With `workers`: may run elsewhere when none of them is there (default false). */
  allowOtherWorkers?: boolean;
  /** Resources each task holds on its worker while it runs, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
}

/** A Client as seen by the graph, scatter, cancel and values modules. */
export interface ClientHost {
  /** The Client itself (Futures of other clients are not ours). */
  readonly client: unknown;
  /** What to do with arguments that are instances of classes with methods. */
  readonly classInstances: "error" | "warn";
  /** This client's record of `key`, if it holds one. */
  key(key: string): KeyState | undefined;
  /** Registers a fresh record of `key` (replacing none: check `key` first). */
  addKey(key: string): KeyState;
  /** Forgets `ks` if it is still the record of its key; returns whether it was. */
  dropKey(ks: KeyState): boolean;
  /** A new Future of `ks` (one more reference). */
  future(ks: KeyState): Future<any>;
  /** Tasks queued and not yet sent that a graph's first tasks would share a message with. */
  queued(): number;
  /**
   * Queues task `key` = `fn(...args)` for the next update-graph; `want`: this client wants it;
   * `tables`: the Arrow Tables still being written into `args` (messages wait for them).
   */
  enqueue(
    key: string,
    fn: (...args: any[]) => unknown,
    args: Payload,
    deps: string[],
    options: TaskOptions,
    want: boolean,
    tables?: Promise<void>,
  ): void;
  /** This client no longer wants `keys` (it holds no Future for them); sent after queued tasks. */
  unwant(keys: string[]): void;
  /** Whether the connection is open. */
  isOpen(): boolean;
  /** Throws CommClosedError when the client is closed. */
  checkOpen(): void;
  /** Sends after the queued tasks; CommClosedError when closed. */
  send(msg: ClientToScheduler): void;
  /** Sends a request after the queued tasks; CommClosedError when closed. */
  request: Requester<ClientToScheduler>;
  /** Gives a worker values to keep (scatter). */
  putData(worker: string, values: Record<string, Payload>): Promise<void>;
  /** Values of Futures in the same structure (client.gather). */
  gather(x: unknown): Promise<unknown>;
  /** Fetches values from a worker (the value path, values.ts). */
  getData(worker: string, keys: string[]): Promise<Record<string, Payload>>;
  /** Asks the scheduler at once, not after queued tasks, where the values of `keys` are. */
  requestValues(keys: string[]): void;
  /** Posts the result of async work to the Client's actor. */
  receive(s: ClientStimulus): void;
}

/** Builds the TaskSpec fields of `options` (checked as `client.with` checks them). */
export function specOptions(spec: TaskSpec, options: TaskOptions): TaskSpec {
  if (options.priority) spec.p = options.priority;
  if (options.retries) spec.r = options.retries;
  if (options.workers !== undefined) {
    spec.w = typeof options.workers === "string" ? [options.workers] : [...options.workers];
    if (options.allowOtherWorkers) spec.lo = true;
  }
  if (options.resources !== undefined) spec.rs = checkResources(options.resources);
  return spec;
}

/** Checks a `resources` option: names to non-negative finite amounts. */
export function checkResources(r: Record<string, number>): Record<string, number> {
  if (typeof r !== "object" || r === null || Array.isArray(r)) {
    throw new TypeError("resources must be an object like { GPU: 1 }");
  }
  for (const [name, n] of Object.entries(r)) {
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
      throw new TypeError(`resource ${name} must be a finite number >= 0, got ${n}`);
    }
  }
  return { ...r };
}
