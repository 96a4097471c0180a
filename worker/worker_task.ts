/**
 * What the worker's state machine works with: a task as the worker knows it, a run for the
 * executor, and the outbox its effects go through. Pure types and constants.
 *
 * @module
 */
import type { WorkerToScheduler } from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import type { ServedData } from "./data_server.ts";

/** Task states on a worker, with Dask's meaning. */
export type WorkerTaskStateName =
  | "waiting"
  | "ready"
  | "executing"
  | "memory"
  | "error"
  | "cancelled";

/** One task this worker was asked to run. */
export interface WorkerTask {
  key: string;
  state: WorkerTaskStateName;
  fn: string;
  args: Payload;
  priority: number[];
  /** Dependency keys. */
  deps: string[];
  /** Dependencies not yet here. */
  missing: number;
  /** Send the value back with task-finished. */
  wantResult: boolean;
  heapIndex: number;
  /** It seceded: it runs on without holding a slot (in-task). */
  seceded?: boolean;
  /** Executing: its inputs are pinned in memory (until it settles or is forgotten). */
  pinned?: boolean;
  /** Executing: inputs being read back from disk before it can start. */
  loading?: number;
  /** In memory, written through: how it ran, reported once the write ends. */
  ran?: { start: number; stop: number; nbytes: number; thread?: number };
  /** An actor: its instance stays in the thread that made it until its key is freed. */
  actor?: boolean;
}

/** What a run on the executor needs. */
export interface Execution {
  key: string;
  fnHash: string;
  fnName: string;
  fnSource: string;
  /** Where the function was submitted from (FunctionDef.u), if known. */
  fnSite?: string;
  args: Payload;
  deps: Map<string, Payload>;
  /** An actor task: the function is a class, its instance kept by the thread. */
  actor?: boolean;
}

/** Where the worker state machine's effects go. */
export interface WorkerOutbox {
  /** A message for the scheduler. */
  scheduler(msg: WorkerToScheduler): void;
  /** Ask peer `worker` for these keys; answer with gotData / fetchFailed. */
  fetch(worker: string, keys: string[]): void;
  /** Start a task on a thread slot. */
  execute(run: Execution): void;
  /** A seceded task got a slot back (in-task). */
  rejoined?(key: string): void;
  /**
   * Memory was let go of (a large value dropped or spilled, or the worker is over its pause
   * threshold): collect garbage soon, so that it returns to the system.
   */
  collect(): void;
  /** Write `p` to spill file `id`; answer with `spilled` or `spillFailed`. */
  spill(id: number, p: Payload): void;
  /** Read spill file `id` back; answer with `unspilled` or `unspillFailed`. */
  unspill(id: number): void;
  /** Remove spill file `id` (once its write ends, if one is under way). */
  discard(id: number): void;
  /** The answer to peer request `req` (see `serveData`). */
  served(req: number, answer: ServedData): void;
  /** A line for the worker's log. */
  log(line: string): void;
  /** The key of an actor was freed: the thread holding its instance drops it. */
  dropActor?(key: string): void;
}

/** Values this large are let go of with a garbage collection (WorkerOutbox.collect). */
export const LARGE_VALUE = 8 * 1024 * 1024;

/** Results up to this size go back to the scheduler inline when a client wants them. */
export const INLINE_RESULT_MAX = 1024 * 1024;
