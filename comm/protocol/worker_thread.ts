/**
 * The worker–thread channel: messages between a worker's executor and its Web Worker threads.
 * They travel by structured clone with transfer lists, between parts of one process that trust
 * each other, so they are not validated and share no op namespace with the network channels.
 */
import type { ErrorEnvelope } from "../../core/errors.ts";
import type { TaskWorkerInfo } from "../../core/in_task.ts";
import type { FromThreadActors, ToThreadActors } from "./actor_thread.ts";

/** A task as posted to a thread: key, function hash (+ name/source the first time), payloads. */
export interface WireTask {
  /** Key. */
  k: string;
  /** Function hash. */
  h: string;
  /** Function name (with `s`). */
  n?: string;
  /** Function source, sent once per thread per hash. */
  s?: string;
  /** Where the function was submitted from, "url:line" (with `s`, when known). */
  u?: string;
  /** Argument payload: header and frames. */
  a: [Uint8Array, Uint8Array[]];
  /** Dependency payloads: key, header, frames. */
  d?: [string, Uint8Array, Uint8Array[]][];
  /** An actor: the function is a class; its instance stays in the thread, its handle returns. */
  ac?: true;
}

/** An outcome as a thread posts it: value (header, frames) or error envelope, start/stop. */
export interface WireOutcome {
  /** Key. */
  k: string;
  /** Start, epoch ms. */
  s: number;
  /** Stop, epoch ms. */
  t: number;
  /** The encoded result when the task succeeded. */
  v?: [Uint8Array, Uint8Array[]];
  /** The error when it failed. */
  e?: ErrorEnvelope;
  /**
   * With `v` when a result frame is a view on a pooled region the task got (a result aliasing an
   * input): the region's pool id for each frame of `v`, 0 for the others.
   */
  p?: number[];
}

/** Messages from the executor to a thread. */
export type ToThread =
  | {
    op: "init";
    thread: number;
    silenceLogs: boolean;
    /** The worker, for getWorker()/getClient() (absent in bare executors: they then throw). */
    worker?: TaskWorkerInfo;
    authToken?: string;
    /** The CA certificates getClient() trusts for tls:// addresses. */
    tlsCaCerts?: string[];
    /** Shared with the executor: the thread adds 1 as it begins each task. */
    begun?: Int32Array;
  }
  | {
    op: "run";
    tasks: WireTask[];
    /**
     * The pooled regions (comm/buffer_pool.ts) the tasks' frames are on, each once, with its pool
     * id: the thread says when it has dropped each (`released`), so the region can be reused.
     */
    pool?: [SharedArrayBuffer, number][];
  }
  /** A seceded task may take a thread slot again (it asked with `rejoin`). */
  | { op: "rejoined"; key: string }
  | { op: "preload"; urls: string[] }
  /** Collect garbage now: the worker dropped a large value this thread may still reference. */
  | { op: "collect" }
  | ToThreadActors;

/** Messages from a thread to the executor. */
export type FromThread =
  | { op: "ready" }
  | { op: "done"; outcomes: WireOutcome[] }
  | { op: "stray"; key?: string; error: ErrorEnvelope }
  | { op: "closing"; reason: string }
  /** A running task gave its thread slot back (secede()). */
  | { op: "secede"; key: string }
  /** A seceded task asks for a thread slot again (rejoin()). */
  | { op: "rejoin"; key: string }
  /** A task logged an event (getWorker().logEvent): topics and the encoded message. */
  | { op: "log-event"; topics: string[]; msg: [Uint8Array, Uint8Array[]] }
  /** The thread collected pooled regions it got (one id per region object it received). */
  | { op: "released"; ids: number[] }
  | FromThreadActors;
