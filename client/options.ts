/** The Client's option types, and the argument types of `submit`. */
import type { Future } from "./future.ts";
import type { TaskOptions } from "./host.ts";

/** Client options. */
export interface ClientOptions {
  /** How long to wait for the connection (ms, default 30000). */
  timeout?: number;
  /** A name shown in the scheduler's logs. */
  name?: string;
  authToken?: string;
  heartbeatInterval?: number;
  /** How long to keep trying to reconnect after the scheduler connection drops (ms, 30000; 0: never). */
  reconnectTimeout?: number;
}

/** Something with a scheduler address: a LocalCluster, for example. */
export interface ClusterLike {
  readonly schedulerAddress: string;
  /** An in-process address, used when the cluster lives in this process. */
  readonly inprocAddress?: string;
  close(): Promise<void>;
}

/** Options of `client.with(...)` for submit and map. */
export interface SubmitOptions {
  key?: string;
  pure?: boolean;
  priority?: number;
  retries?: number;
  /** Workers (addresses or names) the task may run on. */
  workers?: string | string[];
  /** With `workers`: may run elsewhere when none of them is there (default false). */
  allowOtherWorkers?: boolean;
  /**
   * Submissions less than this apart (ms, or "100ms"; default 100) share a FIFO generation;
   * a later generation runs after earlier ones at equal priority (Dask's fifo_timeout).
   */
  fifoTimeout?: number | string;
  /** Resources the task holds on its worker while it runs, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
}

/** How a Client made inside a task (getClient()) knows its task; see client/in_task.ts. */
export interface InTaskClientHooks {
  /** The key of the task whose code runs now, if any (its submissions run before its siblings). */
  key(): string | undefined;
  /** Runs a wait on Futures (gather, await): the running task gives up its slot meanwhile. */
  wait<T>(f: () => Promise<T>): Promise<T>;
}

/** Options of `client.compute` / `client.get`, applied to every task of the graph. */
export type ComputeOptions = TaskOptions;

/** A value, or a Future of it, also nested inside arrays and plain objects. */
export type MaybeFuture<T> =
  | T
  | Future<T>
  | (T extends readonly unknown[] ? { [K in keyof T]: MaybeFuture<T[K]> }
    : T extends Record<string, unknown> ? { [K in keyof T]: MaybeFuture<T[K]> }
    : never);

/** Arguments where any value may also be given as a Future of it. */
export type Args<A extends unknown[]> = { [I in keyof A]: MaybeFuture<A[I]> };
