/**
 * The Client: connects to a scheduler, submits tasks, and settles Futures. Browser-safe:
 * transports are injected (registerDialer), so nothing here calls Deno APIs.
 */
import { Connection } from "../comm/connection.ts";
import { PendingTransport } from "../comm/pending_transport.ts";
import { type Dialer, sendHello, withTimeout } from "../comm/handshake.ts";
import { PeerPool } from "../comm/peer_pool.ts";
import { parseAddress } from "../comm/transport.ts";
import type {
  Ack,
  FunctionDef,
  HasWhatReply,
  Message,
  SchedulerInfoReply,
  TaskSpec,
  WaitForWorkersReply,
  WhoHasReply,
  WorkerInfo,
} from "../comm/protocol.ts";
import { decodeValue, encodeValue, type Payload } from "../comm/serialize.ts";
import { CancelledError, CommClosedError, fromEnvelope, TimeoutError } from "../comm/errors.ts";
import { functionHash, pureKey, randomKey } from "../comm/keys.ts";
import { checkFunctionSource } from "../comm/function_source.ts";
import { Future, type FutureHost, KeyState } from "./future.ts";
import { collectFutures, type Gathered, rebuild, SKIP } from "./gather.ts";
import * as calls from "./cluster_calls.ts";
import { fifoTimeoutMs } from "./fifo.ts";
// graph, scatter, cancel, retry, fire-and-forget (i4-graph)
import * as graphs from "./graph.ts";
import type { Graph, KeyTree } from "./graph.ts";
import { scatter as scatterData, type ScatterOptions } from "./scatter.ts";
import { cancelKeys, FIRE_AND_FORGET, futuresIn, retryKeys } from "./cancel.ts";
import { checkResources, type ClientHost, specOptions, type TaskOptions } from "./host.ts";
import { wait as waitFn, type WaitOptions, type WaitResult } from "./wait.ts";
import { DEFAULT_RECONNECT_TIMEOUT, pendingGraph, reconnect } from "./reconnect.ts";

/** Client options. */
export interface ClientOptions {
  /** How long to wait for the connection (ms, default 30000). */
  timeout?: number;
  /** A name shown in the scheduler's logs. */
  name?: string;
  authToken?: string;
  heartbeatInterval?: number;
  /** How long to keep trying to reconnect after the scheduler connection drops (ms, 30000; 0: never). */
  reconnectTimeout?: number;
}

/** Something with a scheduler address: a LocalCluster, for example. */
export interface ClusterLike {
  readonly schedulerAddress: string;
  /** An in-process address, used when the cluster lives in this process. */
  readonly inprocAddress?: string;
  close(): Promise<void>;
}

/** Options of `client.with(...)` for submit and map. */
export interface SubmitOptions {
  key?: string;
  pure?: boolean;
  priority?: number;
  retries?: number;
  /** Workers (addresses or names) the task may run on. */
  workers?: string | string[];
  /** With `workers`: may run elsewhere when none of them is there (default false). */
  allowOtherWorkers?: boolean;
  /**
   * Submissions less than this apart (ms, or "100ms"; default 100) share a FIFO generation;
   * a later generation runs after earlier ones at equal priority (Dask's fifo_timeout).
   */
  fifoTimeout?: number | string;
  /** Resources the task holds on its worker while it runs, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
}

/** How a Client made inside a task (getClient()) knows its task; see client/in_task.ts. */
export interface InTaskClientHooks {
  /** The key of the task whose code runs now, if any (its submissions run before its siblings). */
  key(): string | undefined;
  /** Runs a wait on Futures (gather, await): the running task gives up its slot meanwhile. */
  wait<T>(f: () => Promise<T>): Promise<T>;
}

/** Options of `client.compute` / `client.get`, applied to every task of the graph. */
export type ComputeOptions = TaskOptions;

/** What `gather` does with erred Futures. */
export interface GatherOptions {
  errors?: "raise" | "skip";
}

const DEFAULT_FIFO = fifoTimeoutMs(undefined);

/** Tasks per `update-graph`: a big map streams to the scheduler in pieces it handles as they come. */
const GRAPH_CHUNK = 2000;

const dialers = new Map<string, Dialer>();
let defaultCluster: ((options: ClientOptions) => Promise<ClusterLike>) | null = null;

/** Makes `scheme://` addresses reachable (tcp and inproc from mod.ts, ws from client/mod.ts). */
export function registerDialer(scheme: string, dialer: Dialer): void {
  dialers.set(scheme, dialer);
}

/** Sets what `Client.connect()` with no target starts (mod.ts: a LocalCluster). */
export function setDefaultCluster(f: (options: ClientOptions) => Promise<ClusterLike>): void {
  defaultCluster = f;
}

function dialAny(address: string): ReturnType<Dialer> {
  const scheme = parseAddress(address).scheme;
  const d = dialers.get(scheme);
  if (!d) {
    return Promise.reject(
      new CommClosedError(`no transport for ${scheme}:// here (import dtask's mod.ts for tcp)`),
    );
  }
  return d(address);
}

interface FnInfo extends FunctionDef {
  prefix: string;
}

const fnInfos = new WeakMap<(...args: any[]) => unknown, FnInfo>();

function fnInfo(fn: (...args: any[]) => unknown): FnInfo {
  let info = fnInfos.get(fn);
  if (!info) {
    if (typeof fn !== "function") {
      throw new TypeError(`the first argument must be a function, got ${typeof fn}`);
    }
    const { name, source } = checkFunctionSource(fn);
    info = { h: functionHash(source), n: name, s: source, prefix: name || "lambda" };
    fnInfos.set(fn, info);
  }
  return info;
}

/** A connection to a dtask scheduler. */
export class Client implements FutureHost {
  /** The scheduler's address. */
  readonly schedulerAddress: string;
  #conn: Connection;
  #id: string;
  /** How to reconnect (i5): the address dialled, the hello, and when to give up. */
  #via: string;
  #hello: { name: string; token?: string };
  #reconnectTimeout = DEFAULT_RECONNECT_TIMEOUT;
  /** Set when the scheduler said it is closing for good: no reconnecting. */
  #schedulerGone: string | null = null;
  #abort = new AbortController();
  #keys = new Map<string, KeyState>();
  #peers: PeerPool;
  #sentFns = new Set<string>();
  /** Every function this client sent, by hash (sent again after a reconnect, i5). */
  #fnDefs = new Map<string, FunctionDef>();
  #tasks: TaskSpec[] = [];
  #wanted: string[] = [];
  #fns: FunctionDef[] = [];
  /** fifoTimeout (ms) of the queued submissions (i4-steal). */
  #fifo = DEFAULT_FIFO;
  #released: string[] = [];
  #flushQueued = false;
  #ownCluster: ClusterLike | null = null;
  #closing: Promise<void> | null = null;
  /** Cluster-wide calls (i4-cluster): their view of this client, and topic handlers. */
  #calls: calls.CallsClient = {
    request: (msg) => {
      this.#checkOpen();
      this.#flush();
      return this.#conn.request(msg);
    },
    send: (msg) => {
      this.#checkOpen();
      this.#flush();
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
    this.#peers = new PeerPool(dialAny, hello.name);
    this.#attach(conn, opening);
  }

  /** This client's id at the scheduler. */
  get id(): string {
    return this.#id;
  }

  /**
   * Reads from `conn` (which `opening`, if given, is still opening); when it drops, reconnects
   * (i5), or fails what is pending if it never opened, the scheduler closed, or we did.
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
    const graph = pendingGraph(this.#keys.values(), this.#fnDefs);
    this.#sentFns.clear(); // a new scheduler knows none of them
    for (const f of graph?.functions ?? []) this.#sentFns.add(f.h);
    if (graph) conn.send(graph);
  }

  /**
   * Connects to a LocalCluster, an address (`tcp://host:port`), or — with no target — a new
   * LocalCluster that closes with this client.
   */
  static async connect(
    target?: ClusterLike | string,
    options: ClientOptions = {},
  ): Promise<Client> {
    let own: ClusterLike | null = null;
    if (target === undefined) {
      if (!defaultCluster) {
        throw new TypeError("Client.connect() needs an address here (no local cluster support)");
      }
      target = own = await defaultCluster(options);
    }
    const shown = typeof target === "string" ? target : target.schedulerAddress;
    const via = typeof target === "string"
      ? target
      : target.inprocAddress && dialers.has("inproc")
      ? target.inprocAddress
      : target.schedulerAddress;
    const timeout = options.timeout ?? 30_000;
    const name = options.name ?? "client";
    try {
      const t = await withTimeout(dialAny(via), timeout, `connecting to ${shown}`);
      let welcome;
      try {
        welcome = await sendHello(t, { role: "client", name, token: options.authToken }, timeout);
      } catch (e) {
        t.close();
        throw e;
      }
      const client = new Client(
        new Connection(t),
        shown,
        welcome.id ?? name,
        { name, token: options.authToken },
        via,
        options.reconnectTimeout,
      );
      client.#ownCluster = own;
      return client;
    } catch (e) {
      await own?.close();
      throw e;
    }
  }

  /**
   * A Client whose connection opens in the background: usable at once, its messages go out
   * once connected (getClient() inside a task; `address` must be tcp://).
   */
  static connectSoon(
    address: string,
    options: ClientOptions = {},
    inTask?: InTaskClientHooks,
  ): Client {
    const timeout = options.timeout ?? 30_000;
    const name = options.name ?? "client";
    const opening = (async () => {
      const t = await withTimeout(dialAny(address), timeout, `connecting to ${address}`);
      try {
        await sendHello(t, { role: "client", name, token: options.authToken }, timeout);
      } catch (e) {
        t.close();
        throw e;
      }
      return t;
    })();
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
    return this.#submit(fn, args, {}) as Future<Awaited<R>>;
  }

  /** One task per element of the zipped iterables. */
  map<R>(fn: (...args: any[]) => R, ...iterables: Iterable<unknown>[]): Future<Awaited<R>>[] {
    return this.#map(fn, iterables, {});
  }

  /** The same calls with options (key, pure, priority, retries). */
  with(options: SubmitOptions): {
    submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: Args<A>): Future<Awaited<R>>;
    map<R>(fn: (...args: any[]) => R, ...iterables: Iterable<unknown>[]): Future<Awaited<R>>[];
  } {
    const other = options.allowOtherWorkers;
    if (other !== undefined && typeof other !== "boolean") {
      throw new TypeError(`allowOtherWorkers must be true or false, got ${typeof other}`);
    }
    if (other && options.workers === undefined) {
      throw new TypeError("allowOtherWorkers needs workers (the ones to prefer)");
    }
    if (options.fifoTimeout !== undefined) {
      options = { ...options, fifoTimeout: fifoTimeoutMs(options.fifoTimeout) };
    }
    checkAllowOtherWorkers(options); // i4-graph
    return {
      submit: (fn, ...args) => this.#submit(fn, args, options) as any,
      map: (fn, ...iterables) => this.#map(fn, iterables, options),
    };
  }

  #map(
    fn: (...args: any[]) => unknown,
    iterables: Iterable<unknown>[],
    options: SubmitOptions,
  ): Future<any>[] {
    if (iterables.length === 0) throw new TypeError("map needs at least one iterable");
    if (options.key !== undefined) throw new TypeError("map takes no single key; use submit");
    const its = iterables.map((x) => {
      if (x == null || typeof (x as Iterable<unknown>)[Symbol.iterator] !== "function") {
        throw new TypeError("map's arguments after the function must be iterables");
      }
      return (x as Iterable<unknown>)[Symbol.iterator]();
    });
    const out: Future<any>[] = [];
    for (;;) {
      const args: unknown[] = [];
      for (const it of its) {
        const r = it.next();
        if (r.done) return out;
        args.push(r.value);
      }
      out.push(this.#submit(fn, args, options));
    }
  }

  #submit(fn: (...args: any[]) => unknown, args: unknown[], options: SubmitOptions): Future<any> {
    this.#checkOpen();
    const info = fnInfo(fn);
    const deps = new Set<string>();
    const payload = encodeValue(args, {
      refKey: (v) => (v instanceof Future && v.client === this ? v.key : undefined),
      deps,
      path: "arguments",
    });
    const key = options.key ??
      (options.pure === false ? randomKey(info.prefix) : pureKey(info.prefix, info.h, payload));
    let ks = this.#keys.get(key);
    if (!ks) {
      ks = new KeyState(key);
      this.#keys.set(key, ks);
      const fifo = (options.fifoTimeout ?? DEFAULT_FIFO) as number;
      if (fifo !== this.#fifo) { // one fifoTimeout per update-graph
        this.#flush();
        this.#fifo = fifo;
      }
      const spec: TaskSpec = { k: key, f: info.h, a: payload, d: [...deps] };
      if (options.priority) spec.p = options.priority;
      if (options.retries) spec.r = options.retries;
      if (options.workers !== undefined) {
        spec.w = typeof options.workers === "string" ? [options.workers] : [...options.workers];
        if (options.allowOtherWorkers) spec.lo = true;
      }
      // in-task (issue 4)
      if (options.resources !== undefined) spec.rs = checkResources(options.resources);
      const parent = this.#inTask?.key();
      if (parent !== undefined) spec.ps = parent;
      this.#tasks.push(spec);
      this.#wanted.push(key);
      ks.spec = spec;
      if (!this.#sentFns.has(info.h)) {
        this.#sentFns.add(info.h);
        const def = { h: info.h, n: info.n, s: info.s };
        this.#fns.push(def);
        this.#fnDefs.set(info.h, def);
      }
      if (this.#tasks.length >= GRAPH_CHUNK) this.#flushGraph();
      else this.#scheduleFlush();
    }
    return new Future(ks, this, this);
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => this.#flush());
  }

  /** Sends queued submissions, then queued releases, preserving their order. */
  #flush(): void {
    this.#flushQueued = false;
    this.#flushGraph();
    if (this.#released.length) {
      this.#conn.send({ op: "release-keys", keys: this.#released });
      this.#released = [];
    }
  }

  #flushGraph(): void {
    if (!this.#tasks.length && !this.#wanted.length) return;
    this.#conn.send({
      op: "update-graph",
      tasks: this.#tasks,
      wanted: this.#wanted,
      functions: this.#fns.length ? this.#fns : undefined,
      fifo: this.#fifo === DEFAULT_FIFO ? undefined : this.#fifo,
    });
    this.#tasks = [];
    this.#wanted = [];
    this.#fns = [];
  }

  // ---------------------------------------------------------------- results

  /** Values of Futures, in the same structure (arrays and plain objects are walked). */
  gather<T>(futures: T, options: GatherOptions = {}): Promise<Gathered<T>> {
    if (this.#inTask) return this.#inTask.wait(() => this.#gather(futures, options));
    return this.#gather(futures, options);
  }

  async #gather<T>(futures: T, options: GatherOptions): Promise<Gathered<T>> {
    const found: Future[] = [];
    collectFutures(futures, found);
    const states = found.map((f) => f.state);
    const skip = options.errors === "skip";
    // like Dask, raising gathers stop at the first error instead of waiting for the rest
    await this.#allSettled(states, !skip);
    if (!skip) {
      const bad = states.find((ks) => ks.settled && ks.status !== "finished");
      if (bad) throw bad.error ?? new CancelledError(`${bad.key} was ${bad.status}`);
    }
    await this.#fetchMissing(states);
    return rebuild(futures, (f) => {
      const ks = f.state;
      if (ks.status === "finished") return this.#decoded(ks);
      if (skip) return SKIP;
      throw ks.error ?? new CancelledError(`${ks.key} was ${ks.status}`);
    }) as Gathered<T>;
  }

  /** FutureHost: one key's value. */
  valueOf(ks: KeyState): Promise<unknown> {
    if (this.#inTask && !ks.settled) return this.#inTask.wait(() => this.#valueOf(ks));
    return this.#valueOf(ks);
  }

  async #valueOf(ks: KeyState): Promise<unknown> {
    if (!ks.settled) await new Promise<void>((r) => ks.onSettled(r));
    if (ks.status !== "finished") {
      throw ks.error ?? new CancelledError(`${ks.key} was ${ks.status}`);
    }
    if (!ks.payload && !ks.decoded) await this.#fetchMissing([ks]);
    return this.#decoded(ks);
  }

  #decoded(ks: KeyState): unknown {
    if (!ks.decoded) {
      ks.value = decodeValue(ks.payload!);
      ks.decoded = true;
    }
    return ks.value;
  }

  /** Resolves once every key settled, or (`stopOnError`) once one did otherwise than finished. */
  #allSettled(states: KeyState[], stopOnError = false): Promise<void> {
    let left = 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    const waiting: [KeyState, () => void][] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      for (const [ks, cb] of waiting) if (!ks.settled) ks.offSettled(cb);
      resolve();
    };
    for (const ks of states) {
      if (stopOnError && ks.settled && ks.status !== "finished") {
        finish();
        return promise;
      }
    }
    for (const ks of states) {
      if (!ks.settled) {
        left++;
        const cb = () => {
          if (--left === 0 || (stopOnError && ks.status !== "finished")) finish();
        };
        waiting.push([ks, cb]);
        ks.onSettled(cb);
      }
    }
    if (left === 0) finish();
    return promise;
  }

  /** Fetches values that did not come with their results, straight from the workers. */
  async #fetchMissing(states: KeyState[]): Promise<void> {
    const byWorker = new Map<string, KeyState[]>();
    const seen = new Set<KeyState>(); // a key may be gathered through several Futures
    for (const ks of states) {
      if (ks.status !== "finished" || ks.payload || ks.decoded || seen.has(ks)) continue;
      const w = ks.holders[0];
      if (w === undefined) continue;
      seen.add(ks);
      let list = byWorker.get(w);
      if (!list) byWorker.set(w, list = []);
      list.push(ks);
    }
    await Promise.all([...byWorker].map(async ([w, list]) => {
      let values: Record<string, Payload> = {};
      try {
        values = await this.#peers.getData(w, list.map((ks) => ks.key));
      } catch { /* that worker is gone: ask the scheduler where else it is */ }
      const again: KeyState[] = [];
      for (const ks of list) {
        const v = values[ks.key];
        if (v) ks.payload = v;
        else {
          ks.holders = ks.holders.slice(1);
          again.push(ks);
        }
      }
      if (again.length) {
        for (const ks of again) ks.reset();
        this.#conn.send({ op: "request-values", keys: again.map((ks) => ks.key) });
        await this.#allSettled(again);
        await this.#fetchMissing(again);
      }
    }));
  }

  /** FutureHost: a Future of `ks` was released. */
  releaseKey(ks: KeyState): void {
    if (--ks.refs > 0) return;
    if (this.#keys.get(ks.key) !== ks) return;
    this.#keys.delete(ks.key);
    if (this.#closing) return;
    if (this.#tasks.length) this.#flushGraph(); // the scheduler must see the key before its release
    this.#released.push(ks.key);
    this.#scheduleFlush();
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
      // fault tolerance (i5)
      case "scheduler-closing":
        this.#schedulerGone = msg.reason;
        return;
      // cluster-wide calls (i4-cluster)
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

  // ---------------------------------------------------------------- workers (i5)

  /**
   * Restarts every worker through its nanny: every Future (of every client) becomes cancelled;
   * resolves once as many workers as before are back. TimeoutError after `timeout` ms.
   */
  async restart(options: { timeout?: number } = {}): Promise<void> {
    this.#checkOpen();
    this.#flush();
    const r = await this.#conn.request<Ack>({
      op: "restart",
      id: 0,
      timeout: options.timeout ?? 60_000,
    });
    if (r.e) throw fromEnvelope(r.e);
  }

  /**
   * Stops workers (addresses or names) gracefully: the keys only they hold are copied to other
   * workers first (nothing is recomputed), and their nannies do not restart them.
   */
  async retireWorkers(addresses: string | Iterable<string>): Promise<void> {
    this.#checkOpen();
    this.#flush();
    const workers = typeof addresses === "string" ? [addresses] : [...addresses];
    const r = await this.#conn.request<Ack>({ op: "retire-workers", id: 0, workers });
    if (r.e) throw fromEnvelope(r.e);
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
  async schedulerInfo(): Promise<{ address: string; workers: Record<string, WorkerInfo> }> {
    const r = await this.#conn.request<SchedulerInfoReply>({ op: "scheduler-info", id: 0 });
    return { address: r.address, workers: r.workers };
  }

  /** Workers holding each Future's value, by key (empty while not in memory). */
  async whoHas(futures?: Iterable<Future> | Future): Promise<Record<string, string[]>> {
    const keys = futures === undefined
      ? [...this.#keys.keys()]
      : futures instanceof Future
      ? [futures.key]
      : Array.from(futures, (f) => f.key);
    const r = await this.#conn.request<WhoHasReply>({ op: "who-has", id: 0, keys });
    return r.whoHas;
  }

  /** Keys held by each worker, by worker address. */
  async hasWhat(): Promise<Record<string, string[]>> {
    const r = await this.#conn.request<HasWhatReply>({ op: "has-what", id: 0 });
    return r.hasWhat;
  }

  /** Resolves once at least `n` workers are connected; TimeoutError after `timeout` ms. */
  async waitForWorkers(n: number, options: { timeout?: number } = {}): Promise<void> {
    if (!Number.isInteger(n) || n < 0) throw new TypeError(`n must be a whole number, got ${n}`);
    const timeout = options.timeout ?? 2 ** 31 - 1;
    const r = await this.#conn.request<WaitForWorkersReply>({
      op: "wait-for-workers",
      id: 0,
      n,
      timeout,
    });
    if (r.error !== undefined) {
      if (!/timed out/.test(r.error)) throw new CommClosedError(r.error);
      throw new TimeoutError(`only ${r.n} of ${n} workers arrived within ${timeout} ms`);
    }
  }

  /** Threads per worker, by address. */
  async nthreads(): Promise<Record<string, number>> {
    const info = await this.schedulerInfo();
    return Object.fromEntries(Object.entries(info.workers).map(([a, w]) => [a, w.nthreads]));
  }

  // ---------------------------------------------------------------- cluster-wide calls (i4-cluster)

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

  /** A topic's events as `[timestampMs, msg]`, oldest first; every topic's when absent. */
  getEvents(topic: string): Promise<calls.TopicEventRecord[]>;
  getEvents(): Promise<Record<string, calls.TopicEventRecord[]>>;
  getEvents(
    topic?: string,
  ): Promise<calls.TopicEventRecord[] | Record<string, calls.TopicEventRecord[]>> {
    return calls.getEvents(this.#calls, topic);
  }

  /** Calls `handler([timestampMs, msg])` for each new event of `topic`. */
  subscribeTopic(topic: string, handler: (event: calls.TopicEventRecord) => unknown): void {
    this.#topics.subscribe(this.#calls, topic, handler);
  }

  /** Stops the handler of `topic`. */
  unsubscribeTopic(topic: string): void {
    this.#topics.unsubscribe(this.#calls, topic);
  }

  /** Records of the tasks that finished since `start` (ms since the epoch; default: all kept). */
  getTaskStream(options?: { start?: number }): Promise<calls.TaskStreamRecord[]> {
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
        this.#wanted.push(key);
        fresh.push(key);
      }
      return new Future(ks, this, this);
    });
    if (fresh.length) {
      this.#flushGraph();
      this.#conn.send({ op: "request-values", keys: fresh });
    }
    return futures;
  }

  // ---------------------------------------------------------------- preload (issue 4)

  /**
   * Every worker imports the module at `moduleUrl` (an absolute URL or import-map name), now and
   * when it joins later; a submitted function whose name and source match one of its exports
   * then runs as that export, with its imports. Resolves once the scheduler has it.
   */
  async preload(moduleUrl: string | URL): Promise<void> {
    const url = String(moduleUrl);
    if (!URL.canParse(url)) {
      throw new TypeError(
        `preload needs an absolute module URL or import-map name, got ${JSON.stringify(url)}; ` +
          `resolve a path with import.meta.resolve(...)`,
      );
    }
    this.#checkOpen();
    this.#flush();
    this.#conn.send({ op: "preload", urls: [url] });
    await this.schedulerInfo(); // a round trip: the scheduler has handled it
  }

  // ---------------------------------------------------------------- graphs, scatter, cancel (i4-graph)

  /**
   * Submits a task graph `{ key: task(fn, ...args) | value }` (`ref("k")` in arguments for a
   * dependency) and returns Futures at once: one for a key, (nested) arrays for (nested) arrays
   * of keys, an object of every graph key's Future when `keys` is left out. Unknown refs and
   * cycles throw here, and then nothing is sent.
   */
  compute(graph: Graph, keys: string, options?: ComputeOptions): Future<any>;
  compute(graph: Graph, keys: readonly KeyTree[], options?: ComputeOptions): any[];
  compute(graph: Graph, keys?: undefined, options?: ComputeOptions): Record<string, Future<any>>;
  compute(graph: Graph, keys?: KeyTree, options: ComputeOptions = {}): unknown {
    return graphs.compute(this.#host, graph, keys, options);
  }

  /** Computes a graph: the values of `keys` in the same shape; the first error rejects at once. */
  get(graph: Graph, keys: string, options?: ComputeOptions): Promise<any>;
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
  scatter<T extends Record<string, unknown>>(
    data: T,
    options?: ScatterOptions,
  ): { [K in keyof T]: Future<T[K]> };
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
    const mine = futuresIn(futures).filter((f) => f.client === this).map((f) => f.state);
    return this.cancelKeys(mine, options.force === true);
  }

  /** FutureHost: cancels keys of this client. */
  cancelKeys(states: KeyState[], force: boolean): Promise<void> {
    cancelKeys(this.#host, new Set(states), force);
    return Promise.resolve();
  }

  /** Runs erred Futures again (with their erred dependencies); they go back to pending. */
  retry(futures: unknown): Promise<void> {
    return this.retryKeys(futuresIn(futures).filter((f) => f.client === this));
  }

  /** FutureHost: re-runs the erred keys of these Futures. */
  retryKeys(futures: Future<unknown>[]): Promise<void> {
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
    future: (ks) => new Future(ks, this, this),
    queued: () => this.#tasks.length,
    enqueue: (key, fn, args, deps, options, want) => {
      const info = fnInfo(fn);
      if (this.#fifo !== DEFAULT_FIFO) { // graphs use the default fifoTimeout
        this.#flush();
        this.#fifo = DEFAULT_FIFO;
      }
      this.#tasks.push(specOptions({ k: key, f: info.h, a: args, d: deps }, options));
      if (want) this.#wanted.push(key);
      if (!this.#sentFns.has(info.h)) {
        this.#sentFns.add(info.h);
        this.#fns.push({ h: info.h, n: info.n, s: info.s });
      }
      if (this.#tasks.length >= GRAPH_CHUNK) this.#flushGraph();
      else this.#scheduleFlush();
    },
    unwant: (keys) => {
      this.#flushGraph();
      this.#released.push(...keys);
      this.#scheduleFlush();
    },
    isOpen: () => !this.#closing && this.#conn.closeReason === null,
    checkOpen: () => this.#checkOpen(),
    send: (msg) => {
      this.#checkOpen();
      this.#flushGraph();
      this.#conn.send(msg);
    },
    request: (msg) => {
      this.#checkOpen();
      this.#flushGraph();
      return this.#conn.request(msg);
    },
    putData: (worker, values) => this.#peers.putData(worker, values),
    gather: (x) => this.gather(x),
  };

  // ---------------------------------------------------------------- lifecycle

  /** Closes the connection (and the cluster this client started, if any). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#abort.abort();
      if (this.#conn.closeReason === null) {
        this.#flush();
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
}

/** A Future, or an iterable of them (a Set...), as arrays for walking; other values as they are. */
function toStructure(x: unknown): unknown {
  if (x instanceof Future || Array.isArray(x) || x === null || typeof x !== "object") return x;
  const it = (x as Partial<Iterable<unknown>>)[Symbol.iterator];
  return typeof it === "function" ? [...(x as Iterable<unknown>)] : x;
}

/** A value, or a Future of it, also nested inside arrays and plain objects. */
export type MaybeFuture<T> =
  | T
  | Future<T>
  | (T extends readonly unknown[] ? { [K in keyof T]: MaybeFuture<T[K]> }
    : T extends Record<string, unknown> ? { [K in keyof T]: MaybeFuture<T[K]> }
    : never);

/** Arguments where any value may also be given as a Future of it. */
export type Args<A extends unknown[]> = { [I in keyof A]: MaybeFuture<A[I]> };

/** Dask's checks: allowOtherWorkers is a boolean, and only means something with workers. */
function checkAllowOtherWorkers(o: SubmitOptions): void {
  const a = o.allowOtherWorkers;
  if (a === undefined) return;
  if (typeof a !== "boolean") {
    throw new TypeError(`allowOtherWorkers must be true or false, got ${typeof a}`);
  }
  if (a && (o.workers === undefined || o.workers.length === 0)) {
    throw new TypeError(
      "allowOtherWorkers: true needs workers: name the workers the task should prefer",
    );
  }
}
