/**
 * What a worker's executor runs and what it reports: a task to run (its function by hash,
 * encoded arguments and dependencies), how a task ended, and a thread's stray error.
 *
 * @module
 */
import type { Payload } from "../comm/serialize.ts";
import type { ErrorEnvelope } from "../core/errors.ts";

/** Epoch milliseconds (outcomes' start and stop). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** A task to run: its function by hash (source the first time), encoded args and deps. */
export interface TaskRun {
  key: string;
  fnHash: string;
  fnName: string;
  /** May be omitted once this executor has seen the hash. */
  fnSource?: string;
  /** Where the function was submitted from, "url:line" (with its source), if known. */
  fnSite?: string;
  /** The encoded argument array; Refs in it stand for `deps`. */
  args: Payload;
  deps?: Map<string, Payload>;
  /** An actor: the function is a class, instantiated and kept by the thread that runs it. */
  actor?: boolean;
}

/** A function's name, source and the place it was submitted from, as a thread gets them. */
export interface FunctionText {
  name: string;
  source: string;
  site?: string;
}

/**
 * How a task ended; start/stop are epoch ms; thread is the thread's index (-1: none ran it).
 * `crashed` says why, when its thread died while it ran: not the task's own error, but what
 * Dask counts when a task's worker dies (the scheduler runs it again, up to `allowedFailures`).
 */
export type TaskOutcome =
  | { key: string; ok: true; value: Payload; start: number; stop: number; thread: number }
  | {
    key: string;
    ok: false;
    error: ErrorEnvelope;
    start: number;
    stop: number;
    thread: number;
    crashed?: string;
  };

/** A stray error or rejection a thread caught outside any task's try/catch. */
export interface ThreadErrorInfo {
  thread: number;
  /** The task running when it happened, if any. */
  key?: string;
  error: ErrorEnvelope;
}
