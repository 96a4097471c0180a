/** The scheduler actor: listeners, connections, and the I/O around the state machine. */
import { Connection } from "../comm/connection.ts";
import { AUTH_FAILED, receiveHello, tokenMatches, withTimeout } from "../comm/handshake.ts";
import { CommClosedError, TimeoutError, toEnvelope } from "../core/errors.ts";
import { listenTcp } from "../comm/tcp_listener.ts";
import { advertisedAddress } from "../comm/contact_address.ts";
import { listenInproc } from "../comm/inproc.ts";
import type { Listener, Transport } from "../comm/transport.ts";
import {
  CLIENT_OPS,
  type ClientToScheduler,
  expectOps,
  type Hello,
  type Message,
  PROTOCOL_VERSION,
  type Scatter,
  unreachable,
  type Welcome,
  WORKER_OPS,
  type WorkerInfo,
  type WorkerToScheduler,
} from "../comm/protocol.ts";
import { type HttpServer, serveDashboard } from "../dashboard/http.ts";
import type { ClusterView } from "../dashboard/metrics.ts";
import { type SchedulerConfig, type SchedulerOutbox, SchedulerState } from "./state.ts";
import { ClusterCalls } from "./cluster_calls.ts";
import { DEFAULT_WORKER_TTL, Liveness, ttlCheckInterval } from "./liveness.ts";
import { type LifecycleHost, restartWorkers, retireWorkers } from "./lifecycle.ts";
import { announceScatter } from "./announce_scatter.ts";

/** How a scheduler starts. */
export interface SchedulerOptions {
  /** Host to listen on (default 127.0.0.1). */
  host?: string;
  /** The address peers are told to dial (see comm/contact_address.ts; default: the listener's). */
  contactAddress?: string;
  /** TCP port (0 = any free port). */
  port?: number;
  /** `host:port` or `:port` for the HTTP server; null for none. */
  dashboardAddress?: string | null;
  /** Token every peer must present. */
  authToken?: string;
  /** Scheduling knobs. */
  config?: Partial<SchedulerConfig>;
  /** Where warnings go (default: stderr). */
  log?: (line: string) => void;
  /** Also log informational events (workers joining and leaving...). */
  verbose?: boolean;
  /** Modules every worker imports, also workers that join later (URLs or import-map names). */
  preload?: string[];
  /** A worker not heard from for this long (ms) is removed (default 5 min, Dask's worker-ttl). */
  workerTtl?: number;
  /** How long a client that lost its connection keeps its wanted keys to reconnect (ms, 30 s). */
  clientGrace?: number;
  /** The name of its inproc:// address (default: a fresh one); a replacement reuses it. */
  inprocName?: string;
}

/**
 * Most bytes of results queued for one client. Past half of it, workers stop sending results
 * along for that client; past all of it, results in flight are not forwarded either. They stay
 * on their workers and the client fetches them from there when it reads again, so a client that
 * stops reading cannot make the scheduler hold every result.
 */
export const CLIENT_QUEUE_BYTES = 32 * 1024 * 1024;

/** How long the scheduler waits for a dead worker's exit status before removing it (ms). */
const EXIT_STATUS_WAIT = 500;

/**
 * A running scheduler: it listens for workers and clients on `address` (tcp://) and
 * `inprocAddress`, and serves the dashboard at `dashboardLink`. `LocalCluster` and the
 * scheduler command line start one; `Scheduler.start` starts one on its own.
 */
export class Scheduler {
  /** The state machine (internal; dtask's own modules reach it through scheduler/internals.ts). */
  private readonly state: SchedulerState;
  /** Its tcp:// address. */
  readonly address: string;
  /** Its inproc:// address (for clients and workers in this process). */
  readonly inprocAddress: string;
  /** The dashboard's URL, or null. */
  dashboardLink: string | null = null;
  /** Called if the scheduler fails (supervision). */
  onFailure: ((error: Error) => void) | null = null;
  #listeners: Listener[];
  #http: HttpServer | null = null;
  #workers = new Map<string, Connection>();
  #clients = new Map<string, Connection>();
  #pending = new Set<Transport>();
  /** Workers between their admission and their registration, by transport. */
  #joining = new Map<Transport, WorkerInfo>();
  #accepting = new Set<Promise<void>>();
  #clientSeq = 0;
  readonly #idSalt = crypto.randomUUID().slice(0, 8);
  #closing: Promise<void> | null = null;
  #workerWatchers = new Set<(closing?: boolean) => void>();
  #log: (line: string) => void;
  readonly #startedAt = Date.now();
  /** Cluster-wide client calls: run, replicate, datasets, events, task stream (internal). */
  private readonly calls: ClusterCalls;
  /** The work-stealing timer. */
  #balancer: ReturnType<typeof setInterval> | undefined;
  /** Modules every worker imports (in-task). */
  readonly #preloads: string[] = [];
  // fault tolerance
  /** Heartbeat times per worker, checked against `workerTtl` (internal). */
  private readonly liveness: Liveness = new Liveness();
  #ttlTimer: ReturnType<typeof setInterval> | undefined;
  /** Workers whose departure was asked for (retire, restart): not suspicious, not waited on. */
  #expected = new Map<string, string>();
  /** Clients that lost their connection, kept until the grace period ends. */
  #dropped = new Map<string, ReturnType<typeof setTimeout>>();
  /** Clients that said goodbye (close-client): released at once. */
  #leaving = new Set<string>();
  /**
   * How a worker's process ended, when a nanny in this process knows (LocalCluster sets it):
   * the scheduler names it in the removal reason and in KilledWorker.
   */
  exitStatusOf: ((address: string) => Promise<string> | undefined) | null = null;
  /** Exit statuses nannies elsewhere reported (`worker-exited`), or wait for, by address. */
  #exitReports = new Map<string, PromiseWithResolvers<string>>();
  /** Worker removals in progress (awaited by close), and what ends their waits. */
  #removing = new Set<Promise<void>>();
  #closingSignal = Promise.withResolvers<undefined>();

  private constructor(readonly options: SchedulerOptions) {
    this.#log = options.log ?? ((l) => console.error(l));
    const out: SchedulerOutbox = {
      worker: (address, msg) => this.#workers.get(address)?.send(msg),
      client: (id, msg) => {
        const conn = this.#clients.get(id);
        if (conn === undefined) return;
        if (
          msg.op === "key-in-memory" && msg.v !== undefined &&
          conn.queuedBytes + msg.v.nbytes > CLIENT_QUEUE_BYTES
        ) {
          msg = { op: "key-in-memory", k: msg.k, w: msg.w };
        }
        conn.send(msg);
      },
      event: (topic, text) => {
        if (options.verbose) this.#log(`[scheduler] ${topic}: ${text}`);
        this.calls.schedulerEvent(topic, text);
      },
    };
    this.state = new SchedulerState(out, options.config);
    this.calls = new ClusterCalls({
      state: this.state,
      worker: (a) => this.#workers.get(a),
      client: (id) => this.#clients.get(id),
    });
    const accept = (t: Transport) => {
      const p = this.#accept(t).catch((e) => {
        this.#log(`[scheduler] error accepting ${t.peer}: ${(e as Error)?.stack ?? e}`);
        t.close();
      });
      this.#accepting.add(p);
      p.finally(() => this.#accepting.delete(p));
    };
    const tcp = listenTcp(options.host ?? "127.0.0.1", options.port ?? 0, accept);
    const inproc = listenInproc(accept, options.inprocName);
    this.#listeners = [tcp, inproc];
    this.address = advertisedAddress(tcp.address, options.contactAddress);
    this.inprocAddress = inproc.address;
    const cfg = this.state.config;
    if (cfg.workStealing) {
      this.#balancer = setInterval(
        () => this.#guard("balancing work", () => this.state.balance()),
        cfg.workStealingInterval,
      );
    }
    this.#preloads.push(...new Set(options.preload ?? []));
    const ttl = options.workerTtl ?? DEFAULT_WORKER_TTL;
    if (Number.isFinite(ttl)) {
      this.#ttlTimer = setInterval(() => this.#checkTtl(ttl), ttlCheckInterval(ttl));
    }
  }

  /** Modules every worker imports (the `preload` option and `client.preload` calls). */
  get preloads(): readonly string[] {
    return this.#preloads;
  }

  /** Adds modules for every worker to import, now and when it joins. */
  preload(urls: string[]): void {
    const fresh = urls.filter((u) => !this.#preloads.includes(u));
    if (fresh.length === 0) return;
    this.#preloads.push(...fresh);
    for (const c of this.#workers.values()) c.send({ op: "preload", urls: fresh });
  }

  /** Starts listening (and serving the dashboard when asked). */
  static async start(options: SchedulerOptions = {}): Promise<Scheduler> {
    const s = new Scheduler(options);
    if (options.dashboardAddress != null) {
      try {
        s.#http = await serveDashboard(
          options.dashboardAddress,
          options.host ?? "127.0.0.1",
          () => s.view(),
          s.#log,
        );
        s.dashboardLink = s.#http.link;
      } catch (e) {
        await s.close();
        throw e;
      }
    }
    return s;
  }

  /** A read-only snapshot for metrics and the dashboard. */
  view(): ClusterView {
    const st = this.state;
    return {
      address: this.address,
      uptimeSeconds: (Date.now() - this.#startedAt) / 1000,
      counts: st.counts,
      tasksCompleted: st.tasksCompleted,
      clients: st.clients.size,
      workers: Array.from(st.workers.values(), (ws) => ({
        address: ws.address,
        name: ws.info.name,
        nthreads: ws.info.nthreads,
        memoryLimit: ws.info.memoryLimit,
        memory: ws.memory,
        processing: ws.processing.size,
        stored: ws.hasWhat.size,
      })),
    };
  }

  async #accept(t: Transport): Promise<void> {
    this.#pending.add(t);
    let hello: Hello | null = null;
    try {
      hello = await receiveHello(t, (h) => this.#admit(h, t), 10_000);
    } finally {
      this.#pending.delete(t);
      this.#joining.delete(t);
    }
    if (!hello || this.#closing) {
      if (hello) t.close();
      return;
    }
    const conn = new Connection(t, this.#log);
    try {
      if (hello.role === "worker") this.#addWorker(hello.worker!, conn);
      else this.#addClient((hello as Hello & { id: string }).id, conn);
    } catch (e) {
      // A bug, not the peer's fault: drop this connection and keep serving everyone else.
      this.#log(`[scheduler] dropping ${t.peer}: ${(e as Error)?.stack ?? e}`);
      conn.close("internal error");
    }
  }

  #addWorker(info: WorkerInfo, conn: Connection): void {
    this.#workers.set(info.address, conn);
    // before any task reaches it (in-task)
    if (this.#preloads.length) conn.send({ op: "preload", urls: [...this.#preloads] });
    const removing = conn.closed.then(async (reason) => {
      if (this.#workers.get(info.address) === conn) this.#workers.delete(info.address);
      const a = info.address;
      const expected = this.#expected.has(a) || this.#closing !== null;
      reason = this.#expected.get(a) ?? reason;
      const ws = this.state.workers.get(a);
      // i5: learn how its process ended (bounded wait); place nothing there meanwhile
      const exit = expected
        ? undefined
        : this.exitStatusOf?.(a) ?? (info.nanny ? this.#exitReport(a).promise : undefined);
      if (exit && ws) {
        ws.status = "closing";
        const how = await withTimeout(
          Promise.race([exit, this.#closingSignal.promise]), // closing: no more waiting
          EXIT_STATUS_WAIT,
          "",
        ).catch(() => undefined);
        if (how) reason = `${reason}; its process ended: ${how}`;
      }
      this.#exitReports.delete(a);
      this.#removeWorker(a, reason, expected);
    });
    this.#removing.add(removing);
    removing.finally(() => this.#removing.delete(removing));
    if (!this.#guard(`adding worker ${info.address}`, () => this.state.addWorker(info))) {
      conn.close("internal error while adding the worker");
      return;
    }
    this.liveness.seen(info.address, performance.now());
    this.calls.workerAdded(info.address);
    this.#workersChanged();
    conn.start((msg) => this.#onWorker(info.address, msg));
  }

  /** A worker left: its tasks are rescheduled, its data recomputed or cancelled (one path for every way a worker goes). */
  #removeWorker(address: string, reason: string, expected: boolean): void {
    this.#expected.delete(address);
    this.liveness.forget(address);
    if (this.state.workers.has(address)) this.calls.workerRemoved(address, reason);
    this.#guard(`removing worker ${address}`, () => {
      this.state.removeWorker(address, reason, expected);
    });
    this.#workersChanged();
  }

  /** The exit status a nanny reported (or will report) for the worker at `address`. */
  #exitReport(address: string): PromiseWithResolvers<string> {
    let r = this.#exitReports.get(address);
    if (!r) {
      this.#exitReports.set(address, r = Promise.withResolvers<string>());
      // bounded: reports nobody waits for (expected exits) go oldest first
      if (this.#exitReports.size > 1000) {
        this.#exitReports.delete(this.#exitReports.keys().next().value!);
      }
    }
    return r;
  }

  /** Workers silent for longer than `ttl` are dropped (Dask's check_worker_ttl). */
  #checkTtl(ttl: number): void {
    const expired = this.liveness.expired(performance.now(), ttl);
    if (expired.length === 0) return;
    this.calls.log("all", { action: "worker-ttl-timed-out", workers: expired, ttl });
    for (const a of expired) {
      const reason = `worker-ttl-timed-out: no heartbeat for more than ${ttl} ms`;
      this.liveness.forget(a);
      const conn = this.#workers.get(a);
      if (conn) conn.close(reason); // its closed handler removes it
      else this.#removeWorker(a, reason, false);
    }
  }

  #addClient(id: string, conn: Connection): void {
    const resumed = this.#dropped.has(id);
    clearTimeout(this.#dropped.get(id));
    this.#dropped.delete(id);
    this.#clients.set(id, conn);
    this.state.addClient(id);
    conn.watchQueue(CLIENT_QUEUE_BYTES / 2, (stalled) => {
      if (this.#clients.get(id) === conn) {
        this.#guard(`marking client ${id} stalled`, () => this.state.clientStalled(id, stalled));
      }
    });
    if (!resumed) this.calls.clientAdded(id);
    conn.closed.then(() => {
      if (this.#clients.get(id) !== conn) return;
      this.#clients.delete(id);
      const gone = () => {
        this.#dropped.delete(id);
        this.#leaving.delete(id);
        this.calls.clientGone(id);
        this.#guard(`removing client ${id}`, () => this.state.removeClient(id));
      };
      // i5: a dropped client keeps its wants for a while, to reconnect and resume
      const grace = this.options.clientGrace ?? 30_000;
      if (this.#leaving.has(id) || this.#closing || grace <= 0) return gone();
      this.#dropped.set(id, setTimeout(gone, grace));
    });
    conn.start((msg) => this.#onClient(id, msg, conn));
  }

  /** The lifecycle calls' view of this scheduler. */
  #lifecycle(): LifecycleHost {
    return {
      state: this.state,
      worker: (a) => this.#workers.get(a),
      expect: (a, why) => this.#expected.set(a, why),
      until: (pred, ms, what) => this.#until(pred, ms, what),
    };
  }

  /** Runs a state transition outside any message handler; a throw is logged, never unhandled. */
  #guard(what: string, f: () => void): boolean {
    try {
      f();
      return true;
    } catch (e) {
      this.#log(`[scheduler] error ${what}: ${(e as Error)?.stack ?? e}`);
      // a transition no peer asked for failed: the state may be broken, so the scheduler
      // fails as a whole and its supervisor (LocalCluster) replaces it
      if (this.onFailure && !this.#closing) {
        const fail = this.onFailure;
        this.onFailure = null;
        fail(e instanceof Error ? e : new Error(String(e)));
      }
      return false;
    }
  }

  #admit(h: Hello, t: Transport): Welcome | string {
    if (!tokenMatches(h.token, this.options.authToken)) return AUTH_FAILED;
    const welcome: Welcome = { op: "welcome", version: PROTOCOL_VERSION, address: this.address };
    if (h.role === "worker") {
      const info = h.worker!; // validateHello checked its shape
      const joining = [...this.#joining.values()];
      if (this.#workers.has(info.address) || joining.some((j) => j.address === info.address)) {
        return `a worker at ${info.address} is already registered`;
      }
      // a worker whose connection closed no longer holds its name (its nanny's new process may
      // register before the old one is removed)
      const taken = joining.find((j) => j.name === info.name)?.address ??
        [...this.state.workers.values()].find((ws) =>
          ws.info.name === info.name && this.#workers.has(ws.address)
        )?.address;
      if (taken !== undefined) {
        return `a worker named ${JSON.stringify(info.name)} is already registered ` +
          `(at ${taken}); give each worker its own name`;
      }
      // Reserved until the handshake ends, so two workers racing for a name cannot both join.
      this.#joining.set(t, info);
      return welcome;
    }
    if (h.role === "client") {
      // i5: a client reconnecting within its grace period gets its id (and wanted keys) back
      const resume = h.resume !== undefined && this.#dropped.has(h.resume) ? h.resume : undefined;
      // unique across schedulers too: a client of a replaced scheduler cannot resume another's
      const id = resume ??
        `client-${this.#idSalt}-${++this.#clientSeq}-${h.name.slice(0, 100)}`;
      (h as Hello & { id: string }).id = id;
      welcome.id = id;
      return welcome;
    }
    return `the scheduler does not accept ${h.role} connections`;
  }

  #onWorker(address: string, msg: Message): void {
    const m = expectOps<WorkerToScheduler>(msg, WORKER_OPS, "a worker");
    switch (m.op) {
      case "task-finished":
        if (this.state.tasks.get(m.k)?.state === "processing") {
          this.calls.taskStream.push(m.k, address, m.start, m.stop, true);
        }
        return this.state.taskFinished(address, m);
      case "task-erred":
        if (this.state.tasks.get(m.k)?.processingOn?.address === address) {
          this.calls.taskStream.push(m.k, address, m.start, m.stop, false);
        }
        return this.state.taskErred(address, m);
      case "missing-data":
        return this.state.missingData(address, m.k, m.key, m.worker);
      case "heartbeat": {
        const ws = this.state.workers.get(address);
        if (ws) ws.memory = m.memory;
        if (ws) this.liveness.seen(address, performance.now()); // i5
        return;
      }
      // cluster-wide calls: replies whose request is gone (a stale id)
      case "run-reply":
      case "acquire-replicas-reply":
        return;
      // work stealing
      case "steal-response":
        return this.state.stealResponse(address, m.k, m.state);
      // in-task
      case "long-running":
        return this.state.longRunning(address, m.k);
      default:
        unreachable(m);
    }
  }

  #onClient(id: string, msg: Message, conn: Connection): void {
    const m = expectOps<ClientToScheduler>(msg, CLIENT_OPS, "a client");
    switch (m.op) {
      case "update-graph":
        return this.state.updateGraph(id, m, performance.now());
      case "release-keys":
        return this.state.releaseKeys(id, m.keys);
      case "request-values":
        return this.state.requestValues(id, m.keys);
      case "scheduler-info": {
        const workers: Record<string, WorkerInfo> = {};
        for (const ws of this.state.workers.values()) workers[ws.address] = ws.info;
        conn.send({ op: "scheduler-info-reply", id: m.id, address: this.address, workers });
        return;
      }
      case "who-has": {
        const whoHas: Record<string, string[]> = {};
        for (const k of m.keys) {
          const ts = this.state.tasks.get(k);
          whoHas[k] = ts?.whoHas ? Array.from(ts.whoHas, (w) => w.address) : [];
        }
        conn.send({ op: "who-has-reply", id: m.id, whoHas });
        return;
      }
      case "has-what": {
        const hasWhat: Record<string, string[]> = {};
        for (const ws of this.state.workers.values()) {
          hasWhat[ws.address] = Array.from(ws.hasWhat, (ts) => ts.key);
        }
        conn.send({ op: "has-what-reply", id: m.id, hasWhat });
        return;
      }
      case "wait-for-workers": {
        const id = m.id;
        this.waitForWorkers(m.n, m.timeout).then(
          () => conn.send({ op: "wait-for-workers-reply", id, n: this.nWorkers }),
          (e: Error) =>
            conn.send({ op: "wait-for-workers-reply", id, n: this.nWorkers, error: e.message }),
        );
        return;
      }
      case "close-client":
        this.#leaving.add(id);
        conn.close("client closed");
        return;
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
        return this.calls.handle(id, m, conn);
      // in-task
      case "preload":
        return this.preload(m.urls);
      // graph, scatter, cancel, retry
      case "cancel-keys":
        return this.state.cancelKeys(id, m.keys, m.force);
      case "retry-keys":
        return this.state.retryKeys(m.keys);
      case "fire-and-forget":
        return this.state.fireAndForget(m.keys);
      case "scatter":
        return this.#scatter(id, m, conn);
      case "update-data":
        return this.state.updateData(m.who, m.nbytes);
      // fault tolerance
      case "restart":
        return this.#reply(conn, m.id, restartWorkers(this.#lifecycle(), m.timeout));
      case "retire-workers":
        return this.#reply(conn, m.id, retireWorkers(this.#lifecycle(), m.workers, 60_000));
      case "worker-exited":
        this.#exitReport(m.address).resolve(m.how.slice(0, 200));
        return;
      default:
        unreachable(m);
    }
  }

  /** Plans a scatter, waiting up to its timeout for an allowed worker to join. */
  #scatter(id: string, m: Scatter, conn: Connection): void {
    const plan = () => this.state.scatterPlan(id, m.keys, m.nbytes, m.workers, m.broadcast);
    // the workers learn which keys to accept before the client learns where to send them
    const send = (who: Record<string, string[]>) =>
      void announceScatter(who, (a) => this.#workers.get(a)).then(() =>
        conn.send({ op: "scatter-plan", id: m.id, who })
      );
    const who = plan();
    if (who) return send(who);
    const timeout = m.timeout ?? 30_000;
    const done = (who: Record<string, string[]>, e?: Error) => {
      clearTimeout(timer);
      this.#workerWatchers.delete(check);
      if (!e) return send(who);
      conn.send({ op: "scatter-plan", id: m.id, who, e: toEnvelope(e) });
    };
    const check = (closing?: boolean) => {
      if (closing) return done({}, new CommClosedError("the scheduler is closing"));
      const who = plan();
      if (who) done(who);
    };
    this.#workerWatchers.add(check);
    const timer = setTimeout(() => {
      const where = m.workers?.length ? ` among ${m.workers.join(", ")}` : "";
      done(
        {},
        new TimeoutError(
          `scatter: no worker${where} to hold the data within ${timeout} ms; start workers ` +
            `(or check the workers option) and scatter again`,
        ),
      );
    }, timeout);
  }

  /** Answers a request with `ack` once `work` settles (with its error, if any). */
  #reply(conn: Connection, id: number, work: Promise<unknown>): void {
    work.then(
      () => conn.send({ op: "ack", id }),
      (e) => conn.send({ op: "ack", id, e: toEnvelope(e) }),
    );
  }

  /** Restarts every worker through its nanny and cancels every task (client.restart(), i5). */
  restart(timeout = 60_000): Promise<void> {
    return restartWorkers(this.#lifecycle(), timeout);
  }

  /** Retires workers gracefully, their data moved to peers first. */
  retireWorkers(names: string[], timeout = 60_000): Promise<string[]> {
    return retireWorkers(this.#lifecycle(), names, timeout);
  }

  /** Resolves once `pred()` holds, checked whenever the workers change. */
  #until(pred: () => boolean, ms: number, what: string): Promise<void> {
    if (pred()) return Promise.resolve();
    if (this.#closing) return Promise.reject(new CommClosedError("the scheduler is closing"));
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    const check = (closing?: boolean) => {
      if (closing) reject(new CommClosedError("the scheduler closed"));
      else if (pred()) resolve();
    };
    this.#workerWatchers.add(check);
    return withTimeout(promise, ms, `waiting for ${what}`).finally(() =>
      this.#workerWatchers.delete(check)
    );
  }

  #workersChanged(): void {
    for (const w of this.#workerWatchers) w();
  }

  /** Resolves once at least `n` workers are connected; rejects with TimeoutError after `timeout`. */
  waitForWorkers(n: number, timeout = 60_000): Promise<void> {
    return this.#until(() => this.nWorkers >= n, timeout, `${n} workers`);
  }

  /** Number of connected workers. */
  get nWorkers(): number {
    return this.state.workers.size;
  }

  /**
   * Closes workers' connections (telling them to stop), clients, listeners, HTTP. With
   * `replaced` (a supervisor is starting a new scheduler on the same addresses) the workers are
   * told to restart and the clients are not told anything, so both come back to the new one.
   */
  close(options: { replaced?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#balancer);
      clearInterval(this.#ttlTimer);
      this.#closingSignal.resolve(undefined);
      for (const t of this.#dropped.values()) clearTimeout(t);
      this.#dropped.clear();
      for (const w of [...this.#workerWatchers]) w(true);
      this.calls.close();
      for (const l of this.#listeners) await l.close();
      for (const t of this.#pending) t.close();
      await Promise.all(this.#accepting);
      for (const c of this.#workers.values()) {
        c.send({
          op: "close-worker",
          reason: "scheduler closing",
          ...(options.replaced && { restart: true }),
        });
      }
      if (!options.replaced) {
        for (const c of this.#clients.values()) {
          c.send({ op: "scheduler-closing", reason: "the scheduler closed" });
        }
      }
      const all = [...this.#workers.values(), ...this.#clients.values()];
      await Promise.all(all.map((c) => c.drainAndClose("scheduler closing")));
      await Promise.all(all.map((c) => c.finished()));
      await Promise.all(this.#removing);
      await this.#http?.close();
    })();
    return this.#closing;
  }
}
