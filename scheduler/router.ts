/**
 * The router: each message a worker or a client sends goes, by its op, to the extension of the
 * state machine that owns it or to the shell part that handles it. Both switches are exhaustive
 * (a new op does not compile until it is routed). Each message is a stimulus of its own: its
 * op names its id in the stimulus log.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import {
  CLIENT_OPS,
  type ClientToScheduler,
  expectOps,
  type GatherValues,
  type IoStreamBatch,
  type Message,
  type Scatter,
  type ScatterValues,
  type SchedulerWorkerEntry,
  type StoryEvent,
  unreachable,
  WORKER_OPS,
  type WorkerInfo,
  type WorkerToScheduler,
} from "../comm/protocol.ts";
import { toEnvelope } from "../core/errors.ts";
import { STREAM_KINDS, STREAM_TRANSFER } from "../comm/protocol/stream_kinds.ts";
import type { ClusterCalls } from "./cluster_calls.ts";
import type { SharedValues } from "./shared_values.ts";
import type { TaskStream } from "./event_log.ts";
import type { SchedulerState } from "./state.ts";
import type { StimulusLog } from "../actor/stimulus_log.ts";
import type { WorkerState } from "./task_state.ts";
import { workerNamed } from "./retire.ts";
import { workerMemory } from "./view.ts";
import type { WorkerSessions } from "./worker_sessions.ts";
import type { ClientSessions } from "./client_sessions.ts";
import type { LockExtension } from "./lock_extension.ts";
import { WORKERS_WAIT_TIMEOUT } from "../comm/timeouts.ts";
import type { ActorRelay } from "./actor_relay.ts";

/** The shell handlers the router hands messages to. */
export interface RouterHost {
  readonly state: SchedulerState;
  readonly calls: ClusterCalls;
  /** Queues, variables and events. */
  readonly shared: SharedValues;
  readonly stimuli: StimulusLog;
  readonly workers: WorkerSessions;
  readonly clients: ClientSessions;
  /** Lock, MultiLock and Semaphore. */
  readonly locks: LockExtension;
  /** The scheduler's address. */
  readonly address: string;
  /** Plans a scatter (waiting for a worker when none may hold the data yet). */
  scatter(client: string, m: Scatter, conn: Connection): void;
  /** Fetches values from a worker for a client that cannot reach it; replies on `conn`. */
  gatherValues(m: GatherValues, conn: Connection): void;
  /** Hands values to a worker for a client that cannot reach it; replies on `conn`. */
  scatterValues(m: ScatterValues, conn: Connection): void;
  /** Adds modules for every worker to import. */
  preload(urls: string[]): void;
  /** Restarts every worker; resolves once they are back. */
  restart(timeout: number): Promise<void>;
  /** Retires workers (addresses or names); resolves with their infos once they left. */
  retire(names: string[], timeout: number): Promise<Record<string, WorkerInfo>>;
  /** Resolves once `n` workers are connected. */
  waitForWorkers(n: number, timeout: number): Promise<void>;
  /** What each connected worker's log holds about `keys` (none from a worker that fails). */
  workerStories(keys: string[]): Promise<StoryEvent[][]>;
  /** The log lines of the workers named (addresses or names; all when absent), by address. */
  workerLogs(names?: string[]): Promise<Record<string, [string, string][]>>;
  /** Actor method calls, relayed to the workers holding the actors. */
  readonly actors: Pick<ActorRelay, "call" | "results">;
}

/** The scheduler's story and its workers', in the order things happened. */
function mergeStories(own: StoryEvent[], theirs: StoryEvent[][]): StoryEvent[] {
  const all = own.concat(...theirs);
  // stable: entries of one log at the same millisecond keep their order
  return all.sort((a, b) => a.time - b.time);
}

/** Routes the messages of workers and clients. */
export class Router {
  readonly #state: SchedulerState;
  readonly #calls: ClusterCalls;
  readonly #stimuli: StimulusLog;

  constructor(readonly host: RouterHost) {
    this.#state = host.state;
    this.#calls = host.calls;
    this.#stimuli = host.stimuli;
  }

  /** A message from the worker at `address`. */
  worker(address: string, msg: Message): void {
    const m = expectOps<WorkerToScheduler>(msg, WORKER_OPS, "a worker");
    const state = this.#state;
    this.#stimuli.begin(m.op);
    switch (m.op) {
      case "task-finished": {
        const ts = state.tasks.get(m.k);
        if (ts?.state === "processing") {
          this.#calls.taskStream
            .push(m.k, address, m.start, m.stop, true, m.th, m.nbytes, ts.prefix);
        }
        return state.taskFinished(address, m);
      }
      case "task-erred": {
        const ts = state.tasks.get(m.k);
        if (ts?.processingOn?.address === address) {
          this.#calls.taskStream.push(m.k, address, m.start, m.stop, false, m.th, 0, ts.prefix);
          this.#calls.erredTasks.push({
            key: m.k,
            worker: address,
            time: m.stop,
            name: m.e.name,
            message: m.e.message,
          });
        }
        return state.taskErred(address, m);
      }
      case "task-crashed":
        return state.taskCrashed(address, m.k, m.reason);
      case "missing-data":
        return state.missingData(address, m.k, m.key, m.worker);
      case "heartbeat":
        return this.host.workers.heartbeat(address, m);
      case "io-stream":
        return recordIo(this.#calls.taskStream, address, m);
      case "worker-status":
        return this.host.workers.status(address, m.status);
      // cluster-wide calls: replies whose request is gone (a stale id)
      case "run-reply":
      case "acquire-replicas-reply":
      case "worker-story-reply":
      case "worker-logs-reply":
        return;
      // work stealing
      case "steal-response":
        return state.stealResponse(address, m.k, m.state);
      // in-task
      case "long-running":
        return state.longRunning(address, m.k);
      case "log-event":
        for (const topic of m.topics) this.#calls.log(topic, m.msg);
        return;
      // actors
      case "actor-results":
        return this.host.actors.results(address, m);
      default:
        unreachable(m);
    }
  }

  /** A message from client `id`, on `conn`. */
  client(id: string, msg: Message, conn: Connection): void {
    const m = expectOps<ClientToScheduler>(msg, CLIENT_OPS, "a client");
    const state = this.#state, host = this.host;
    this.#stimuli.begin(m.op);
    switch (m.op) {
      // graph submission, client operations, scattered data: the state machine's extensions
      case "update-graph":
        return state.updateGraph(id, m, performance.now());
      case "release-keys":
        return state.releaseKeys(id, m.keys);
      case "request-values":
        return state.requestValues(id, m.keys);
      case "cancel-keys":
        return state.cancelKeys(id, m.keys, m.force);
      case "retry-keys":
        return state.retryKeys(m.keys);
      case "fire-and-forget":
        return state.fireAndForget(m.keys);
      case "scatter":
        return host.scatter(id, m, conn);
      case "update-data":
        return state.updateData(m.who, m.nbytes);
      // values proxied for clients that cannot reach workers
      case "gather-values":
        return host.gatherValues(m, conn);
      case "scatter-values":
        return host.scatterValues(m, conn);
      // questions about the cluster
      case "scheduler-info": {
        const workers: Record<string, SchedulerWorkerEntry> = {};
        for (const ws of state.workers.values()) {
          workers[ws.address] = { ...ws.info, status: ws.status, memory: workerMemory(ws) };
        }
        conn.send({ op: "scheduler-info-reply", id: m.id, address: host.address, workers });
        return;
      }
      case "who-has": {
        const whoHas: Record<string, string[]> = {};
        for (const k of m.keys) {
          const ts = state.tasks.get(k);
          whoHas[k] = ts?.whoHas ? Array.from(ts.whoHas, (w) => w.address) : [];
        }
        conn.send({ op: "who-has-reply", id: m.id, whoHas });
        return;
      }
      case "has-what": {
        const hasWhat: Record<string, string[]> = {};
        const keys = (ws: WorkerState) => Array.from(ws.hasWhat, (ts) => ts.key);
        if (m.workers === undefined) {
          for (const ws of state.workers.values()) hasWhat[ws.address] = keys(ws);
        } else {
          // as Dask's: by address, names resolved; one nobody has holds nothing
          for (const name of m.workers) {
            const ws = workerNamed(state, name);
            if (ws) hasWhat[ws.address] = keys(ws);
            else hasWhat[name] = [];
          }
        }
        conn.send({ op: "has-what-reply", id: m.id, hasWhat });
        return;
      }
      case "story": {
        const id = m.id, events = this.#stimuli.story(m.keys);
        void host.workerStories(m.keys).then((theirs) =>
          conn.send({ op: "story-reply", id, events: mergeStories(events, theirs) })
        );
        return;
      }
      case "get-worker-logs": {
        const id = m.id;
        void host.workerLogs(m.workers).then((logs) =>
          conn.send({ op: "get-worker-logs-reply", id, logs })
        );
        return;
      }
      case "wait-for-workers": {
        const id = m.id, n = () => state.workers.size;
        host.waitForWorkers(m.n, m.timeout).then(
          () => conn.send({ op: "wait-for-workers-reply", id, n: n() }),
          (e: Error) => conn.send({ op: "wait-for-workers-reply", id, n: n(), error: e.message }),
        );
        return;
      }
      // client sessions
      case "close-client":
        return host.clients.leave(id, conn);
      // cluster-wide calls
      case "run":
      case "replicate":
      case "rebalance":
      case "publish-dataset":
      case "get-dataset":
      case "list-datasets":
      case "unpublish-dataset":
      case "log-event":
      case "get-events":
      case "subscribe-topic":
      case "unsubscribe-topic":
      case "get-task-stream":
        return this.#calls.handle(id, m, conn);
      // coordination: locks and semaphores
      case "lock-acquire":
      case "lock-release":
      case "lock-held":
      case "semaphore-acquire":
      case "semaphore-release":
      case "semaphore-value":
        return host.locks.handle(id, m, conn);
      // queues, variables and events
      case "queue-put":
      case "queue-get":
      case "queue-size":
      case "variable-set":
      case "variable-get":
      case "variable-delete":
      case "event-set":
      case "event-clear":
      case "event-is-set":
      case "event-wait":
      case "shared-keys-taken":
        return host.shared.handle(id, m, conn);
      // in-task
      case "preload":
        return host.preload(m.urls);
      // fault tolerance
      case "restart":
        return ack(conn, m.id, host.restart(m.timeout));
      case "retire-workers": {
        const id = m.id;
        host.retire(m.workers, WORKERS_WAIT_TIMEOUT).then(
          (workers) => conn.send({ op: "retire-workers-reply", id, workers }),
          (e) => conn.send({ op: "retire-workers-reply", id, workers: {}, e: toEnvelope(e) }),
        );
        return;
      }
      case "worker-exited":
        return host.workers.reportExit(m.address, m.how);
      // actors
      case "actor-call":
        return host.actors.call(id, m);
      default:
        unreachable(m);
    }
  }
}

/** A worker's batch of I/O entries, into the task stream (labelled as Dask's rectangles). */
function recordIo(stream: TaskStream, worker: string, m: IoStreamBatch): void {
  for (let i = 0; i < m.kind.length; i++) {
    const kind = m.kind[i], n = m.keys[i];
    const label = kind === STREAM_TRANSFER ? `transfer-${n}` : STREAM_KINDS[kind];
    stream.pushIo(label, worker, m.start[i], m.stop[i], kind, m.nbytes[i], m.source[i]);
  }
}

/** Answers request `id` with `ack` once `work` settles (with its error, if any). */
function ack(conn: Connection, id: number, work: Promise<unknown>): void {
  work.then(
    () => conn.send({ op: "ack", id }),
    (e) => conn.send({ op: "ack", id, e: toEnvelope(e) }),
  );
}
