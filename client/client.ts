/**
 * The Client: connects to a scheduler, submits tasks, and settles Futures. Browser-safe:
 * transports are injected (registerDialer), so nothing here calls Deno APIs. The public class
 * only delegates: to its parts (client_parts.ts: the scheduler link, the key table, the
 * submission queue, in-task hooks), values.ts (gather), cluster_info.ts and cluster_calls.ts
 * (cluster calls), client_lifecycle.ts (connecting, closing), graph.ts, scatter.ts and cancel.ts.
 */
import { type Future, keyStateOf } from "./future.ts";
import type { Gathered } from "./gather.ts";
import * as calls from "./cluster_calls.ts";
import type { TaskStreamRecord, TopicEventRecord } from "./cluster_calls.ts";
import { story, type StoryRecord } from "./story.ts";
import * as info from "./cluster_info.ts";
import * as values from "./values.ts";
import type { GatherOptions } from "./values.ts";
import { pendingStart } from "./client_start.ts";
import { closeClient, connectClient, requireCurrentClient } from "./client_lifecycle.ts";
import { withOptions } from "./submit.ts";
import { ClientParts, type ClientStart } from "./client_parts.ts";
import * as graphs from "./graph.ts";
import type { Graph, KeyTree } from "./graph.ts";
import { scatter as scatterData, type ScatterOptions } from "./scatter.ts";
import { FIRE_AND_FORGET, futuresIn } from "./cancel.ts";
import type {
  Args,
  ClientOptions,
  ClusterLike,
  ComputeOptions,
  InTaskClientHooks,
  SchedulerInfo,
  SchedulerWorkerInfo,
  SubmitOptions,
  SubmitWith,
} from "./options.ts";
import { clientDisplay, rememberSchedulerInfo } from "./display.ts";
import type { DisplayBundle } from "../core/display_html.ts";
import { wait as waitFn, type WaitOptions, type WaitResult } from "./wait.ts";

/** Makes `scheme://` addresses reachable; sets what `Client.connect()` with no target starts. */
export { registerDialer, setDefaultCluster } from "./dialers.ts";

/**
 * getClient()'s Client: connects to `address` in the background and runs its waits through the
 * task's hooks (client/ only; mod.ts does not export it).
 */
export let connectInTask: (
  address: string,
  options: ClientOptions,
  inTask: InTaskClientHooks,
) => Client;

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
  /** Its link, key table, queue... and the views its helper modules get (client_parts.ts). */
  readonly #p: ClientParts;
  readonly #ownCluster: ClusterLike | null;
  #closing: Promise<void> | null = null;

  private constructor(o: ClientStart) {
    this.schedulerAddress = o.address;
    this.#p = new ClientParts(this, o);
    this.#ownCluster = o.own ?? null;
  }

  /** This client's id at the scheduler. */
  get id(): string {
    return this.#p.link.id;
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
    return await connectClient(target, options, (start) => new Client(start));
  }

  /**
   * The default client (Dask's `Client.current()`): the newest one connected and not closed.
   * Throws when none is open.
   */
  static current(): Client {
    return requireCurrentClient() as Client;
  }

  /** Runs `fn(...args)` on a worker; Futures among the arguments are replaced by their values. */
  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: Args<A>): Future<Awaited<R>> {
    return this.#p.queue.submit(fn, args, {}) as Future<Awaited<R>>;
  }

  /** One task per element of the zipped iterables. */
  map<R>(fn: (...args: any[]) => R, ...iterables: Iterable<unknown>[]): Future<Awaited<R>>[] {
    return this.#p.queue.map(fn, iterables, {});
  }

  /** The same calls with options (key, pure, priority, retries; actor, actorRestarts). */
  with(options: SubmitOptions): SubmitWith {
    options = withOptions(options);
    return {
      submit: (fn: any, ...args: unknown[]) => this.#p.queue.submit(fn, args, options) as any,
      map: (fn, ...iterables) => this.#p.queue.map(fn, iterables, options),
    };
  }

  /** Values of Futures, in the same structure (arrays and plain objects are walked). */
  gather<T>(futures: T, options: GatherOptions = {}): Promise<Gathered<T>> {
    return this.#p.waits.wait(() => values.gather(this.#p.host, futures, options));
  }

  /** Releases many Futures at once. */
  release(futures: Iterable<Future>): void {
    for (const f of futures) f.release();
  }

  /**
   * Restarts every worker through its nanny: every Future (of every client) becomes cancelled;
   * resolves once as many workers as before are back. TimeoutError after `timeout` ms.
   */
  restart(options: { timeout?: number } = {}): Promise<void> {
    return info.restart(this.#p.calls, options);
  }

  /**
   * Stops workers (addresses or names) gracefully: the keys only they hold are copied to other
   * workers first (nothing is recomputed), and their nannies do not restart them. Resolves with
   * each retired worker's info by address, as `schedulerInfo().workers` has it.
   */
  retireWorkers(workers: string | Iterable<string>): Promise<Record<string, SchedulerWorkerInfo>> {
    return info.retireWorkers(this.#p.calls, workers);
  }

  /** "running", or "closed" once closed or cut off from its scheduler (Dask's Client.status). */
  get status(): "running" | "closed" {
    return this.#p.link.isOpen ? "running" : "closed";
  }

  /**
   * The scheduler's dashboard (`http://…/status`), as Dask's `Client.dashboard_link`; null
   * when the scheduler serves none.
   */
  get dashboardLink(): string | null {
    return this.#p.link.dashboard;
  }

  /** How `console.log` shows it: its scheduler, status and id. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Client { scheduler: ${JSON.stringify(this.schedulerAddress)}, status: ` +
      `${JSON.stringify(this.status)}, id: ${JSON.stringify(this.id)} }`;
  }

  /** The scheduler's address and its workers. */
  async schedulerInfo(): Promise<SchedulerInfo> {
    const answer = await info.schedulerInfo(this.#p.calls);
    rememberSchedulerInfo(this, answer);
    return answer;
  }

  /** How `deno jupyter` shows it: scheduler, dashboard link, workers, threads and memory. */
  [Symbol.for("Jupyter.display")](): DisplayBundle {
    return clientDisplay(this);
  }

  /** Workers holding each Future's value, by key (empty while not in memory). */
  whoHas(futures?: Iterable<Future> | Future): Promise<Record<string, string[]>> {
    return info.whoHas(this.#p.calls, futures);
  }

  /** Keys held by each worker (all, or `workers`: addresses or names), by worker address. */
  hasWhat(workers?: string | Iterable<string>): Promise<Record<string, string[]>> {
    return info.hasWhat(this.#p.calls, workers);
  }

  /** Resolves once at least `n` workers are connected; TimeoutError after `timeout` ms. */
  waitForWorkers(n: number, options: { timeout?: number } = {}): Promise<void> {
    return info.waitForWorkers(this.#p.calls, n, options);
  }

  /** Threads per worker (all, or `workers`: addresses or names), by address. */
  nthreads(workers?: string | Iterable<string>): Promise<Record<string, number>> {
    return info.nthreads(this.#p.calls, workers);
  }

  /** Runs `fn(...args)` on every worker (in its process; may be async): results by address. */
  run<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: A
  ): Promise<Record<string, Awaited<R>>> {
    return calls.run(this.#p.calls, fn, args);
  }

  /** Runs `fn(...args)` in the scheduler's process; its result. */
  runOnScheduler<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    return calls.runOnScheduler(this.#p.calls, fn, args);
  }

  /** Copies the Futures' data to `n` workers (default: all), worker to worker. */
  replicate(futures: Future | Iterable<Future> | unknown, options?: { n?: number }): Promise<void> {
    return calls.replicate(this.#p.calls, futures, options);
  }

  /** Moves data from workers holding more bytes than the mean to those holding less. */
  rebalance(futures?: Future | Iterable<Future> | unknown): Promise<void> {
    return calls.rebalance(this.#p.calls, futures);
  }

  /** Publishes a value (Futures inside stay in memory while published); KeyError if taken. */
  publishDataset(name: string, value: unknown): Promise<void> {
    return calls.publishDataset(this.#p.calls, name, value);
  }

  /** The published value (Futures inside replaced by their values); KeyError if not found. */
  getDataset<T = unknown>(name: string, options?: { timeout?: number }): Promise<T> {
    return calls.getDataset(this.#p.calls, name, options) as Promise<T>;
  }

  /** Names of the published datasets. */
  listDatasets(): Promise<string[]> {
    return calls.listDatasets(this.#p.calls);
  }

  /** Drops a published dataset; KeyError if not found. */
  unpublishDataset(name: string): Promise<void> {
    return calls.unpublishDataset(this.#p.calls, name);
  }

  /** Records an event (any encodable value) under a topic, or several. */
  logEvent(topic: string | string[], msg: unknown): void {
    calls.logEvent(this.#p.calls, topic, msg);
  }

  /** A topic's events as `[timestampMs, msg]`, oldest first. */
  getEvents(topic: string): Promise<TopicEventRecord[]>;
  /** Every topic's events as `[timestampMs, msg]`, oldest first, by topic. */
  getEvents(): Promise<Record<string, TopicEventRecord[]>>;
  getEvents(
    topic?: string,
  ): Promise<TopicEventRecord[] | Record<string, TopicEventRecord[]>> {
    return calls.getEvents(this.#p.calls, topic);
  }

  /** Calls `handler([timestampMs, msg])` for each new event of `topic`. */
  subscribeTopic(topic: string, handler: (event: TopicEventRecord) => unknown): void {
    this.#p.topics.subscribe(this.#p.calls, topic, handler);
  }

  /** Stops the handler of `topic`. */
  unsubscribeTopic(topic: string): void {
    this.#p.topics.unsubscribe(this.#p.calls, topic);
  }

  /**
   * Records of the tasks that finished since `start` (ms since the epoch; default: all kept),
   * and of the workers' transfers and spill writes and reads (their `action`).
   */
  getTaskStream(options?: { start?: number }): Promise<TaskStreamRecord[]> {
    return calls.getTaskStream(this.#p.calls, options);
  }

  /**
   * The last log lines of `workers` (addresses or names; default: every worker), as
   * `[level, message]` pairs by worker address, oldest first (Dask's `get_worker_logs`).
   */
  getWorkerLogs(workers?: string[]): Promise<Record<string, [string, string][]>> {
    return calls.getWorkerLogs(this.#p.calls, workers);
  }

  /**
   * What happened to task keys (strings or Futures) and workers (addresses or names), oldest
   * first: every transition and worker event the scheduler logged, with the id of the stimulus
   * that caused it (Dask's `story`).
   */
  story(...keysOrWorkers: (string | Future)[]): Promise<StoryRecord[]> {
    return story(this.#p.calls, ...keysOrWorkers);
  }

  /**
   * Every worker imports the module at `moduleUrl` (an absolute URL or import-map name), now and
   * when it joins later; a submitted function whose name and source match one of its exports
   * then runs as that export, with its imports. Resolves once the scheduler has it.
   */
  preload(moduleUrl: string | URL): Promise<void> {
    return info.preload(this.#p.calls, moduleUrl);
  }

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
    return graphs.compute(this.#p.host, graph, keys, options);
  }

  /** Computes a graph: the values of `keys` in the same shape; the first error rejects at once. */
  get(graph: Graph, keys: string, options?: ComputeOptions): Promise<any>;
  /** Computes a graph: the values of `keys`, in the same (nested) arrays. */
  get(graph: Graph, keys: readonly KeyTree[], options?: ComputeOptions): Promise<any[]>;
  get(graph: Graph, keys: KeyTree, options: ComputeOptions = {}): Promise<unknown> {
    return graphs.get(this.#p.host, graph, keys, options);
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
    return scatterData(this.#p.host, data, options);
  }

  /**
   * Cancels Futures (a Future, an iterable, or arrays and plain objects of them): they settle
   * `cancelled`, this client no longer holds their keys, and the scheduler drops them and the
   * dependents only this client wants; `force` also drops other clients' interest.
   */
  cancel(futures: unknown, options: { force?: boolean } = {}): Promise<void> {
    const mine = futuresIn(futures).filter((f) => f.client === this).map(keyStateOf);
    return this.#p.future.cancelKeys(mine, options.force === true);
  }

  /** Runs erred Futures again (with their erred dependencies); they go back to pending. */
  retry(futures: unknown): Promise<void> {
    return this.#p.future.retryKeys(futuresIn(futures).filter((f) => f.client === this));
  }

  /** fireAndForget(): the scheduler keeps these keys until they finish or err. */
  [FIRE_AND_FORGET](keys: string[]): void {
    this.#p.host.send({ op: "fire-and-forget", keys });
  }

  /** Waits until all (or the first of) the Futures settle; see the `wait` function. */
  wait<T>(futures: Iterable<Future<T>> | Future<T>, options?: WaitOptions): Promise<WaitResult<T>> {
    return waitFn(futures, options);
  }

  /** Closes the connection (and the cluster this client started, if any). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= closeClient(this, this.#p, this.#ownCluster);
    return this.#closing;
  }

  /** Closes on `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  static {
    // a Client whose connection opens in the background: usable at once, its messages go out
    // once connected (getClient() inside a task; `address` must be tcp://)
    connectInTask = (address, options, inTask) =>
      new Client(pendingStart(address, options, inTask));
  }
}
