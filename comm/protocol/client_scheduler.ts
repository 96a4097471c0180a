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
  isNat,
  isNum,
  isSize,
  isStr,
  opt,
  optBool,
  optEnvelope,
  optPayload,
  optStr,
  strs,
  values,
} from "./fields.ts";
import { type Story, STORY_REPLIES, STORY_REQUESTS, type StoryReply } from "./story.ts";
import {
  type Ack,
  type FunctionDef,
  isFunctionDefs,
  isPlainTasks,
  isTaskSpec,
  isWorkerInfo,
  type PlainTasks,
  type TaskSpec,
  type WorkerInfo,
} from "./common.ts";
import {
  CLUSTER_CALL_REPLIES,
  CLUSTER_CALL_REQUESTS,
  type ClusterCallReplies,
  type ClusterCallReply,
  type ClusterCallRequest,
} from "./cluster_calls.ts";
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

/** Ask for live cluster facts. */
export interface SchedulerInfoRequest {
  op: "scheduler-info";
  id: number;
}

/** Where are these keys? */
export interface WhoHas {
  op: "who-has";
  id: number;
  keys: string[];
}

/** Which keys does each worker hold (of `workers`, addresses or names, when given)? */
export interface HasWhat {
  op: "has-what";
  id: number;
  workers?: string[];
}

/** Answer once at least `n` workers are connected, or after `timeout` ms with an error. */
export interface WaitForWorkers {
  op: "wait-for-workers";
  id: number;
  n: number;
  timeout: number;
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

/** Restart every worker through its nanny and cancel every task. */
export interface Restart {
  op: "restart";
  id: number;
  /** How long to wait for the workers to come back (ms). */
  timeout: number;
}

/** Stop these workers (addresses or names) gracefully, their data moved to peers. */
export interface RetireWorkers {
  op: "retire-workers";
  id: number;
  workers: string[];
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

/**
 * Whether a worker takes new tasks: "running"; "paused" (it starts none, e.g. under memory
 * pressure); "closing" (it is leaving).
 */
export type WorkerStatusName = "running" | "paused" | "closing";

/** A worker as `scheduler-info` describes it: its handshake info and its status. */
export interface SchedulerWorkerEntry extends WorkerInfo {
  status: WorkerStatusName;
}

/** A SchedulerWorkerEntry. */
export const isSchedulerWorkerEntry = (v: unknown): boolean =>
  isWorkerInfo(v) && ["running", "paused", "closing"].includes((v as { status: string }).status);

/** Reply to `scheduler-info`. */
export interface SchedulerInfoReply {
  op: "scheduler-info-reply";
  id: number;
  address: string;
  workers: Record<string, SchedulerWorkerEntry>;
}

/** Reply to `who-has`: key -> worker addresses (empty when nowhere). */
export interface WhoHasReply {
  op: "who-has-reply";
  id: number;
  whoHas: Record<string, string[]>;
}

/** Reply to `has-what`: worker address -> keys. */
export interface HasWhatReply {
  op: "has-what-reply";
  id: number;
  hasWhat: Record<string, string[]>;
}

/** Reply to `retire-workers`: each retired worker's info by address, or the error `e`. */
export interface RetireWorkersReply {
  op: "retire-workers-reply";
  id: number;
  workers: Record<string, WorkerInfo>;
  e?: ErrorEnvelope;
}

/** Reply to `wait-for-workers`: how many there are, and an error when too few came in time. */
export interface WaitForWorkersReply {
  op: "wait-for-workers-reply";
  id: number;
  n: number;
  error?: string;
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
  | SchedulerInfoRequest
  | WhoHas
  | HasWhat
  | WaitForWorkers
  | CloseClient
  | Preload
  | CancelKeys
  | RetryKeys
  | FireAndForget
  | Scatter
  | UpdateData
  | Restart
  | RetireWorkers
  | WorkerExited
  | Story
  | ClusterCallRequest;

/** Each request a client sends the scheduler, and its reply. */
export interface ClientRequestReplies extends ClusterCallReplies {
  "scheduler-info": SchedulerInfoReply;
  "who-has": WhoHasReply;
  "has-what": HasWhatReply;
  "wait-for-workers": WaitForWorkersReply;
  scatter: ScatterPlan;
  restart: Ack;
  "retire-workers": RetireWorkersReply;
  story: StoryReply;
}

/** Messages the scheduler sends a client. */
export type SchedulerToClient =
  | KeyInMemory
  | KeyErred
  | KeysCancelled
  | SchedulerInfoReply
  | WhoHasReply
  | HasWhatReply
  | WaitForWorkersReply
  | RetireWorkersReply
  | ScatterPlan
  | SchedulerClosing
  | StoryReply
  | ClusterCallReply;

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
  "scheduler-info": request<SchedulerInfoRequest, SchedulerInfoReply>(
    "scheduler-info-reply",
    (m) => isNum(m.id) ? null : "id",
  ),
  "who-has": request<WhoHas, WhoHasReply>("who-has-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.keys) ? null : "keys";
  }),
  "has-what": request<HasWhat, HasWhatReply>("has-what-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return opt(m.workers, strs) ? null : "workers";
  }),
  "wait-for-workers": request<WaitForWorkers, WaitForWorkersReply>(
    "wait-for-workers-reply",
    (m) => {
      if (!isNum(m.id)) return "id";
      if (!isNat(m.n)) return "n";
      return isSize(m.timeout) ? null : "timeout";
    },
  ),
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
  restart: request<Restart, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    return isSize(m.timeout) ? null : "timeout";
  }),
  "retire-workers": request<RetireWorkers, RetireWorkersReply>("retire-workers-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.workers) ? null : "workers";
  }),
  "worker-exited": message<WorkerExited>((m) => {
    if (!isStr(m.address)) return "address";
    return isStr(m.how) ? null : "how";
  }),
  ...STORY_REQUESTS,
  ...CLUSTER_CALL_REQUESTS,
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
  "scheduler-info-reply": message<SchedulerInfoReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.address)) return "address";
    return values(m.workers, isSchedulerWorkerEntry) ? null : "workers";
  }),
  "who-has-reply": message<WhoHasReply>((m) => {
    if (!isNum(m.id)) return "id";
    return byKey(m.whoHas) ? null : "whoHas";
  }),
  "has-what-reply": message<HasWhatReply>((m) => {
    if (!isNum(m.id)) return "id";
    return byKey(m.hasWhat) ? null : "hasWhat";
  }),
  "wait-for-workers-reply": message<WaitForWorkersReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!isNat(m.n)) return "n";
    return optStr(m.error) ? null : "error";
  }),
  "retire-workers-reply": message<RetireWorkersReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!values(m.workers, isWorkerInfo)) return "workers";
    return optEnvelope(m.e) ? null : "e";
  }),
  "scatter-plan": message<ScatterPlan>((m) => {
    if (!isNum(m.id)) return "id";
    if (!byKey(m.who)) return "who";
    return optEnvelope(m.e) ? null : "e";
  }),
  "scheduler-closing": message<SchedulerClosing>((m) => isStr(m.reason) ? null : "reason"),
  ...STORY_REPLIES,
  ...CLUSTER_CALL_REPLIES,
};

/** Ops a client may send the scheduler. */
export const CLIENT_OPS: OpSet<ClientToScheduler> = opsOf(CLIENT_TO_SCHEDULER);
/** Ops the scheduler may send a client. */
export const SCHEDULER_TO_CLIENT_OPS: OpSet<SchedulerToClient> = opsOf(SCHEDULER_TO_CLIENT);
