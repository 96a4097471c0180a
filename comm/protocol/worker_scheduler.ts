/**
 * The worker–scheduler channel: the scheduler hands a worker tasks, frees keys, moves
 * replicas, steals queued tasks back and stops it; the worker reports results, errors,
 * missing dependencies and its load. `run` and `preload` are the client's messages, relayed.
 */
import type { Payload } from "../serialize.ts";
import type { ErrorEnvelope } from "../../core/errors.ts";
import {
  column,
  envelope,
  isNat,
  isNum,
  isPayload,
  isSize,
  isStr,
  nums,
  opt,
  optBool,
  optPayload,
  optStr,
  strs,
  values,
} from "./fields.ts";
import { type Ack, type FunctionDef, isFunctionDef } from "./common.ts";
import {
  CLUSTER_CALL_REPLIES,
  CLUSTER_CALL_REQUESTS,
  type LogEvent,
  type Run,
  type RunReply,
} from "./cluster_calls.ts";
import { CLIENT_TO_SCHEDULER, type Preload } from "./client_scheduler.ts";
import {
  WORKER_DIAGNOSTIC_REPLIES,
  WORKER_DIAGNOSTIC_REQUESTS,
  type WorkerLogs,
  type WorkerLogsReply,
  type WorkerStory,
  type WorkerStoryReply,
} from "./worker_diagnostics.ts";
import { ACTOR_CALLS_TO_WORKER, ACTOR_RESULTS_TO_SCHEDULER } from "./actor_worker.ts";
import type { ActorCalls, ActorResults } from "./actor_worker.ts";
import { message, type OpSet, opsOf, request, type Table } from "./spec.ts";
import { isIoKind } from "./stream_kinds.ts";

/** Run a task. Dependencies not on this worker are listed with their holders. */
export interface ComputeTask {
  op: "compute-task";
  k: string;
  f: string;
  /** Function name and source, sent the first time this worker needs the hash. */
  fn?: FunctionDef;
  a: Payload;
  /** Dependencies: key -> workers holding it. */
  d: Record<string, string[]>;
  /** Priority tuple flattened: lower runs first. */
  p: number[];
  /** Send the value back with `task-finished` (a client wants it and it is small). */
  r?: boolean;
  /** An actor: `f` is a class, instantiated with `new` and kept in the thread that runs it. */
  ac?: boolean;
  /** The scheduler's stimulus that sent it (its story's id, e.g. `update-graph-16`). */
  sid?: string;
}

/** Drop these keys (data or pending tasks). */
export interface FreeKeys {
  op: "free-keys";
  keys: string[];
  /** The scheduler's stimulus that sent it. */
  sid?: string;
}

/** Stop now. */
export interface CloseWorker {
  op: "close-worker";
  reason: string;
  /** Exit so that the nanny starts a new worker process (client.restart()). */
  restart?: boolean;
}

/** Fetch these keys from their holders and keep them (replicate, rebalance, retire). */
export interface AcquireReplicas {
  op: "acquire-replicas";
  id: number;
  /** key -> workers holding it. */
  who: Record<string, string[]>;
}

/** Give `k` up if it has not started; the worker answers with `steal-response`. */
export interface StealRequest {
  op: "steal-request";
  k: string;
  /** The scheduler's stimulus that sent it. */
  sid?: string;
}

/**
 * A client will `put-data` these keys (a scatter the scheduler planned); answered once the
 * worker expects them. A worker stores no value it was not told of.
 */
export interface ExpectData {
  op: "expect-data";
  id: number;
  keys: string[];
}

/** A task finished; `v` is its value when the scheduler asked for it. */
export interface TaskFinished {
  op: "task-finished";
  k: string;
  nbytes: number;
  start: number;
  stop: number;
  v?: Payload;
  /** The index of the thread it ran on (the dashboard's task stream has a row per thread). */
  th?: number;
}

/** A task raised. */
export interface TaskErred {
  op: "task-erred";
  k: string;
  e: ErrorEnvelope;
  start: number;
  stop: number;
  /** The index of the thread it ran on. */
  th?: number;
}

/**
 * A task's thread died while it ran (it called Deno.exit, or crashed the thread): the scheduler
 * counts it as Dask counts a task whose worker died (suspicious; run again, or KilledWorker).
 */
export interface TaskCrashed {
  op: "task-crashed";
  k: string;
  /** What happened, e.g. "thread 0 died: the thread exited (Deno.exit?)". */
  reason: string;
}

/** A worker could not get a dependency from any holder. */
export interface MissingData {
  op: "missing-data";
  k: string;
  key: string;
  worker: string;
}

/** Periodic liveness and metrics. */
export interface Heartbeat {
  op: "heartbeat";
  /** Managed bytes: the values it holds in memory. */
  memory: number;
  executing: number;
  ready: number;
  stored: number;
  /** Its process's memory (RSS, bytes; an equal share when workers share a process). */
  rss: number;
  /** Bytes of values held only on disk. */
  spilled: number;
  /** Bytes written to disk by spilling, ever. */
  spillBytes: number;
  /** Seconds spent writing and reading spill files, ever. */
  spillSeconds: number;
  /** CPU use of its process since the previous heartbeat, in percent of one core. */
  cpu?: number;
}

/**
 * The worker's I/O since its previous batch, as columns (one entry per fetch from a peer, spill
 * write or read back): `kind[i]` 2 transfer, 3 disk-write, 4 disk-read (the task stream's
 * numbering), from `start[i]` to `stop[i]` (ms since the epoch), `nbytes[i]` moved, `keys[i]`
 * values, from peer `source[i]` ("" for disk). Sent at most once per heartbeat.
 */
export interface IoStreamBatch {
  op: "io-stream";
  kind: number[];
  start: number[];
  stop: number[];
  nbytes: number[];
  keys: number[];
  source: string[];
}

/** Whether a worker starts new tasks: "paused" (e.g. under memory pressure) or "running". */
export type WorkerRunStatus = "running" | "paused";

/**
 * A worker paused or resumed starting tasks: sent at once. The scheduler places nothing new on a
 * paused worker; tasks already there stay.
 */
export interface WorkerStatus {
  op: "worker-status";
  status: WorkerRunStatus;
}

/** The keys a worker now holds after `acquire-replicas` (the others could not be fetched). */
export interface AcquireReplicasReply {
  op: "acquire-replicas-reply";
  id: number;
  keys: string[];
}

/**
 * A worker's state of `k` when asked to give it up (null: it does not know `k`). "waiting" or
 * "ready" mean it dropped the task; anything else means it keeps it.
 */
export interface StealResponse {
  op: "steal-response";
  k: string;
  state: string | null;
}

/** A running task seceded: it no longer holds a thread slot. */
export interface LongRunning {
  op: "long-running";
  k: string;
}

/** Messages the scheduler sends a worker. */
export type SchedulerToWorker =
  | ComputeTask
  | FreeKeys
  | CloseWorker
  | Run
  | AcquireReplicas
  | StealRequest
  | Preload
  | ExpectData
  | WorkerStory
  | WorkerLogs
  | ActorCalls;

/** Each request the scheduler sends a worker, and its reply. */
export interface SchedulerRequestReplies {
  run: RunReply;
  "acquire-replicas": AcquireReplicasReply;
  "expect-data": Ack;
  "worker-story": WorkerStoryReply;
  "worker-logs": WorkerLogsReply;
}

/** Messages a worker sends the scheduler on its stream. */
export type WorkerToScheduler =
  | TaskFinished
  | TaskErred
  | TaskCrashed
  | MissingData
  | Heartbeat
  | WorkerStatus
  | RunReply
  | AcquireReplicasReply
  | StealResponse
  | LongRunning
  | WorkerStoryReply
  | WorkerLogsReply
  | IoStreamBatch
  | LogEvent
  | ActorResults;

/** What the scheduler may send a worker. */
export const SCHEDULER_TO_WORKER: Table<SchedulerToWorker, SchedulerRequestReplies> = {
  "compute-task": message<ComputeTask>((m) => {
    if (!isStr(m.k)) return "k";
    if (!isStr(m.f)) return "f";
    if (m.fn !== undefined && !isFunctionDef(m.fn)) return "fn";
    if (!isPayload(m.a)) return "a";
    if (!values(m.d, strs)) return "d";
    if (!nums(m.p)) return "p";
    if (!optStr(m.sid)) return "sid";
    if (!optBool(m.ac)) return "ac";
    return optBool(m.r) ? null : "r";
  }),
  "free-keys": message<FreeKeys>((m) => {
    if (!optStr(m.sid)) return "sid";
    return strs(m.keys) ? null : "keys";
  }),
  "close-worker": message<CloseWorker>((m) => {
    if (!optBool(m.restart)) return "restart";
    return isStr(m.reason) ? null : "reason";
  }),
  run: CLUSTER_CALL_REQUESTS.run,
  "acquire-replicas": request<AcquireReplicas, AcquireReplicasReply>(
    "acquire-replicas-reply",
    (m) => {
      if (!isNum(m.id)) return "id";
      return values(m.who, strs) ? null : "who";
    },
  ),
  "steal-request": message<StealRequest>((m) => {
    if (!optStr(m.sid)) return "sid";
    return isStr(m.k) ? null : "k";
  }),
  ...WORKER_DIAGNOSTIC_REQUESTS,
  preload: CLIENT_TO_SCHEDULER.preload,
  "expect-data": request<ExpectData, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.keys) ? null : "keys";
  }),
  ...ACTOR_CALLS_TO_WORKER,
};

/**
 * What a worker may send the scheduler on its stream. (It answers `expect-data` with an `ack`,
 * which the scheduler's pending request takes before any handler sees it.)
 */
export const WORKER_TO_SCHEDULER: Table<WorkerToScheduler> = {
  "task-finished": message<TaskFinished>((m) => {
    if (!isStr(m.k)) return "k";
    if (!isSize(m.nbytes)) return "nbytes";
    if (!isNum(m.start)) return "start";
    if (!isNum(m.stop)) return "stop";
    if (!opt(m.th, isNat)) return "th";
    return optPayload(m.v) ? null : "v";
  }),
  "task-erred": message<TaskErred>((m) => {
    if (!isStr(m.k)) return "k";
    if (!envelope(m.e)) return "e";
    if (!isNum(m.start)) return "start";
    if (!opt(m.th, isNat)) return "th";
    return isNum(m.stop) ? null : "stop";
  }),
  "task-crashed": message<TaskCrashed>((m) => {
    if (!isStr(m.k)) return "k";
    return isStr(m.reason) ? null : "reason";
  }),
  "missing-data": message<MissingData>((m) => {
    if (!isStr(m.k)) return "k";
    if (!isStr(m.key)) return "key";
    return isStr(m.worker) ? null : "worker";
  }),
  heartbeat: message<Heartbeat>((m) => {
    if (!isNum(m.memory)) return "memory";
    if (!isNum(m.executing)) return "executing";
    if (!isNum(m.ready)) return "ready";
    if (!isNum(m.stored)) return "stored";
    if (!isSize(m.rss)) return "rss";
    if (!isSize(m.spilled)) return "spilled";
    if (!isSize(m.spillBytes)) return "spillBytes";
    if (!isSize(m.spillSeconds)) return "spillSeconds";
    return opt(m.cpu, isSize) ? null : "cpu";
  }),
  "worker-status": message<WorkerStatus>((m) =>
    m.status === "running" || m.status === "paused" ? null : "status"
  ),
  "run-reply": CLUSTER_CALL_REPLIES["run-reply"],
  "acquire-replicas-reply": message<AcquireReplicasReply>((m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.keys) ? null : "keys";
  }),
  "steal-response": message<StealResponse>((m) => {
    if (!isStr(m.k)) return "k";
    return m.state === null || isStr(m.state) ? null : "state";
  }),
  "long-running": message<LongRunning>((m) => isStr(m.k) ? null : "k"),
  ...WORKER_DIAGNOSTIC_REPLIES,
  "io-stream": message<IoStreamBatch>((m) => {
    if (!nums(m.kind)) return "kind";
    const n = (m.kind as number[]).length;
    if (!(m.kind as number[]).every(isIoKind)) return "kind";
    if (!column(m.start, n, isNum)) return "start";
    if (!column(m.stop, n, isNum)) return "stop";
    if (!column(m.nbytes, n, isSize)) return "nbytes";
    if (!column(m.keys, n, isNat)) return "keys";
    return column(m.source, n, isStr) ? null : "source";
  }),
  // a task's getWorker().logEvent: the client's message, sent by the worker it runs on
  "log-event": CLUSTER_CALL_REQUESTS["log-event"],
  ...ACTOR_RESULTS_TO_SCHEDULER,
};

/** Ops the scheduler may send a worker. */
export const SCHEDULER_TO_WORKER_OPS: OpSet<SchedulerToWorker> = opsOf(SCHEDULER_TO_WORKER);
/** Ops a worker may send the scheduler. */
export const WORKER_OPS: OpSet<WorkerToScheduler> = opsOf(WORKER_TO_SCHEDULER);
