/**
 * The scheduler's side of cluster-wide client calls: `run` / `runOnScheduler`, `replicate` /
 * `rebalance` (worker-to-worker copies, planned by replicas.ts), published datasets (held alive
 * under a pseudo-client per dataset), the event log and topics, and the task stream.
 */
import type { Connection } from "../comm/connection.ts";
import type {
  ClusterCallRequest,
  EventRecord,
  RunReply,
  SchedulerToClient,
} from "../comm/protocol.ts";
import { encodeValue, Payload } from "../comm/serialize.ts";
import { CommClosedError, type ErrorEnvelope, KeyError, toEnvelope } from "../core/errors.ts";
// Layering exception: the scheduler compiles `runOnScheduler` functions as workers do.
import { FunctionRunner } from "../comm/function_runner.ts";
import { type ErredTask, EventLog, TaskStream } from "./event_log.ts";
import { Ring } from "../core/ring.ts";
import type { SchedulerState } from "./state.ts";
import { type AcquirePlan, planRebalance, planReplicate } from "./replicas.ts";

/** What the cluster calls need from the scheduler actor. */
export interface CallsHost {
  readonly state: SchedulerState;
  /** The live connection to a worker. */
  worker(address: string): Connection | undefined;
  /** The live connection to a client. */
  client(id: string): Connection | undefined;
  /** A worker now holds copies of `keys` (posted to the actor: this runs after an await). */
  replicasAdded(address: string, keys: string[]): void;
  /** A worker's copies of `keys` are dropped (posted to the actor, as above). */
  replicasRemoved(address: string, keys: string[]): void;
}

/** Events kept per topic (Dask keeps 100,000). */
export const EVENTS_PER_TOPIC = 10_000;
/** Finished-task records kept for `getTaskStream`. */
export const TASK_STREAM_LENGTH = 100_000;

/** Erred tasks kept for the dashboard's exceptions page. */
export const ERRED_TASKS_KEPT = 100;

/** The pseudo-client that holds a dataset's keys in memory. */
export function datasetHolder(name: string): string {
  return `published-data:${name}`;
}

/** A published dataset: its encoded value and the keys of the Futures inside. */
export interface Dataset {
  v: Payload;
  keys: string[];
}

/** Scheduler state and handlers of the cluster-wide calls. */
export class ClusterCalls {
  /** Published datasets by name. */
  readonly datasets: Map<string, Dataset> = new Map();
  /** Event messages: client ones encoded (Payload), the scheduler's own as plain values. */
  readonly events: EventLog<unknown> = new EventLog(EVENTS_PER_TOPIC);
  /** Records of finished tasks. */
  readonly taskStream: TaskStream = new TaskStream(TASK_STREAM_LENGTH);
  /** The latest tasks that erred (the dashboard's exceptions page). */
  readonly erredTasks: Ring<ErredTask> = new Ring(ERRED_TASKS_KEPT);
  /** Topic -> subscribed client ids. */
  readonly subscribers: Map<string, Set<string>> = new Map();
  #datasetWaiters = new Map<string, Set<(closing?: boolean) => void>>();
  #runner = new FunctionRunner();
  #closed = false;

  constructor(readonly host: CallsHost) {}

  /** Handles one request of a client. */
  handle(client: string, m: ClusterCallRequest, conn: Connection): void {
    const ack = (e?: ErrorEnvelope) => conn.send({ op: "ack", id: (m as { id: number }).id, e });
    const failed = (e: unknown) => ack(toEnvelope(e));
    switch (m.op) {
      case "run": {
        const id = m.id;
        const done = (r: Omit<RunReply, "op" | "id">) => conn.send({ op: "run-reply", id, ...r });
        if (m.scheduler) this.#runner.run(m.fn, m.a).then(done);
        else this.#runOnWorkers(m.fn, m.a).then(done);
        return;
      }
      case "replicate": {
        const plan = planReplicate(this.host.state, m.keys, m.n);
        this.#acquire(plan).then(() => ack(), failed);
        return;
      }
      case "rebalance": {
        this.#rebalance(m.keys).then(() => ack(), failed);
        return;
      }
      case "publish-dataset":
        return ack(this.#publish(m.name, { v: m.v, keys: m.keys }));
      case "get-dataset": {
        const id = m.id;
        this.#dataset(m.name, m.timeout ?? 0).then(
          (ds) => conn.send({ op: "dataset-reply", id, v: ds.v, keys: ds.keys }),
          (e) => conn.send({ op: "dataset-reply", id, e: toEnvelope(e) }),
        );
        return;
      }
      case "list-datasets":
        conn.send({ op: "list-datasets-reply", id: m.id, names: [...this.datasets.keys()] });
        return;
      case "unpublish-dataset": {
        if (!this.datasets.delete(m.name)) return ack(toEnvelope(notFound(m.name)));
        this.host.state.removeClient(datasetHolder(m.name));
        return ack();
      }
      case "log-event":
        for (const topic of m.topics) this.log(topic, m.msg);
        return;
      case "get-events": {
        const events: Record<string, EventRecord[]> = {};
        const topics = m.topic === undefined ? [...this.events.topics.keys()] : [m.topic];
        for (const t of topics) {
          events[t] = this.events.get(t).map(([time, msg]) => [time, encoded(msg)]);
        }
        conn.send({ op: "events-reply", id: m.id, events });
        return;
      }
      case "subscribe-topic": {
        let subs = this.subscribers.get(m.topic);
        if (!subs) this.subscribers.set(m.topic, subs = new Set());
        subs.add(client);
        return;
      }
      case "unsubscribe-topic": {
        const subs = this.subscribers.get(m.topic);
        subs?.delete(client);
        if (subs?.size === 0) this.subscribers.delete(m.topic);
        return;
      }
      case "get-task-stream": {
        const ts = this.taskStream;
        const idx = ts.since(m.start);
        conn.send({
          op: "task-stream-reply",
          id: m.id,
          keys: idx.map((i) => ts.keys[i]),
          workers: idx.map((i) => ts.workers[i]),
          starts: idx.map((i) => ts.starts[i]),
          stops: idx.map((i) => ts.stops[i]),
          ok: idx.map((i) => ts.ok(i) ? 1 : 0),
          kind: idx.map((i) => ts.kinds[i]),
          nbytes: idx.map((i) => ts.nbytes[i]),
          sources: idx.map((i) => ts.sources[i] ?? ""),
        });
        return;
      }
      default: {
        const never: never = m;
        throw new Error(`unhandled cluster call ${JSON.stringify(never)}`);
      }
    }
  }

  /** Records an event under `topic` and sends it to the topic's subscribers. */
  log(topic: string, msg: unknown, time: number = Date.now()): void {
    this.events.add(topic, [time, msg]);
    const subs = this.subscribers.get(topic);
    if (!subs) return;
    const out: SchedulerToClient = { op: "topic-event", topic, time, msg: encoded(msg) };
    for (const c of subs) this.host.client(c)?.send(out);
  }

  /** A state machine event (its outbox): the text under its topic and under "scheduler". */
  schedulerEvent(topic: string, text: string): void {
    const time = Date.now();
    this.log(topic, text, time);
    this.log("scheduler", { topic, text }, time);
  }

  /** A worker registered: Dask's events under its address and under "all". */
  workerAdded(address: string): void {
    const time = Date.now();
    this.log(address, { action: "add-worker" }, time);
    this.log("all", { action: "add-worker", worker: address }, time);
  }

  /** A worker left. */
  workerRemoved(address: string, reason: string): void {
    const time = Date.now();
    this.log(address, { action: "remove-worker", reason }, time);
    this.log("all", { action: "remove-worker", worker: address, reason }, time);
  }

  /** A worker paused or runs again: Dask's `worker-status-change`, under its address and "all". */
  workerStatusChanged(address: string, prev: string, status: string): void {
    const time = Date.now();
    const msg = { action: "worker-status-change", "prev-status": prev, status };
    this.log(address, msg, time);
    this.log("all", { ...msg, worker: address }, time);
  }

  /** A worker's nanny killed its process for memory (past memoryTerminate): under its address and "all". */
  workerRestartedForMemory(address: string, how: string): void {
    const time = Date.now();
    const msg = { action: "worker-restart-memory", worker: address, how };
    this.log(address, msg, time);
    this.log("all", msg, time);
  }

  /** A client connected. */
  clientAdded(id: string): void {
    this.log("all", { action: "add-client", client: id });
  }

  /** A client left: its topic subscriptions go. */
  clientGone(id: string): void {
    for (const [topic, subs] of this.subscribers) {
      if (subs.delete(id) && subs.size === 0) this.subscribers.delete(topic);
    }
    this.log("all", { action: "remove-client", client: id });
  }

  /** Pending dataset lookups fail; nothing is left waiting. */
  close(): void {
    this.#closed = true;
    for (const ws of this.#datasetWaiters.values()) for (const w of [...ws]) w(true);
    this.#datasetWaiters.clear();
  }

  async #runOnWorkers(
    fn: Parameters<FunctionRunner["run"]>[0],
    a: Payload,
  ): Promise<Omit<RunReply, "op" | "id">> {
    const addresses = [...this.host.state.workers.keys()];
    const replies = await Promise.all(addresses.map(async (address) => {
      const conn = this.host.worker(address);
      if (!conn) throw new CommClosedError(`worker ${address} left during run`);
      return await conn.request({ op: "run", id: 0, fn, a });
    })).catch((e) => e as Error);
    if (replies instanceof Error) return { e: toEnvelope(replies) };
    const results: Record<string, Payload> = {};
    for (let i = 0; i < addresses.length; i++) {
      const r = replies[i];
      if (r.e) return { e: { ...r.e, worker: addresses[i] } };
      results[addresses[i]] = r.v!;
    }
    return { results };
  }

  /** Sends the plan's acquire-replicas requests; resolves with what each worker got. */
  async #acquire(plan: AcquirePlan): Promise<Map<string, string[]>> {
    const got = new Map<string, string[]>();
    await Promise.all([...plan].map(async ([address, who]) => {
      const conn = this.host.worker(address);
      if (!conn) return;
      try {
        const r = await conn.request({ op: "acquire-replicas", id: 0, who });
        this.host.replicasAdded(address, r.keys);
        got.set(address, r.keys);
      } catch { /* that worker left: its copies were never made */ }
    }));
    return got;
  }

  async #rebalance(keys?: string[]): Promise<void> {
    const moves = planRebalance(this.host.state, keys);
    const plan: AcquirePlan = new Map();
    const source = new Map<string, string>(); // `${to}\0${key}` -> from
    for (const mv of moves) {
      let who = plan.get(mv.to);
      if (!who) plan.set(mv.to, who = {});
      who[mv.key] = [mv.from];
      source.set(`${mv.to}\0${mv.key}`, mv.from);
    }
    const got = await this.#acquire(plan);
    // the source copy goes only once the new one is registered: no key is ever lost
    const drop = new Map<string, string[]>();
    for (const [to, ks] of got) {
      for (const k of ks) {
        const from = source.get(`${to}\0${k}`)!;
        let list = drop.get(from);
        if (!list) drop.set(from, list = []);
        list.push(k);
      }
    }
    for (const [from, ks] of drop) this.host.replicasRemoved(from, ks);
  }

  #publish(name: string, ds: Dataset): ErrorEnvelope | undefined {
    if (this.datasets.has(name)) {
      return toEnvelope(
        new KeyError(
          `Dataset '${name}' already exists: unpublish it first (client.unpublishDataset)`,
        ),
      );
    }
    this.datasets.set(name, ds);
    if (ds.keys.length) {
      const holder = datasetHolder(name);
      const state = this.host.state;
      state.addClient(holder);
      state.updateGraph(holder, { op: "update-graph", tasks: [], wanted: ds.keys });
    }
    const waiters = this.#datasetWaiters.get(name);
    if (waiters) { for (const w of [...waiters]) w(); }
    return undefined;
  }

  /** The dataset, waiting up to `timeout` ms for it to be published. */
  #dataset(name: string, timeout: number): Promise<Dataset> {
    const ds = this.datasets.get(name);
    if (ds) return Promise.resolve(ds);
    if (timeout <= 0 || this.#closed) return Promise.reject(notFound(name));
    const { promise, resolve, reject } = Promise.withResolvers<Dataset>();
    let waiters = this.#datasetWaiters.get(name);
    if (!waiters) this.#datasetWaiters.set(name, waiters = new Set());
    const timer = setTimeout(() => done(true), timeout);
    const done = (fail?: boolean) => {
      clearTimeout(timer);
      waiters!.delete(done);
      if (waiters!.size === 0) this.#datasetWaiters.delete(name);
      const found = this.datasets.get(name);
      if (found && !fail) resolve(found);
      else reject(notFound(name, timeout));
    };
    waiters.add(done);
    return promise;
  }
}

function notFound(name: string, waited = 0): KeyError {
  const within = waited > 0 ? ` (waited ${waited} ms)` : "";
  return new KeyError(
    `Dataset '${name}' not found${within}: publish it first (client.publishDataset), or see ` +
      `client.listDatasets() for the names published`,
  );
}

function encoded(msg: unknown): Payload {
  return msg instanceof Payload ? msg : encodeValue(msg);
}
