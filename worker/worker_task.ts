/**
 * What the worker's state machine works with: a task as the worker knows it, a run for the
 * executor, and the outbox its effects go through. Pure types and constants.
 *
 * @module
 */
import type { WorkerToScheduler } from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";

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
  /** A value of at least LARGE_VALUE bytes was dropped: its memory may be reclaimed now. */
  dropped?(nbytes: number): void;
}

/** Values this large are reported when dropped (WorkerOutbox.dropped). */
export const LARGE_VALUE = 8 * 1024 * 1024;

/** Results up to this size go back to the scheduler inline when a client wants them. */
export const INLINE_RESULT_MAX = 1024 * 1024;
