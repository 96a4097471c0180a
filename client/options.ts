/** The Client's option types, the argument types of `submit`, and what `schedulerInfo` gives. */
import type { Future } from "./future.ts";
import type { TlsOptions } from "../comm/tls_options.ts";
import type { ActorHandle } from "./actor_types.ts";

/** Client options. */
export interface ClientOptions {
  /** How long to wait for the connection (ms, default 30000). */
  timeout?: number;
  /** A name shown in the scheduler's logs. */
  name?: string;
  /** The token the scheduler was started with, if it requires one. */
  authToken?: string;
  /**
   * TLS: `caCerts`, the CA (PEM) that signed the cluster's certificate, to dial its tls://
   * addresses (the scheduler, and workers for gather and scatter). Connecting to a LocalCluster
   * object, the client takes the cluster's CA.
   */
  tls?: TlsOptions;
  /** Accepted as in Dask, and not used yet: the connection itself shows the client is alive. */
  heartbeatInterval?: number;
  /** How long to keep trying to reconnect after the scheduler connection drops (ms, 30000; 0: never). */
  reconnectTimeout?: number;
  /**
   * What submit, map and compute do with an argument that is an instance of a class with
   * methods: it would reach the task as a plain object of its fields, without them. "error"
   * (default): throw a ClassInstanceError naming the argument and the class. "warn": send its
   * fields and warn once per class.
   */
  classInstances?: "error" | "warn";
}

/** Something with a scheduler address that `Client.connect` accepts: a LocalCluster, for example. */
export interface ClusterLike {
  /** The scheduler's address (`tcp://host:port`). */
  readonly schedulerAddress: string;
  /** An in-process address, used when the cluster lives in this process. */
  readonly inprocAddress?: string;
  /** The CA certificates its tls:// addresses need, when it has TLS (a client takes them). */
  readonly tls?: { readonly caCerts?: string[] };
  /** Stops the cluster (a Client started by `Client.connect()` closes its own this way). */
  close(): Promise<void>;
}

/** Options of `client.with(...)` for submit and map. */
export interface SubmitOptions {
  /** The task's key (default: a hash of the function and arguments, or random if not pure). */
  key?: string;
  /** Same function and arguments give the same key, computed once (default true). */
  pure?: boolean;
  /** Higher runs first among tasks that are ready (default 0). */
  priority?: number;
  /** How many times to run the task again after it errs (default 0). */
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
  /**
   * Submit a class as an actor: its instance is made on one worker and kept there, and the
   * Future resolves to a handle whose methods run on it (Dask's `actor=True`). Never pure.
   */
  actor?: boolean;
  /**
   * With `actor`: how many times the actor is re-created on another worker when the worker
   * holding it dies (its state starts over; calls in flight then fail). Default 0: its key
   * errs, as in Dask.
   */
  actorRestarts?: number;
}

/** What `client.with(options)` gives: submit and map with those options. */
export interface SubmitWith {
  /** An actor (with `actor: true`): `new cls(...args)` on one worker; a handle to call it. */
  submit<A extends unknown[], T>(
    cls: new (...args: A) => T,
    ...args: Args<A>
  ): Future<ActorHandle<T>>;
  /** Runs `fn(...args)` on a worker, with the options. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: Args<A>): Future<Awaited<R>>;
  /** One task per element of the zipped iterables, with the options. */
  map<R>(fn: (...args: any[]) => R, ...iterables: Iterable<unknown>[]): Future<Awaited<R>>[];
}

/** How a Client made inside a task (getClient()) knows its task; see client/in_task.ts. */
export interface InTaskClientHooks {
  /** The key of the task whose code runs now, if any (its submissions run before its siblings). */
  key(): string | undefined;
  /** Runs a wait on Futures (gather, await): the running task gives up its slot meanwhile. */
  wait<T>(f: () => Promise<T>): Promise<T>;
  /**
   * The address of the worker the task runs on, said in the client's hello: the scheduler
   * releases what the client holds (locks, semaphore leases) when that worker is removed.
   */
  worker?: string;
}

/** Options of `client.compute` / `client.get`, applied to every task of the graph. */
export type ComputeOptions = Pick<
  SubmitOptions,
  "priority" | "retries" | "workers" | "allowOtherWorkers" | "resources"
>;

/** A value, or a Future of it, also nested inside arrays and plain objects. */
export type MaybeFuture<T> =
  | T
  | Future<T>
  | (T extends readonly unknown[] ? { [K in keyof T]: MaybeFuture<T[K]> }
    : T extends Record<string, unknown> ? { [K in keyof T]: MaybeFuture<T[K]> }
    : never);

/** Arguments where any value may also be given as a Future of it. */
export type Args<A extends unknown[]> = { [I in keyof A]: MaybeFuture<A[I]> };

/** One worker as `client.schedulerInfo()` describes it. */
export interface SchedulerWorkerInfo {
  /** Its address, which names it everywhere. */
  address: string;
  /** Its name (its address unless it was given one). */
  name: string;
  /** Its thread slots. */
  nthreads: number;
  /** Bytes of memory it may use (0: no limit). */
  memoryLimit: number;
  /** Its process id. */
  pid: number;
  /** What it offers to tasks that ask for resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /**
   * "running"; "paused": it starts no new task (e.g. under memory pressure) and nothing new is
   * placed there; "closing": it is leaving. (Not in `retireWorkers`' result.)
   */
  status?: "running" | "paused" | "closing";
  /**
   * Its memory as of its last heartbeat, in bytes: `managed` (the values it holds in memory),
   * `unmanaged` (the rest of its process memory), `spilled` (values held only on disk) and
   * `rss` (its process memory). (Not in `retireWorkers`' result.)
   */
  memory?: { managed: number; unmanaged: number; spilled: number; rss: number };
}

/** What `client.schedulerInfo()` resolves to: the scheduler's address and its workers. */
export interface SchedulerInfo {
  /** The scheduler's address. */
  address: string;
  /** The workers, by address. */
  workers: Record<string, SchedulerWorkerInfo>;
}
