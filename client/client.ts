/**
 * The Client: connects to a scheduler, submits tasks, and settles Futures. Browser-safe:
 * transports are injected (registerDialer), so nothing here calls Deno APIs. The Client keeps
 * the connection and the key records; its methods delegate to submit.ts (submissions and the
 * queue), values.ts (gather), cluster_info.ts and cluster_calls.ts (cluster calls), dialers.ts
 * (connecting), graph.ts, scatter.ts and cancel.ts.
 */
import { Connection } from "../comm/connection.ts";
import { PendingTransport } from "../comm/pending_transport.ts";
import { PeerPool } from "../comm/peer_pool.ts";
import type { Message } from "../comm/protocol.ts";
import { CancelledError, CommClosedError, fromEnvelope } from "../core/errors.ts";
import { Future, type FutureHost, KeyState, keyStateOf, newFuture } from "./future.ts";
import type { Gathered } from "./gather.ts";
import * as calls from "./cluster_calls.ts";
import type { TaskStreamRecord, TopicEventRecord } from "./cluster_calls.ts";
import * as info from "./cluster_info.ts";
import * as values from "./values.ts";
import type { GatherOptions } from "./values.ts";
import { dialAny, open, openSoon } from "./dialers.ts";
import { Submitter, withOptions } from "./submit.ts";
import * as graphs from "./graph.ts";
import type { Graph, KeyTree } from "./graph.ts";
import { scatter as scatterData, type ScatterOptions } from "./scatter.ts";
import { cancelKeys, FIRE_AND_FORGET, futuresIn, retryKeys } from "./cancel.ts";
import type { ClientHost } from "./host.ts";
import type {
  Args,
  ClientOptions,
  ClusterLike,
  ComputeOptions,
  InTaskClientHooks,
  SchedulerInfo,
  SubmitOptions,
} from "./options.ts";
import { wait as waitFn, type WaitOptions, type WaitResult } from "./wait.ts";
import { DEFAULT_RECONNECT_TIMEOUT, pendingGraph, reconnect } from "./reconnect.ts";

/** Makes `scheme://` addresses reachable; sets what `Client.connect()` with no target starts. */
export { registerDialer, setDefaultCluster } from "./dialers.ts";
/** What `gather` does with erred Futures. */
export type { GatherOptions } from "./values.ts";

/** The Client's option types and argument types (client/options.ts). */
export type {
  Args,
  ClientOptions,
  ClusterLike,
  ComputeOptions,
  InTaskClientHooks,
  MaybeFuture,
  SchedulerInfo,
  SchedulerWorkerInfo,
  SubmitOptions,
} from "./options.ts";

let connectSoon: (address: string, options: ClientOptions, inTask: InTaskClientHooks) => Client;

/**
 * A connection to a dtask scheduler (Dask's `Client`): submits tasks and hands out Futures at
 * once, gathers their values, and makes cluster-wide calls. Make one with `Client.connect`;
 * close it with `close()` or `await using`.
 *
 * @example Map over a local cluster and gather the results
 * ```ts
 * import { Client, LocalCluster } from "@x/dtask";
 *
 * const inc = (x: number) => x + 1;
 * await using cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 1 });
 * await using client = await Client.connect(cluster);
 * const futures = client.map(inc, [1, 2, 3]); // Futures, at once
 * console.log(await client.gather(futures)); // [2, 3, 4]
 * const total = client.submit((xs: number[]) => xs.reduce((a, b) => a + b, 0), futures);
 * console.log(await total); // 9: Futures among the arguments arrive as their values
 * ```
 */
export class Client {
  /** The scheduler's address. */
  readonly schedulerAddress: string;
  #conn: Connection;
  #id: string;
  /** How to reconnect: the address dialled, the hello, and when to give up. */
  #via: string;
  #hello: { name: string; token?: string };
  #reconnectTimeout = DEFAULT_RECONNECT_TIMEOUT;
  /** Set when the scheduler said it is closing for good: no reconnecting. */
  #schedulerGone: string | null = null;
  #abort = new AbortController();
  #keys = new Map<string, KeyState>();
  #peers: PeerPool;
  /** Submissions and the queue to the scheduler (submit.ts). */
  #queue = new Submitter({
    client: this,
    future: (ks) => newFuture(ks, this.#futureHost, this),
    keys: this.#keys,
    checkOpen: () => this.#checkOpen(),
    taskKey: () => this.#inTask?.key(),
    send: (msg) => this.#conn.send(msg),
  });
  #ownCluster: ClusterLike | null = null;
  #closing: Promise<void> | null = null;
  /** Cluster-wide calls: their view of this client, and topic handlers. */
  #calls: calls.CallsClient = {
    request: (msg) => {
      this.#checkOpen();
      this.#queue.flush();
      return this.#conn.request(msg);
    },
    ask: (msg) => this.#conn.request(msg),
    heldKeys: () => [...this.#keys.keys()],
    send: (msg) => {
      this.#checkOpen();
      this.#queue.flush();
      this.#conn.send(msg);
    },
    keyOf: (v) => (v instanceof Future && v.client === this ? v.key : undefined),
    adopt: (keys) => this.#adopt(keys),
    gather: (fs) => this.gather(fs),
  };
  #topics = new calls.Topics();
  #inTask: InTaskClientHooks | null = null;

  private constructor(
    conn: Connection,
    address: string,
    id: string,
    hello: { name: string; token?: string },
    via: string,
    reconnectTimeout?: number,
    opening: Promise<unknown> | null = null,
  ) {
    this.#conn = conn;
    this.schedulerAddress = address;
    this.#id = id;
    this.#hello = hello;
    this.#via = via;
    if (reconnectTimeout !== undefined) this.#reconnectTimeout = reconnectTimeout;
    this.#peers = new PeerPool(dialAny, hello.name, hello.token);
    this.#attach(conn, opening);
  }

  /** This client's id at the scheduler. */
  get id(): string {
    return this.#id;
  }

  /**
   * Reads from `conn` (which `opening`, if given, is still opening); when it drops, reconnects,
   * or fails what is pending if it never opened, the scheduler closed, or we did.
   */
  #attach(conn: Connection, opening: Promise<unknown> | null): void {
    conn.start((msg) => this.#onMessage(msg));
    conn.closed.then(async (reason) => {
      if (conn !== this.#conn) return;
      if (opening) {
        try {
          await opening;
        } catch (e) {
          return this.#lost((e as Error)?.message ?? reason);
        }
      }
      if (this.#closing || this.#schedulerGone !== null || this.#reconnectTimeout <= 0) {
        return this.#lost(this.#schedulerGone ?? reason);
      }
      this.#reconnect(reason);
    });
  }

  /**
   * The scheduler connection dropped: a new connection opens in the background (what is sent
   * meanwhile waits for it), says hello with this client's id so the scheduler gives back its
   * wanted keys, and asks where the values of every pending key are.
   */
  #reconnect(reason: string): void {
    const opening = reconnect({
      dial: dialAny,
      address: this.#via,
      hello: { role: "client", ...this.#hello, resume: this.#id },
      timeout: this.#reconnectTimeout,
      signal: this.#abort.signal,
      onWelcome: (w) => {
        if (w.id) this.#id = w.id;
      },
    });
    const conn = new Connection(new PendingTransport(this.#via, opening));
    this.#conn = conn;
    const failed = opening.catch((e: Error) => {
      throw new CommClosedError(`${reason}; ${e?.message ?? e}`);
    });
    failed.catch(() => {}); // awaited once the connection closes
    this.#attach(conn, failed);
    // first on the new connection: every pending task again (the scheduler skips the ones it
    // knows; a message lost with the old connection, or a new scheduler, loses nothing)
    const graph = pendingGraph(this.#keys.values(), this.#queue.fnDefs);
    this.#queue.sentFns.clear(); // a new scheduler knows none of them
    for (const f of graph?.functions ?? []) this.#queue.sentFns.add(f.h);
    if (graph) conn.send(graph);
    this.#topics.resubscribe((msg) => conn.send(msg));
  }

  /**
   * Connects to a LocalCluster, an address (`tcp://host:port`), or — with no target — a new
   * LocalCluster that closes with this client. Rejects with TimeoutError when the scheduler does
   * not answer within `options.timeout` ms (default 30 000).
   *
   * @example Three ways to connect
   * ```ts
   * import { Client, LocalCluster } from "@x/dtask";
   *
   * await using cluster = await LocalCluster.start({ nWorkers: 1 });
   * await using a = await Client.connect(cluster); // a cluster in this program
   * await using b = await Client.connect(cluster.schedulerAddress, { name: "b" }); // an address
   * await using c = await Client.connect(); // its own LocalCluster, closed with it
   * console.log(a.schedulerAddress === b.schedulerAddress, c.schedulerAddress); // true, tcp://…
   * ```
   */
  static async connect(
    target?: ClusterLike | string,
    options: ClientOptions = {},
  ): Promise<Client> {
    const o = await open(target, options);
    try {
      const client = new Client(
        new Connection(o.transport),
        o.shown,
        o.id,
        { name: options.name ?? "client", token: options.authToken },
        o.via,
        options.reconnectTimeout,
      );
      client.#ownCluster = o.own;
      return client;
    } catch (e) {
      await o.own?.close();
      throw e;
    }
  }

  /**
   * A Client whose connection opens in the background: usable at once, its messages go out
   * once connected (getClient() inside a task; `address` must be tcp://).
   */
  private static connectSoon(
    address: string,
    options: ClientOptions = {},
    inTask?: InTaskClientHooks,
  ): Client {
    const name = options.name ?? "client";
    const opening = openSoon(address, options);
    const client = new Client(
      new Connection(new PendingTransport(address, opening)),
      address,
      name,
      { name, token: options.authToken },
      address,
      options.reconnectTimeout,
      opening,
    );
    client.#inTask = inTask ?? null;
    return client;
  }

  // ---------------------------------------------------------------- submitting

  /** Runs `fn(...args)` on a worker; Futures among the arguments are replaced by their values. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: Args<A>): Future<Awaited<R>> {
    return this.#queue.submit(fn, args, {}) as Future<Awaited<R>>;
  }

  /** One task per element of the zipped iterables. */
  map<R>(fn: (...args: any[]) => R, ...iterables: Iterable<unknown>[]): Future<Awaited<R>>[] {
    return this.#queue.map(fn, iterables, {});
  }

  /** The same calls with options (key, pure, priority, retries). */
  with(options: SubmitOptions): {
    submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: Args<A>): Future<Awaited<R>>;
    map<R>(fn: (...args: any[]) => R, ...iterables: Iterable<unknown>[]): Future<Awaited<R>>[];
  } {
    options = withOptions(options);
    return {
      submit: (fn, ...args) => this.#queue.submit(fn, args, options) as any,
      map: (fn, ...iterables) => this.#queue.map(fn, iterables, options),
    };
  }

  // ---------------------------------------------------------------- results

  /** Values of Futures, in the same structure (arrays and plain objects are walked). */
  gather<T>(futures: T, options: GatherOptions = {}): Promise<Gathered<T>> {
    if (this.#inTask) return this.#inTask.wait(() => values.gather(this.#host, futures, options));
    return values.gather(this.#host, futures, options);
  }

  /** What this client's Futures call: a private object, so none of it is public API. */
  #futureHost: FutureHost = {
    keyValue: (ks) => this.#keyValue(ks),
    releaseKey: (ks) => this.#releaseKey(ks),
    cancelKeys: (states, force) => this.#cancelKeys(states, force),
    retryKeys: (futures) => this.#retryKeys(futures),
  };

  /** One key's value. */
  #keyValue(ks: KeyState): Promise<unknown> {
    if (this.#inTask && !ks.settled) return this.#inTask.wait(() => values.valueOf(this.#host, ks));
    return values.valueOf(this.#host, ks);
  }

  /** A Future of `ks` was released. */
  #releaseKey(ks: KeyState): void {
    if (--ks.refs > 0) return;
    ks.dropSpec();
    if (this.#keys.get(ks.key) !== ks) return;
    this.#keys.delete(ks.key);
    if (this.#closing) return;
    this.#queue.release(ks.key);
  }

  /** Releases many Futures at once. */
  release(futures: Iterable<Future>): void {
    for (const f of futures) f.release();
  }

  #onMessage(msg: Message): void {
    switch (msg.op) {
      case "key-in-memory": {
        const ks = this.#keys.get(msg.k);
        if (!ks) return;
        ks.holders = msg.w;
        if (msg.v) ks.payload = msg.v;
        if (!ks.settled) ks.settle("finished");
        return;
      }
      case "key-erred": {
        const ks = this.#keys.get(msg.k);
        if (ks && !ks.settled) ks.settle("error", fromEnvelope(msg.e));
        return;
      }
      case "keys-cancelled":
        for (const k of msg.keys) {
          const ks = this.#keys.get(k);
          if (!ks) continue;
          this.#keys.delete(k); // the scheduler dropped our interest: a resubmit computes it again
          // also a finished key: its value is gone (lost scattered data, restart)
          if (ks.status !== "cancelled") ks.settle("cancelled", new CancelledError(msg.reason));
        }
        return;
      case "scheduler-closing":
        this.#schedulerGone = msg.reason;
        return;
      case "topic-event":
        this.#topics.dispatch(msg);
        return;
      default:
        throw new Error(`a client does not accept ${msg.op}`);
    }
  }

  #lost(reason: string): void {
    for (const ks of this.#keys.values()) {
      if (!ks.settled) {
        ks.settle(
          "lost",
          new CommClosedError(`the connection to the scheduler was lost (${reason})`),
        );
      }
    }
  }

  // ---------------------------------------------------------------- workers

  /**
   * Restarts every worker through its nanny: every Future (of every client) becomes cancelled;
   * resolves once as many workers as before are back. TimeoutError after `timeout` ms.
   */
  restart(options: { timeout?: number } = {}): Promise<void> {
    return info.restart(this.#calls, options);
  }

  /**
   * Stops workers (addresses or names) gracefully: the keys only they hold are copied to other
   * workers first (nothing is recomputed), and their nannies do not restart them.
   */
  retireWorkers(addresses: string | Iterable<string>): Promise<void> {
    return info.retireWorkers(this.#calls, addresses);
  }

  #checkOpen(): void {
    if (this.#closing || this.#conn.closeReason !== null) {
      throw new CommClosedError("this client is closed");
    }
  }

  // ---------------------------------------------------------------- introspection

  /** "running", or "closed" once closed or cut off from its scheduler (Dask's Client.status). */
  get status(): "running" | "closed" {
    return this.#closing || this.#conn.closeReason !== null ? "closed" : "running";
  }

  /** The scheduler's address and its workers. */
  schedulerInfo(): Promise<SchedulerInfo> {
    return info.schedulerInfo(this.#calls);
  }

  /** Workers holding each Future's value, by key (empty while not in memory). */
  whoHas(futures?: Iterable<Future> | Future): Promise<Record<string, string[]>> {
    return info.whoHas(this.#calls, futures);
  }

  /** Keys held by each worker, by worker address. */
  hasWhat(): Promise<Record<string, string[]>> {
    return info.hasWhat(this.#calls);
  }

  /** Resolves once at least `n` workers are connected; TimeoutError after `timeout` ms. */
  waitForWorkers(n: number, options: { timeout?: number } = {}): Promise<void> {
    return info.waitForWorkers(this.#calls, n, options);
  }

  /** Threads per worker, by address. */
  nthreads(): Promise<Record<string, number>> {
    return info.nthreads(this.#calls);
  }

  // ---------------------------------------------------------------- cluster-wide calls

  /** Runs `fn(...args)` on every worker (in its process; may be async): results by address. */
  run<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: A
  ): Promise<Record<string, Awaited<R>>> {
    return calls.run(this.#calls, fn, args);
  }

  /** Runs `fn(...args)` in the scheduler's process; its result. */
  runOnScheduler<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    return calls.runOnScheduler(this.#calls, fn, args);
  }

  /** Copies the Futures' data to `n` workers (default: all), worker to worker. */
  replicate(futures: Future | Iterable<Future> | unknown, options?: { n?: number }): Promise<void> {
    return calls.replicate(this.#calls, toStructure(futures), options);
  }

  /** Moves data from workers holding more bytes than the mean to those holding less. */
  rebalance(futures?: Future | Iterable<Future> | unknown): Promise<void> {
    return calls.rebalance(this.#calls, futures === undefined ? undefined : toStructure(futures));
  }

  /** Publishes a value (Futures inside stay in memory while published); KeyError if taken. */
  publishDataset(name: string, value: unknown): Promise<void> {
    return calls.publishDataset(this.#calls, name, value);
  }

  /** The published value (Futures inside replaced by their values); KeyError if not found. */
  getDataset<T = unknown>(name: string, options?: { timeout?: number }): Promise<T> {
    return calls.getDataset(this.#calls, name, options) as Promise<T>;
  }

  /** Names of the published datasets. */
  listDatasets(): Promise<string[]> {
    return calls.listDatasets(this.#calls);
  }

  /** Drops a published dataset; KeyError if not found. */
  unpublishDataset(name: string): Promise<void> {
    return calls.unpublishDataset(this.#calls, name);
  }

  /** Records an event (any encodable value) under a topic, or several. */
  logEvent(topic: string | string[], msg: unknown): void {
    calls.logEvent(this.#calls, topic, msg);
  }

  /** A topic's events as `[timestampMs, msg]`, oldest first. */
  getEvents(topic: string): Promise<TopicEventRecord[]>;
  /** Every topic's events as `[timestampMs, msg]`, oldest first, by topic. */
  getEvents(): Promise<Record<string, TopicEventRecord[]>>;
  getEvents(
    topic?: string,
  ): Promise<TopicEventRecord[] | Record<string, TopicEventRecord[]>> {
    return calls.getEvents(this.#calls, topic);
  }

  /** Calls `handler([timestampMs, msg])` for each new event of `topic`. */
  subscribeTopic(topic: string, handler: (event: TopicEventRecord) => unknown): void {
    this.#topics.subscribe(this.#calls, topic, handler);
  }

  /** Stops the handler of `topic`. */
  unsubscribeTopic(topic: string): void {
    this.#topics.unsubscribe(this.#calls, topic);
  }

  /** Records of the tasks that finished since `start` (ms since the epoch; default: all kept). */
  getTaskStream(options?: { start?: number }): Promise<TaskStreamRecord[]> {
    return calls.getTaskStream(this.#calls, options);
  }

  /**
   * New Futures for keys the scheduler knows, as `wanted` by this client. A key it no longer
   * knows settles `cancelled` (the `request-values` after the graph update says so).
   */
  #adopt(keys: string[]): Future[] {
    const fresh: string[] = [];
    const futures = keys.map((key) => {
      let ks = this.#keys.get(key);
      if (!ks) {
        ks = new KeyState(key);
        this.#keys.set(key, ks);
        this.#queue.want(key);
        fresh.push(key);
      }
      return newFuture(ks, this.#futureHost, this);
    });
    if (fresh.length) {
      this.#queue.flushGraph();
      this.#conn.send({ op: "request-values", keys: fresh });
    }
    return futures;
  }

  // ---------------------------------------------------------------- preload

  /**
   * Every worker imports the module at `moduleUrl` (an absolute URL or import-map name), now and
   * when it joins later; a submitted function whose name and source match one of its exports
   * then runs as that export, with its imports. Resolves once the scheduler has it.
   */
  preload(moduleUrl: string | URL): Promise<void> {
    return info.preload(this.#calls, moduleUrl);
  }

  // ---------------------------------------------------------------- graphs, scatter, cancel

  /**
   * Submits a task graph `{ key: task(fn, ...args) | value }` (`ref("k")` in arguments for a
   * dependency) and returns Futures at once: one for a key, (nested) arrays for (nested) arrays
   * of keys, an object of every graph key's Future when `keys` is left out. Unknown refs and
   * cycles throw here, and then nothing is sent.
   */
  compute(graph: Graph, keys: string, options?: ComputeOptions): Future<any>;
  /** Submits a task graph: Futures of `keys`, in the same (nested) arrays. */
  compute(graph: Graph, keys: readonly KeyTree[], options?: ComputeOptions): any[];
  /** Submits a task graph: every graph key's Future, by key. */
  compute(graph: Graph, keys?: undefined, options?: ComputeOptions): Record<string, Future<any>>;
  compute(graph: Graph, keys?: KeyTree, options: ComputeOptions = {}): unknown {
    return graphs.compute(this.#host, graph, keys, options);
  }

  /** Computes a graph: the values of `keys` in the same shape; the first error rejects at once. */
  get(graph: Graph, keys: string, options?: ComputeOptions): Promise<any>;
  /** Computes a graph: the values of `keys`, in the same (nested) arrays. */
  get(graph: Graph, keys: readonly KeyTree[], options?: ComputeOptions): Promise<any[]>;
  get(graph: Graph, keys: KeyTree, options: ComputeOptions = {}): Promise<unknown> {
    return graphs.get(this.#host, graph, keys, options);
  }

  /**
   * Puts client data on workers and returns Futures at once: an array gives an array of
   * Futures, a plain object an object of Futures, anything else one Future. `hash` (default
   * true): the same data gives the same key; `workers` restricts where it goes; `broadcast`
   * puts a copy on every worker.
   */
  scatter<T>(data: T[], options?: ScatterOptions): Future<T>[];
  /** Puts each value of a plain object on the workers: an object of Futures, by the same keys. */
  scatter<T extends Record<string, unknown>>(
    data: T,
    options?: ScatterOptions,
  ): { [K in keyof T]: Future<T[K]> };
  /** Puts one value on the workers: its Future. */
  scatter<T>(data: T, options?: ScatterOptions): Future<T>;
  scatter(data: unknown, options: ScatterOptions = {}): unknown {
    return scatterData(this.#host, data, options);
  }

  /**
   * Cancels Futures (a Future, an iterable, or arrays and plain objects of them): they settle
   * `cancelled`, this client no longer holds their keys, and the scheduler drops them and the
   * dependents only this client wants; `force` also drops other clients' interest.
   */
  cancel(futures: unknown, options: { force?: boolean } = {}): Promise<void> {
    const mine = futuresIn(futures).filter((f) => f.client === this).map(keyStateOf);
    return this.#cancelKeys(mine, options.force === true);
  }

  /** Cancels keys of this client. */
  #cancelKeys(states: KeyState[], force: boolean): Promise<void> {
    cancelKeys(this.#host, new Set(states), force);
    return Promise.resolve();
  }

  /** Runs erred Futures again (with their erred dependencies); they go back to pending. */
  retry(futures: unknown): Promise<void> {
    return this.#retryKeys(futuresIn(futures).filter((f) => f.client === this));
  }

  /** Re-runs the erred keys of these Futures. */
  #retryKeys(futures: Future<unknown>[]): Promise<void> {
    retryKeys(this.#host, futures);
    return Promise.resolve();
  }

  /** fireAndForget(): the scheduler keeps these keys until they finish or err. */
  [FIRE_AND_FORGET](keys: string[]): void {
    this.#host.send({ op: "fire-and-forget", keys });
  }

  /** Waits until all (or the first of) the Futures settle; see the `wait` function. */
  wait<T>(futures: Iterable<Future<T>> | Future<T>, options?: WaitOptions): Promise<WaitResult<T>> {
    return waitFn(futures, options);
  }

  /** The narrow view of this client that graph.ts, scatter.ts and cancel.ts use. */
  #host: ClientHost = {
    client: this,
    key: (key) => this.#keys.get(key),
    addKey: (key) => {
      const ks = new KeyState(key);
      this.#keys.set(key, ks);
      return ks;
    },
    dropKey: (ks) => this.#keys.get(ks.key) === ks && this.#keys.delete(ks.key),
    future: (ks) => newFuture(ks, this.#futureHost, this),
    queued: () => this.#queue.queuedSpecs,
    enqueue: (key, fn, args, deps, options, want) =>
      this.#queue.enqueue(key, fn, args, deps, options, want),
    unwant: (keys) => this.#queue.unwant(keys),
    isOpen: () => !this.#closing && this.#conn.closeReason === null,
    checkOpen: () => this.#checkOpen(),
    send: (msg) => {
      this.#checkOpen();
      this.#queue.flushGraph();
      this.#conn.send(msg);
    },
    request: (msg) => {
      this.#checkOpen();
      this.#queue.flushGraph();
      return this.#conn.request(msg);
    },
    putData: (worker, values) => this.#peers.putData(worker, values),
    gather: (x) => this.gather(x),
    getData: (worker, keys) => this.#peers.getData(worker, keys),
    requestValues: (keys) => this.#conn.send({ op: "request-values", keys }),
  };

  // ---------------------------------------------------------------- lifecycle

  /** Closes the connection (and the cluster this client started, if any). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      if (this.#conn.closeReason === null) {
        this.#queue.flush();
        this.#conn.send({ op: "close-client" });
        await this.#conn.drainAndClose("client closed");
      }
      await this.#conn.finished();
      for (const ks of this.#keys.values()) {
        if (!ks.settled) ks.settle("cancelled", new CancelledError("the client was closed"));
      }
      await this.#peers.close();
      await this.#ownCluster?.close();
    })();
    return this.#closing;
  }

  /** Closes on `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  static {
    connectSoon = (address, options, inTask) => Client.connectSoon(address, options, inTask);
  }
}

/**
 * getClient()'s Client: connects to `address` in the background and runs its waits through the
 * task's hooks (client/ only; mod.ts does not export it).
 */
export function connectInTask(
  address: string,
  options: ClientOptions,
  inTask: InTaskClientHooks,
): Client {
  return connectSoon(address, options, inTask);
}

/** A Future, or an iterable of them (a Set...), as arrays for walking; other values as they are. */
function toStructure(x: unknown): unknown {
  if (x instanceof Future || Array.isArray(x) || x === null || typeof x !== "object") return x;
  const it = (x as Partial<Iterable<unknown>>)[Symbol.iterator];
  return typeof it === "function" ? [...(x as Iterable<unknown>)] : x;
}
