/**
 * The options of an Executor (worker/executor.ts): its threads, what it reports and to whom,
 * and what the code of its tasks may ask of the worker.
 *
 * @module
 */
import type { TaskWorkerInfo } from "../core/in_task.ts";
import type { Payload } from "../comm/serialize.ts";
import type { BufferPool } from "../comm/buffer_pool.ts";
import type { ActorCallResult } from "../comm/protocol.ts";
import type { TaskOutcome, ThreadErrorInfo } from "./task_run.ts";

/** Options of an Executor. */
export interface ExecutorOptions {
  nthreads: number;
  /** Tasks in flight per thread, to hide the postMessage round trip (default 2). */
  pipelineDepth?: number;
  /** Drop what tasks print instead of prefixing it with their key. */
  silenceLogs?: boolean;
  /** Receives outcomes in batches. */
  onOutcomes: (batch: TaskOutcome[]) => void;
  /** Receives stray errors of threads (default: console.error unless silenceLogs). */
  onThreadError?: (info: ThreadErrorInfo) => void;
  /** The thread script (default worker/thread.ts; tests substitute failing ones). */
  threadUrl?: string | URL;
  // in-task
  /** The worker, for getWorker()/getClient() in tasks (without it they throw). */
  worker?: Omit<TaskWorkerInfo, "thread">;
  /** The auth token the thread's getClient() presents. */
  authToken?: string;
  /** The CA certificates (PEM) the thread's getClient() trusts to dial tls:// addresses. */
  tlsCaCerts?: string[];
  /** A task gave its slot back (secede()). */
  onSecede?: (key: string) => void;
  /** A seceded task asks for a slot again; answer with `rejoined(key)`. */
  onRejoin?: (key: string) => void;
  /** Modules every thread imports before it runs tasks. */
  preload?: string[];
  /** A task logged an event (getWorker().logEvent) for the scheduler's event log. */
  onLogEvent?: (topics: string[], msg: Payload) => void;
  /**
   * The buffer pool whose regions the threads are told to release once collected (default: the
   * one installed in this process, if any).
   */
  pool?: BufferPool | null;
  /** Results of actor method calls, in batches. */
  onActorResults?: (results: ActorCallResult[]) => void;
}
