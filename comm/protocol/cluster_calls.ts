/**
 * Cluster-wide calls on the client–scheduler channel: running a function outside the task
 * graph, replicating and rebalancing data, published datasets, the event log and its topics,
 * and the task stream. The client–scheduler tables include these two.
 */
import type { Payload } from "../serialize.ts";
import type { ErrorEnvelope } from "../../core/errors.ts";
import {
  column,
  each,
  isNat,
  isNum,
  isPayload,
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
import { ACK, type Ack, type FunctionDef, isFunctionDef } from "./common.ts";
import { message, request, type Table } from "./spec.ts";

/**
 * Run a function outside the task graph. Client -> scheduler: on every worker (or on the
 * scheduler itself with `scheduler: true`); scheduler -> worker: on that worker.
 */
export interface Run {
  op: "run";
  id: number;
  fn: FunctionDef;
  /** Encoded argument array. */
  a: Payload;
  scheduler?: boolean;
}

/** Reply to `run`: `v` (one result), `results` (by worker address), or the error `e`. */
export interface RunReply {
  op: "run-reply";
  id: number;
  v?: Payload;
  results?: Record<string, Payload>;
  e?: ErrorEnvelope;
}

/** Copy these keys to `n` workers (all when absent). */
export interface Replicate {
  op: "replicate";
  id: number;
  keys: string[];
  n?: number;
}

/** Even out the bytes workers hold, moving these keys (all when absent). */
export interface Rebalance {
  op: "rebalance";
  id: number;
  keys?: string[];
}

/** Publish `v` (Futures inside are Refs to `keys`) under `name`. */
export interface PublishDataset {
  op: "publish-dataset";
  id: number;
  name: string;
  v: Payload;
  keys: string[];
}

/** Look a dataset up; waits up to `timeout` ms for it to be published. */
export interface GetDataset {
  op: "get-dataset";
  id: number;
  name: string;
  timeout?: number;
}

/** Reply to `get-dataset`: the value (Refs to `keys` inside), or the error `e`. */
export interface DatasetReply {
  op: "dataset-reply";
  id: number;
  v?: Payload;
  keys?: string[];
  e?: ErrorEnvelope;
}

/** Names of the published datasets. */
export interface ListDatasets {
  op: "list-datasets";
  id: number;
}

/** Reply to `list-datasets`. */
export interface ListDatasetsReply {
  op: "list-datasets-reply";
  id: number;
  names: string[];
}

/** Drop a dataset (and the scheduler's hold on its keys). */
export interface UnpublishDataset {
  op: "unpublish-dataset";
  id: number;
  name: string;
}

/** Record an event under each topic (no reply). */
export interface LogEvent {
  op: "log-event";
  topics: string[];
  msg: Payload;
}

/** Events recorded under `topic` (every topic when absent). */
export interface GetEvents {
  op: "get-events";
  id: number;
  topic?: string;
}

/** One recorded event: [ms since the epoch, message]. */
export type EventRecord = [number, Payload];

/** Reply to `get-events`: events by topic. */
export interface EventsReply {
  op: "events-reply";
  id: number;
  events: Record<string, EventRecord[]>;
}

/** Send this client every new event of `topic` as `topic-event`. */
export interface SubscribeTopic {
  op: "subscribe-topic";
  topic: string;
}

/** Stop sending events of `topic`. */
export interface UnsubscribeTopic {
  op: "unsubscribe-topic";
  topic: string;
}

/** A new event of a topic this client subscribed to. */
export interface TopicEvent {
  op: "topic-event";
  topic: string;
  time: number;
  msg: Payload;
}

/** Records of tasks that finished at or after `start` (ms since the epoch). */
export interface GetTaskStream {
  op: "get-task-stream";
  id: number;
  start?: number;
}

/**
 * Finished tasks and the workers' I/O, as parallel arrays (one entry per task, fetch, spill write
 * or read back).
 */
export interface TaskStreamReply {
  op: "task-stream-reply";
  id: number;
  keys: string[];
  workers: string[];
  starts: number[];
  stops: number[];
  /** 1 = finished (or I/O done), 0 = erred. */
  ok: number[];
  /** 0 compute, 1 erred, 2 transfer, 3 disk-write, 4 disk-read. */
  kind: number[];
  /** Bytes: a task's result, or the bytes a transfer or spill moved. */
  nbytes: number[];
  /** The peer a transfer came from ("" otherwise). */
  sources: string[];
}

const eventRecord = (v: unknown) =>
  Array.isArray(v) && v.length === 2 && isNum(v[0]) && isPayload(v[1]);
const eventRecords = (v: unknown) => each(v, eventRecord);
const byWorker = (v: unknown) => values(v, isPayload);

/** Client requests of cluster-wide calls. */
export type ClusterCallRequest =
  | Run
  | Replicate
  | Rebalance
  | PublishDataset
  | GetDataset
  | ListDatasets
  | UnpublishDataset
  | LogEvent
  | GetEvents
  | SubscribeTopic
  | UnsubscribeTopic
  | GetTaskStream;

/** Each cluster-wide call's reply. */
export interface ClusterCallReplies {
  run: RunReply;
  replicate: Ack;
  rebalance: Ack;
  "publish-dataset": Ack;
  "get-dataset": DatasetReply;
  "list-datasets": ListDatasetsReply;
  "unpublish-dataset": Ack;
  "get-events": EventsReply;
  "get-task-stream": TaskStreamReply;
}

/** Scheduler replies (and pushes) of cluster-wide calls. */
export type ClusterCallReply =
  | RunReply
  | Ack
  | DatasetReply
  | ListDatasetsReply
  | EventsReply
  | TopicEvent
  | TaskStreamReply;

/** The cluster-wide calls a client sends the scheduler. */
export const CLUSTER_CALL_REQUESTS: Table<ClusterCallRequest, ClusterCallReplies> = {
  run: request<Run, RunReply>("run-reply", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isFunctionDef(m.fn)) return "fn";
    if (!isPayload(m.a)) return "a";
    return optBool(m.scheduler) ? null : "scheduler";
  }),
  replicate: request<Replicate, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    if (!strs(m.keys)) return "keys";
    return opt(m.n, isNat) ? null : "n";
  }),
  rebalance: request<Rebalance, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    return opt(m.keys, strs) ? null : "keys";
  }),
  "publish-dataset": request<PublishDataset, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.name)) return "name";
    if (!isPayload(m.v)) return "v";
    return strs(m.keys) ? null : "keys";
  }),
  "get-dataset": request<GetDataset, DatasetReply>("dataset-reply", (m) => {
    if (!isNum(m.id)) return "id";
    if (!isStr(m.name)) return "name";
    return opt(m.timeout, isSize) ? null : "timeout";
  }),
  "list-datasets": request<ListDatasets, ListDatasetsReply>(
    "list-datasets-reply",
    (m) => isNum(m.id) ? null : "id",
  ),
  "unpublish-dataset": request<UnpublishDataset, Ack>("ack", (m) => {
    if (!isNum(m.id)) return "id";
    return isStr(m.name) ? null : "name";
  }),
  "log-event": message<LogEvent>((m) => {
    if (!strs(m.topics)) return "topics";
    return isPayload(m.msg) ? null : "msg";
  }),
  "get-events": request<GetEvents, EventsReply>("events-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return optStr(m.topic) ? null : "topic";
  }),
  "subscribe-topic": message<SubscribeTopic>((m) => isStr(m.topic) ? null : "topic"),
  "unsubscribe-topic": message<UnsubscribeTopic>((m) => isStr(m.topic) ? null : "topic"),
  "get-task-stream": request<GetTaskStream, TaskStreamReply>("task-stream-reply", (m) => {
    if (!isNum(m.id)) return "id";
    return opt(m.start, isNum) ? null : "start";
  }),
};

/** The scheduler's replies to cluster-wide calls, and the topic events it pushes. */
export const CLUSTER_CALL_REPLIES: Table<ClusterCallReply> = {
  "run-reply": message<RunReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!optPayload(m.v)) return "v";
    if (!opt(m.results, byWorker)) return "results";
    return optEnvelope(m.e) ? null : "e";
  }),
  ack: ACK,
  "dataset-reply": message<DatasetReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!optPayload(m.v)) return "v";
    if (!opt(m.keys, strs)) return "keys";
    return optEnvelope(m.e) ? null : "e";
  }),
  "list-datasets-reply": message<ListDatasetsReply>((m) => {
    if (!isNum(m.id)) return "id";
    return strs(m.names) ? null : "names";
  }),
  "events-reply": message<EventsReply>((m) => {
    if (!isNum(m.id)) return "id";
    return values(m.events, eventRecords) ? null : "events";
  }),
  "topic-event": message<TopicEvent>((m) => {
    if (!isStr(m.topic)) return "topic";
    if (!isNum(m.time)) return "time";
    return isPayload(m.msg) ? null : "msg";
  }),
  "task-stream-reply": message<TaskStreamReply>((m) => {
    if (!isNum(m.id)) return "id";
    if (!strs(m.keys)) return "keys";
    const n = (m.keys as string[]).length;
    if (!column(m.workers, n, isStr)) return "workers";
    if (!column(m.starts, n, isNum)) return "starts";
    if (!column(m.stops, n, isNum)) return "stops";
    if (!column(m.ok, n, isNum)) return "ok";
    if (!column(m.kind, n, isNat)) return "kind";
    if (!column(m.nbytes, n, isSize)) return "nbytes";
    return column(m.sources, n, isStr) ? null : "sources";
  }),
};
