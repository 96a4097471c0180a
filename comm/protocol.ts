/**
 * Every message dtask actors exchange, declared once: a union discriminated on `op`.
 *
 * Streams are long-lived: a connection carries batches of messages both ways after the
 * handshake. Requests that need a reply carry an `id` echoed by the reply.
 */
import type { Payload } from "./serialize.ts";
import { type ErrorEnvelope, ProtocolError } from "./errors.ts";

/** The protocol version; a peer with another one is refused at the handshake. */
export const PROTOCOL_VERSION = 1;

/** Who opens a connection. */
export type Role = "client" | "worker" | "peer";

/** A function shipped as source text, compiled once per hash on a worker. */
export interface FunctionDef {
  /** Hash of the source. */
  h: string;
  /** The function's name (may be empty). */
  n: string;
  /** Its source text. */
  s: string;
}

/** A task as a client submits it. */
export interface TaskSpec {
  /** Key. */
  k: string;
  /** Function hash (a FunctionDef sent earlier or in the same message). */
  f: string;
  /** Encoded argument array (Refs stand for dependencies). */
  a: Payload;
  /** Keys of dependencies. */
  d: string[];
  /** User priority (higher runs first); absent = 0. */
  p?: number;
  /** Retries left on error. */
  r?: number;
  /** Workers (addresses or names) it may run on. */
  w?: string[];
  /** Loose restriction: may run elsewhere when none of `w` is there. */
  lo?: boolean;
  // ---- in-task (issue 4: tasks launching tasks, resources) ----
  /** Resources it needs on its worker while it runs, e.g. `{ GPU: 1 }`. */
  rs?: Record<string, number>;
  /** The key of the task that submitted it (from inside a task): it runs before its siblings. */
  ps?: string;
}

/** What a worker tells the scheduler about itself in its handshake. */
export interface WorkerInfo {
  address: string;
  name: string;
  nthreads: number;
  memoryLimit: number;
  pid: number;
  resources?: Record<string, number>;
  /** A nanny watches its process and reports how it ended (`worker-exited`, i5). */
  nanny?: boolean;
}

/** First message on every connection. */
export interface Hello {
  op: "hello";
  version: number;
  role: Role;
  name: string;
  token?: string;
  worker?: WorkerInfo;
  /** A client reconnecting: the id it had, so the scheduler gives it back its wanted keys (i5). */
  resume?: string;
}

/** Handshake accepted. */
export interface Welcome {
  op: "welcome";
  version: number;
  /** The scheduler's (or peer's) own address. */
  address: string;
  /** Client id assigned by the scheduler. */
  id?: string;
}

/** Handshake refused; the connection closes after it. */
export interface Refused {
  op: "refused";
  reason: string;
}

// ---- client -> scheduler ----

/**
 * Tasks without options, column by column, each wanted by the client that sends them (what
 * `submit` and `map` make): the scheduler builds its records from these columns without
 * decoding an object, a string or a buffer view per task. Each task's dependencies come before
 * it, in this message or an earlier one.
 */
export interface PlainTasks {
  /** Keys. */
  k: string[];
  /** The function hashes used (each a FunctionDef sent earlier or in the same message). */
  f: string[];
  /** Per task, its function's index in `f`; absent: every task runs `f[0]`. */
  fi?: number[];
  /**
   * Every task's encoded arguments (msgpack, no frames), one after the other, as the header of
   * a Payload without frames: a big block travels as a frame, outside the msgpack header.
   */
  a: Payload;
  /** Per task, where its arguments end in `a` (they start where the previous task's end). */
  ae: number[];
  /** The dependency keys named, each once. */
  d: string[];
  /** Per task, how many dependencies it has; absent: none has any. */
  dc?: number[];
  /** The dependencies of every task in turn, as indices into `d`. */
  di?: number[];
}

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

/** Ask for live cluster facts; answered by `scheduler-info-reply` with the same id. */
export interface SchedulerInfoRequest {
  op: "scheduler-info";
  id: number;
}

/** Where are these keys? Answered by `who-has-reply`. */
export interface WhoHas {
  op: "who-has";
  id: number;
  keys: string[];
}

/** Which keys does each worker hold? Answered by `has-what-reply`. */
export interface HasWhat {
  op: "has-what";
  id: number;
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

// ---- scheduler -> client ----

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

/** Reply to `wait-for-workers`: how many there are, and an error when too few came in time. */
export interface WaitForWorkersReply {
  op: "wait-for-workers-reply";
  id: number;
  n: number;
  error?: string;
}

/** Reply to `scheduler-info`. */
export interface SchedulerInfoReply {
  op: "scheduler-info-reply";
  id: number;
  address: string;
  workers: Record<string, WorkerInfo>;
}

// ---- scheduler -> worker ----

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
}

/** Drop these keys (data or pending tasks). */
export interface FreeKeys {
  op: "free-keys";
  keys: string[];
}

/** Stop now. */
export interface CloseWorker {
  op: "close-worker";
  reason: string;
  /** Exit so that the nanny starts a new worker process (client.restart(), i5). */
  restart?: boolean;
}

// ---- worker -> scheduler ----

/** A task finished; `v` is its value when the scheduler asked for it. */
export interface TaskFinished {
  op: "task-finished";
  k: string;
  nbytes: number;
  start: number;
  stop: number;
  v?: Payload;
}

/** A task raised. */
export interface TaskErred {
  op: "task-erred";
  k: string;
  e: ErrorEnvelope;
  start: number;
  stop: number;
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
  memory: number;
  executing: number;
  ready: number;
  stored: number;
}

// ---- in-task (issue 4: tasks launching tasks, preload, resources) ----

/**
 * Modules every worker imports (client -> scheduler: add them for current and future workers;
 * scheduler -> worker: import them in every thread).
 */
export interface Preload {
  op: "preload";
  urls: string[];
}

/** A running task seceded: it no longer holds a thread slot (worker -> scheduler). */
export interface LongRunning {
  op: "long-running";
  k: string;
}

// ---- peer (worker <-> worker, client -> worker) ----

/** Ask a peer for values. */
export interface GetData {
  op: "get-data";
  id: number;
  keys: string[];
}

/** Values a peer holds; keys it does not hold are absent. */
export interface Data {
  op: "data";
  id: number;
  values: Record<string, Payload>;
}

// ---- cluster-wide calls (i4-cluster): run, replicate/rebalance, datasets, events, task stream ----

/**
 * Run a function outside the task graph. Client -> scheduler: on every worker (or on the
 * scheduler itself with `scheduler: true`); scheduler -> worker: on that worker. Answered by
 * `run-reply`.
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

/** Copy these keys to `n` workers (all when absent). Answered by `ack`. */
export interface Replicate {
  op: "replicate";
  id: number;
  keys: string[];
  n?: number;
}

/** Even out the bytes workers hold, moving these keys (all when absent). Answered by `ack`. */
export interface Rebalance {
  op: "rebalance";
  id: number;
  keys?: string[];
}

/** Publish `v` (Futures inside are Refs to `keys`) under `name`. Answered by `ack`. */
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

/** Names of the published datasets. Answered by `list-datasets-reply`. */
export interface ListDatasets {
  op: "list-datasets";
  id: number;
}

/** Drop a dataset (and the scheduler's hold on its keys). Answered by `ack`. */
export interface UnpublishDataset {
  op: "unpublish-dataset";
  id: number;
  name: string;
}

/** Record an event under each topic (stream message, no reply). */
export interface LogEvent {
  op: "log-event";
  topics: string[];
  msg: Payload;
}

/** Events recorded under `topic` (every topic when absent). Answered by `events-reply`. */
export interface GetEvents {
  op: "get-events";
  id: number;
  topic?: string;
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

/** Records of tasks that finished at or after `start` (ms since the epoch). */
export interface GetTaskStream {
  op: "get-task-stream";
  id: number;
  start?: number;
}

// ---- fault tolerance (i5) ----

/** Restart every worker through its nanny and cancel every task; answered by `ack`. */
export interface Restart {
  op: "restart";
  id: number;
  /** How long to wait for the workers to come back (ms). */
  timeout: number;
}

/** Stop these workers (addresses or names) gracefully, their data moved to peers; `ack`. */
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

/** The scheduler is shutting down for good: a client need not try to reconnect. */
export interface SchedulerClosing {
  op: "scheduler-closing";
  reason: string;
}

/** A generic reply: done, or failed with `e`. */
export interface Ack {
  op: "ack";
  id: number;
  e?: ErrorEnvelope;
}

/** Reply to `get-dataset`: the value (Refs to `keys` inside), or the error `e`. */
export interface DatasetReply {
  op: "dataset-reply";
  id: number;
  v?: Payload;
  keys?: string[];
  e?: ErrorEnvelope;
}

/** Reply to `list-datasets`. */
export interface ListDatasetsReply {
  op: "list-datasets-reply";
  id: number;
  names: string[];
}

/** One recorded event: [ms since the epoch, message]. */
export type EventRecord = [number, Payload];

/** Reply to `get-events`: events by topic. */
export interface EventsReply {
  op: "events-reply";
  id: number;
  events: Record<string, EventRecord[]>;
}

/** A new event of a topic this client subscribed to. */
export interface TopicEvent {
  op: "topic-event";
  topic: string;
  time: number;
  msg: Payload;
}

/** Finished tasks, as parallel arrays (one entry per task). */
export interface TaskStreamReply {
  op: "task-stream-reply";
  id: number;
  keys: string[];
  workers: string[];
  starts: number[];
  stops: number[];
  /** 1 = finished, 0 = erred. */
  ok: number[];
}

/** Scheduler -> worker: fetch these keys from their holders and keep them. */
export interface AcquireReplicas {
  op: "acquire-replicas";
  id: number;
  /** key -> workers holding it. */
  who: Record<string, string[]>;
}

/** Worker -> scheduler: the keys it now holds (the others could not be fetched). */
export interface AcquireReplicasReply {
  op: "acquire-replicas-reply";
  id: number;
  keys: string[];
}

/** Client requests of this feature. */
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
/** Scheduler replies (and pushes) of this feature. */
export type ClusterCallReply =
  | RunReply
  | Ack
  | DatasetReply
  | ListDatasetsReply
  | EventsReply
  | TopicEvent
  | TaskStreamReply;

// ---- work stealing (i4-steal) ----

/** Scheduler -> worker: give `k` up if it has not started; answered by `steal-response`. */
export interface StealRequest {
  op: "steal-request";
  k: string;
}

/**
 * Worker -> scheduler: its state of `k` when asked to give it up (null: it does not know `k`).
 * "waiting" or "ready" mean it dropped the task; anything else means it keeps it.
 */
export interface StealResponse {
  op: "steal-response";
  k: string;
  state: string | null;
}

// ---- graph, scatter, cancel, retry, fire-and-forget (i4-graph) ----

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
 * them; answered by `scatter-plan`. Keys the scheduler already holds are left out of the plan.
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

/** Reply to `scatter`: key -> workers to send its value to, or the error `e`. */
export interface ScatterPlan {
  op: "scatter-plan";
  id: number;
  who: Record<string, string[]>;
  e?: ErrorEnvelope;
}

/** Scattered values reached these workers (an empty list: it reached none, so it is lost). */
export interface UpdateData {
  op: "update-data";
  who: Record<string, string[]>;
  nbytes: Record<string, number>;
}

/**
 * Scheduler -> worker: a client will `put-data` these keys (a scatter the scheduler planned);
 * answered by `ack` once the worker expects them. A worker stores no value it was not told of.
 */
export interface ExpectData {
  op: "expect-data";
  id: number;
  keys: string[];
}

/**
 * Client -> worker: keep these values (scattered data) until the scheduler frees them; `ack`.
 * Refused as a whole unless the scheduler announced every key with `expect-data`.
 */
export interface PutData {
  op: "put-data";
  id: number;
  values: Record<string, Payload>;
}

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
  // cluster-wide calls (i4-cluster)
  | ClusterCallRequest
  // in-task (issue 4)
  | Preload
  // graph, scatter, cancel, retry (i4-graph)
  | CancelKeys
  | RetryKeys
  | FireAndForget
  | Scatter
  | UpdateData
  // fault tolerance (i5)
  | Restart
  | RetireWorkers
  | WorkerExited;
/** Messages the scheduler sends a client. */
export type SchedulerToClient =
  | KeyInMemory
  | KeyErred
  | KeysCancelled
  | SchedulerInfoReply
  | WhoHasReply
  | HasWhatReply
  | WaitForWorkersReply
  // cluster-wide calls (i4-cluster)
  | ClusterCallReply
  // scatter (i4-graph)
  | ScatterPlan
  // fault tolerance (i5)
  | SchedulerClosing;
/** Messages the scheduler sends a worker. */
export type SchedulerToWorker =
  | ComputeTask
  | FreeKeys
  | CloseWorker
  // cluster-wide calls (i4-cluster)
  | Run
  | AcquireReplicas
  // work stealing (i4-steal)
  | StealRequest
  // in-task (issue 4)
  | Preload
  | ExpectData;
/** Messages a worker sends the scheduler. */
export type WorkerToScheduler =
  | TaskFinished
  | TaskErred
  | MissingData
  | Heartbeat
  // cluster-wide calls (i4-cluster): replies, matched by id before the handler
  | RunReply
  | AcquireReplicasReply
  // work stealing (i4-steal)
  | StealResponse
  // in-task (issue 4)
  | LongRunning;
/** Messages between peers. */
export type PeerMessage = GetData | Data | PutData;
/** Handshake messages. */
export type HandshakeMessage = Hello | Welcome | Refused;

/** Any message dtask sends. */
export type Message =
  | HandshakeMessage
  | ClientToScheduler
  | SchedulerToClient
  | SchedulerToWorker
  | WorkerToScheduler
  | PeerMessage;

/** Dask's default fifo_timeout for submit and map (ms); UpdateGraph.fifo when absent (i4-steal). */
export const DEFAULT_FIFO_TIMEOUT = 100;

/** The ops of a message union as a set; the Record type makes the compiler demand every op. */
function opSet<M extends Message>(ops: Record<M["op"], true>): ReadonlySet<string> {
  return new Set(Object.keys(ops));
}

/** Ops a client may send the scheduler. */
export const CLIENT_OPS: ReadonlySet<string> = opSet<ClientToScheduler>({
  "update-graph": true,
  "release-keys": true,
  "request-values": true,
  "scheduler-info": true,
  "who-has": true,
  "has-what": true,
  "wait-for-workers": true,
  "close-client": true,
  // cluster-wide calls (i4-cluster)
  "run": true,
  "replicate": true,
  "rebalance": true,
  "publish-dataset": true,
  "get-dataset": true,
  "list-datasets": true,
  "unpublish-dataset": true,
  "log-event": true,
  "get-events": true,
  "subscribe-topic": true,
  "unsubscribe-topic": true,
  "get-task-stream": true,
  // in-task (issue 4)
  "preload": true,
  // graph, scatter, cancel, retry (i4-graph)
  "cancel-keys": true,
  "retry-keys": true,
  "fire-and-forget": true,
  "scatter": true,
  "update-data": true,
  // fault tolerance (i5)
  "restart": true,
  "retire-workers": true,
  "worker-exited": true,
});
/** Ops the scheduler may send a client. */
export const SCHEDULER_TO_CLIENT_OPS: ReadonlySet<string> = opSet<SchedulerToClient>({
  "key-in-memory": true,
  "key-erred": true,
  "keys-cancelled": true,
  "scheduler-info-reply": true,
  "who-has-reply": true,
  "has-what-reply": true,
  "wait-for-workers-reply": true,
  // cluster-wide calls (i4-cluster)
  "run-reply": true,
  "ack": true,
  "dataset-reply": true,
  "list-datasets-reply": true,
  "events-reply": true,
  "topic-event": true,
  "task-stream-reply": true,
  // scatter (i4-graph)
  "scatter-plan": true,
  // fault tolerance (i5)
  "scheduler-closing": true,
});
/** Ops a worker may send the scheduler. */
export const WORKER_OPS: ReadonlySet<string> = opSet<WorkerToScheduler>({
  "task-finished": true,
  "task-erred": true,
  "missing-data": true,
  "heartbeat": true,
  // cluster-wide calls (i4-cluster)
  "run-reply": true,
  "acquire-replicas-reply": true,
  // work stealing (i4-steal)
  "steal-response": true,
  // in-task (issue 4)
  "long-running": true,
});
/** Ops the scheduler may send a worker. */
export const SCHEDULER_TO_WORKER_OPS: ReadonlySet<string> = opSet<SchedulerToWorker>({
  "compute-task": true,
  "free-keys": true,
  "close-worker": true,
  // cluster-wide calls (i4-cluster)
  "run": true,
  "acquire-replicas": true,
  // work stealing (i4-steal)
  "steal-request": true,
  // in-task (issue 4)
  "preload": true,
  "expect-data": true,
});
/** Ops a peer may send a worker. */
export const PEER_REQUEST_OPS: ReadonlySet<string> = opSet<GetData | PutData>({
  "get-data": true,
  "put-data": true, // scatter (i4-graph)
});
/** Handshake ops. */
const HANDSHAKE_OPS: ReadonlySet<string> = opSet<HandshakeMessage>({
  hello: true,
  welcome: true,
  refused: true,
});

/** Every op, for validating what arrives. */
export const OPS: ReadonlySet<string> = new Set([
  ...HANDSHAKE_OPS,
  ...CLIENT_OPS,
  ...SCHEDULER_TO_CLIENT_OPS,
  ...WORKER_OPS,
  ...SCHEDULER_TO_WORKER_OPS,
  ...opSet<PeerMessage>({ "get-data": true, data: true, "put-data": true }),
]);

/**
 * Narrows a message to the union a stream's role allows (`ops` lists its ops); anything else
 * is a ProtocolError, which closes that one connection.
 */
export function expectOps<M extends Message>(
  msg: Message,
  ops: ReadonlySet<string>,
  from: string,
): M {
  if (!ops.has(msg.op)) throw new ProtocolError(`${from} may not send ${msg.op}`);
  return msg as M;
}

/** Makes the compiler prove a switch over `op` is exhaustive. */
export function unreachable(x: never): never {
  throw new Error(`unhandled message: ${JSON.stringify(x)}`);
}
