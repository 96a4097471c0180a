/**
 * The client–scheduler channel: a client submits and releases tasks, asks about the cluster,
 * cancels, retries, scatters, restarts and retires workers; the scheduler tells it what became
 * of its keys. Cluster-wide calls (cluster_calls.ts) travel on it too.
 */
import type { Payload } from "../serialize.ts";
import type { ErrorEnvelope } from "../../core/errors.ts";
import {
  each,
  envelope,
  isNum,
  isPayload,
  isSize,
  isStr,
  opt,
  optBool,
  optEnvelope,
  optPayload,
  strs,
  values,
} from "./fields.ts";
import { type Story, STORY_REPLIES, STORY_REQUESTS, type StoryReply } from "./story.ts";
import {
  type GetWorkerLogs,
  type GetWorkerLogsReply,
  WORKER_LOGS_REPLIES,
  WORKER_LOGS_REQUESTS,
} from "./worker_logs.ts";
import {
  CLUSTER_INFO_REPLIES,
  CLUSTER_INFO_REQUESTS,
  type ClusterInfoReplies,
  type ClusterInfoReply,
  type ClusterInfoRequest,
} from "./cluster_info.ts";
import {
  type Ack,
  type FunctionDef,
  isFunctionDefs,
  isPlainTasks,
  isTaskSpec,
  type PlainTasks,
  type TaskSpec,
} from "./common.ts";
import {
  CLUSTER_CALL_REPLIES,
  CLUSTER_CALL_REQUESTS,
  type ClusterCallReplies,
  type ClusterCallReply,
  type ClusterCallRequest,
} from "./cluster_calls.ts";
import {
  LOCK_REPLIES,
  LOCK_REQUESTS,
  type LockReplies,
  type LockReplyMessage,
  type LockRequestMessage,
} from "./locks.ts";
import {
  ACTOR_CALL_REPLIES,
  ACTOR_CALL_REQUESTS,
  type ActorCall,
  type ActorCallReplies,
  type ActorCallReply,
} from "./actor_calls.ts";
import {
  SHARED_VALUE_REPLIES,
  SHARED_VALUE_REQUESTS,
  type SharedValueReplies,
  type SharedValueReply,
  type SharedValueRequest,
} from "./shared_values.ts";
import { message, type OpSet, opsOf, request, type Table } from "./spec.ts";

/** Dask's default fifo_timeout for submit and map (ms); UpdateGraph.fifo when absent. */
export const DEFAULT_FIFO_TIMEOUT = 100;

/** Submit tasks; `wanted` are the keys the client holds Futures for. */
export interface UpdateGraph {
  op: "update-graph";
  tasks: TaskSpec[];
  /** More tasks, all wanted (processed before `tasks`; a message carries one or the other). */
  plain?: PlainTasks;
  wanted: string[];
  functions?: FunctionDef[];
  /** fifoTimeout (ms) of these submissions: a later generation starts after it (absent = 100). */
  fifo?: number;
}

/** The client no longer holds Futures for these keys. */
export interface ReleaseKeys {
  op: "release-keys";
  keys: string[];
}

/** Ask for the values of keys in memory (answered by `key-in-memory` with values). */
export interface RequestValues {
  op: "request-values";
  keys: string[];
}

/** A client says goodbye. */
export interface CloseClient {
  op: "close-client";
}

/**
 * Modules every worker imports (client -> scheduler: add them for current and future workers;
 * scheduler -> worker: import them in every thread).
 */
export interface Preload {
  op: "preload";
  urls: string[];
}

/** Cancel keys: drop this client's interest (every client's with `force`) and cascade. */
export interface CancelKeys {
  op: "cancel-keys";
  keys: string[];
  force?: boolean;
}

/** Run erred keys (and their erred dependencies) again. */
export interface RetryKeys {
  op: "retry-keys";
  keys: string[];
}

/** Keep these keys running to completion with no Future held (Dask's "fire-and-forget" client). */
export interface FireAndForget {
  op: "fire-and-forget";
  keys: string[];
}

/**
 * Scatter: this client wants `keys` (values it holds, `nbytes` each) and asks where to put
 * them. Keys the scheduler already holds are left out of the plan.
 */
export interface Scatter {
  op: "scatter";
  id: number;
  keys: string[];
  nbytes: number[];
  /** Workers (addresses or names) allowed to hold them. */
  workers?: string[];
  /** Every allowed worker gets a copy. */
  broadcast?: boolean;
  /** How long (ms) to wait for a worker to join when none is there. */
  timeout?: number;
}

/** Scattered values reached these workers (an empty list: it reached none, so it is lost). */
export interface UpdateData {
  op: "update-data";
  who: Record<string, string[]>;
  nbytes: Record<string, number>;
}

/**
 * Proxied gather: the scheduler fetches `keys` from `worker` (a connected worker) for a client
 * that cannot reach workers itself (one connected over WebSocket, or with no transport for
 * their addresses) and answers with the values as frames on the same connection.
 */
export interface GatherValues {
  op: "gather-values";
  id: number;
  /** The worker that holds the keys, as `key-in-memory` named it. */
  worker: string;
  keys: string[];
}

/** Reply to `gather-values`: the values `worker` had (keys it did not have are absent). */
export interface GatheredValues {
  op: "gathered-values";
  id: number;
  values: Record<string, Payload>;
}

/**
 * Proxied scatter: the scheduler hands `values` to `worker` (as a client's `put-data` would)
 * for a client that cannot reach workers itself; answered by `ack` once the worker took them.
 */
export interface ScatterValues {
  op: "scatter-values";
  id: number;
  worker: string;
  values: Record<string, Payload>;
}

/** A nanny (connected as a client) says how its worker's process ended, for KilledWorker. */
export interface WorkerExited {
  op: "worker-exited";
  /** The worker's address. */
  address: string;
  /** "exit code 3", "killed by signal SIGKILL". */
  how: string;
}

/** A wanted key is in memory; `v` carries the value when it is small enough. */
export interface KeyInMemory {
  op: "key-in-memory";
  k: string;
  /** Workers holding it. */
  w: string[];
  v?: Payload;
}

/** A wanted key erred (its own error or a dependency's). */
export interface KeyErred {
  op: "key-erred";
  k: string;
  e: ErrorEnvelope;
  /** The key whose task actually raised. */
  blame: string;
}

/** Keys were cancelled or lost beyond recovery. */
export interface KeysCancelled {
  op: "keys-cancelled";
  keys: string[];
  reason: string;
}

/** Reply to `scatter`: key -> workers to send its value to, or the error `e`. */
export interface ScatterPlan {
  op: "scatter-plan";
  id: number;
  who: Record<string, string[]>;
  e?: ErrorEnvelope;
}

/** The scheduler is shutting down for good: a client need not try to reconnect. */
export interface SchedulerClosing {
  op: "scheduler-closing";
  reason: string;
}

const keysOnly = (m: { readonly keys: unknown }): "keys" | null => strs(m.keys) ? null : "keys";
const byKey = (v: unknown): boolean => values(v, strs);
/** At least 0, possibly infinite. */
const isTimeout = (v: unknown): boolean => isNum(v) && v >= 0;

/** Messages on a client's stream to the scheduler. */
export type ClientToScheduler =
  | UpdateGraph
  | ReleaseKeys
  | RequestValues
  | CloseClient
  | Preload
  | CancelKeys
  | RetryKeys
  | FireAndForget
  | Scatter
  | UpdateData
  | WorkerExited
  | GatherValues
  | ScatterValues
  | Story
  | GetWorkerLogs
  | ClusterInfoRequest
  | ClusterCallRequest
  | LockRequestMessage
  | ActorCall
  | SharedValueRequest;

/** Each request a client sends the scheduler, and its reply. */
export interface ClientRequestReplies
  extends
    ClusterCallReplies,
    ClusterInfoReplies,
    LockReplies,
    ActorCallReplies,
    SharedValueReplies {
  scatter: ScatterPlan;
  "gather-values": GatheredValues;
  "scatter-values": Ack;
  story: StoryReply;
  "get-worker-logs": GetWorkerLogsReply;
}

/** Messages the scheduler sends a client. */
export type SchedulerToClient =
  | KeyInMemory
  | KeyErred
  | KeysCancelled
  | ScatterPlan
  | GatheredValues
  | SchedulerClosing
  | StoryReply
  | GetWorkerLogsReply
  | ClusterInfoReply
  | ClusterCallReply
  | LockReplyMessage
  | ActorCallReply
  | SharedValueReply;

/** What a client may send the scheduler. */
export const CLIENT_TO_SCHEDULER: Table<ClientToScheduler, ClientRequestReplies> = {
  "update-graph": message<UpdateGraph>((m) => {
    if (!each(m.tasks, isTaskSpec)) return "tasks";
    if (!opt(m.plain, isPlainTasks)) return "plain";
    if (!strs(m.wanted)) return "wanted";
    if (!opt(m.fifo, isTimeout)) return "fifo";
    return opt(m.functions, isFunctionDefs) ? null : "functions";
  }),
  "release-keys": message<ReleaseKeys>(keysOnly),
  "request-values": message<RequestValues>(keysOnly),
  "close-client": message<CloseClient>(() => null),
  preload: message<Preload>((m) => strs(m.urls) ? null : "urls"),
  "cancel-keys": message<CancelKeys>((m) => {
    if (!strs(m.keys)) return "keys";
    return optBool(m.force) ? null : "force";
  }),
  "retry-keys": message<RetryKeys>(keysOnly),
  "fire-and-forget": message<FireAndForget>(keysOnly),
  scatter: request<Scatter, ScatterPlan>("scatter-plan", (m) => {
    if (!isNum(m.id)) return "id";
    if (!strs(m.keys)) return "keys";
    if (!each(m.nbytes, isSize) || (m.nbytes as number[]).length !== (m.keys as string[]).length) {
      return "nbytes";
    }
    if (!opt(m.workers, strs)) return "workers";
    if (!optBool(m.broadcast)) return "broadcast";
    return opt(m.timeout, isSize) ? null : "timeout";
  }),
  "update-data": message<UpdateData>((m) => {
    if (!byKey(m.who)) return "who";
    return values(m.nbytes, isSize) ? null : "nbytes";
  }),
  "worker-exited": message<WorkerExited>((m) => {
    if (!isStr(m.address)) return "address";
    return isStr(m.how) ? null : "how";
  }),
  "gather-values": request<GatherValues, GatheredValues>("gathered-values", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.worker)) return "worker";
    return strs(m.keys) ? null : "keys";
  }),
  "scatter-values": request<ScatterValues, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.worker)) return "worker";
    return values(m.values, isPayload) ? null : "values";
  }),
  ...STORY_REQUESTS,
  ...WORKER_LOGS_REQUESTS,
  ...CLUSTER_INFO_REQUESTS,
  ...CLUSTER_CALL_REQUESTS,
  ...LOCK_REQUESTS,
  ...ACTOR_CALL_REQUESTS,
  ...SHARED_VALUE_REQUESTS,
};

/** What the scheduler may send a client. */
export const SCHEDULER_TO_CLIENT: Table<SchedulerToClient> = {
  "key-in-memory": message<KeyInMemory>((m) => {
    if (!isStr(m.k)) return "k";
    if (!strs(m.w)) return "w";
    return optPayload(m.v) ? null : "v";
  }),
  "key-erred": message<KeyErred>((m) => {
    if (!isStr(m.k)) return "k";
    if (!envelope(m.e)) return "e";
    return isStr(m.blame) ? null : "blame";
  }),
  "keys-cancelled": message<KeysCancelled>((m) => {
    if (!strs(m.keys)) return "keys";
    return isStr(m.reason) ? null : "reason";
  }),
  "scatter-plan": message<ScatterPlan>((m) => {
    if (!isNum(m.id)) return "id";
    if (!byKey(m.who)) return "who";
    return optEnvelope(m.e) ? null : "e";
  }),
  "gathered-values": message<GatheredValues>((m) => {
    if (!isNum(m.id)) return "id";
    return values(m.values, isPayload) ? null : "values";
  }),
  "scheduler-closing": message<SchedulerClosing>((m) => isStr(m.reason) ? null : "reason"),
  ...STORY_REPLIES,
  ...WORKER_LOGS_REPLIES,
  ...CLUSTER_INFO_REPLIES,
  ...CLUSTER_CALL_REPLIES,
  ...LOCK_REPLIES,
  ...ACTOR_CALL_REPLIES,
  ...SHARED_VALUE_REPLIES,
};

/** Ops a client may send the scheduler. */
export const CLIENT_OPS: OpSet<ClientToScheduler> = opsOf(CLIENT_TO_SCHEDULER);
/** Ops the scheduler may send a client. */
export const SCHEDULER_TO_CLIENT_OPS: OpSet<SchedulerToClient> = opsOf(SCHEDULER_TO_CLIENT);
