/**
 * Actor method calls on the worker–thread channel: the executor posts calls to the thread
 * holding each actor, and tells it which actors to drop; the thread posts the results back in
 * batches. Structured clone between parts of one process: not validated (see worker_thread.ts).
 *
 * @module
 */
import type { ErrorEnvelope } from "../../core/errors.ts";

/** A call as posted to a thread: number, actor key, method, encoded arguments. */
export interface ThreadActorCall {
  /** The call's number (the scheduler's). */
  i: number;
  /** The actor's key. */
  k: string;
  /** The method's name. */
  m: string;
  /** Argument payload: header and frames. */
  a: [Uint8Array, Uint8Array[]];
}

/** A call's outcome as a thread posts it: its encoded value, or its error. */
export interface ThreadActorResult {
  i: number;
  v?: [Uint8Array, Uint8Array[]];
  e?: ErrorEnvelope;
}

/** Executor -> thread, about actors. */
export type ToThreadActors =
  /** Run these calls, in this order, on the actors this thread holds. */
  | { op: "actor-calls"; calls: ThreadActorCall[] }
  /** Forget these actors (their keys were released). */
  | { op: "actor-drop"; keys: string[] };

/** Thread -> executor, about actors. */
export type FromThreadActors = { op: "actor-results"; results: ThreadActorResult[] };
