/**
 * The client's questions about the cluster's membership, and the requests that change it:
 * `scheduler-info`, `who-has`, `has-what`, `wait-for-workers`, `restart`, `retire-workers`.
 * Part of the client-scheduler channel (spread into its tables).
 *
 * @module
 */
import type { ErrorEnvelope } from "../../core/errors.ts";
import { isNat, isNum, isSize, isStr, opt, optEnvelope, optStr, strs, values } from "./fields.ts";
import { type Ack, isWorkerInfo, type WorkerInfo } from "./common.ts";
import { message, request, type Table } from "./spec.ts";

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

/**
 * Whether a worker takes new tasks: "running"; "paused" (it starts none, e.g. under memory
 * pressure); "closing" (it is leaving).
 */
export type WorkerStatusName = "running" | "paused" | "closing";

/**
 * A worker's memory as of its last heartbeat, in bytes (Dask's `MemoryState`): `managed`, the
 * values it holds in memory; `unmanaged`, the rest of its process memory (RSS minus managed);
 * `spilled`, values held only on disk; `rss`, its process memory.
 */
export interface WorkerMemory {
  managed: number;
  unmanaged: number;
  spilled: number;
  rss: number;
}

/** A worker as `scheduler-info` describes it: its handshake info, status and memory. */
export interface SchedulerWorkerEntry extends WorkerInfo {
  status: WorkerStatusName;
  memory: WorkerMemory;
}

const isWorkerMemory = (v: unknown): boolean => {
  if (typeof v !== "object" || v === null) return false;
  const m = v as Record<string, unknown>;
  return isSize(m.managed) && isSize(m.unmanaged) && isSize(m.spilled) && isSize(m.rss);
};

/** A SchedulerWorkerEntry. */
export const isSchedulerWorkerEntry = (v: unknown): boolean =>
  isWorkerInfo(v) && ["running", "paused", "closing"].includes((v as { status: string }).status) &&
  isWorkerMemory((v as { memory: unknown }).memory);

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

const byKey = (v: unknown): boolean => values(v, strs);

/** The requests of this module. */
export type ClusterInfoRequest =
  | SchedulerInfoRequest
  | WhoHas
  | HasWhat
  | WaitForWorkers
  | Restart
  | RetireWorkers;

/** The replies of this module. */
export type ClusterInfoReply =
  | SchedulerInfoReply
  | WhoHasReply
  | HasWhatReply
  | WaitForWorkersReply
  | RetireWorkersReply;

/** Each request of this module, and its reply. */
export interface ClusterInfoReplies {
  "scheduler-info": SchedulerInfoReply;
  "who-has": WhoHasReply;
  "has-what": HasWhatReply;
  "wait-for-workers": WaitForWorkersReply;
  restart: Ack;
  "retire-workers": RetireWorkersReply;
}

/** The requests, for the client's table. */
export const CLUSTER_INFO_REQUESTS: Table<ClusterInfoRequest, ClusterInfoReplies> = {
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
  restart: request<Restart, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    return isSize(m.timeout) ? null : "timeout";
  }),
  "retire-workers": request<RetireWorkers, RetireWorkersReply>("retire-workers-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.workers) ? null : "workers";
  }),
};

/** The replies, for the scheduler's table. */
export const CLUSTER_INFO_REPLIES: Table<ClusterInfoReply> = {
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
};
