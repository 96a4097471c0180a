/**
 * A running scheduler: its listeners, its dashboard, and its public API, around the scheduler
 * actor (actor.ts), which every input reaches through its one entry, `receive`. The API's calls
 * are stimuli too.
 */
import { listenTcp } from "../comm/tcp_listener.ts";
import { checkListenerTls } from "../comm/tls_options.ts";
import {
  advertisedAddress,
  isWildcardHost,
  parseContactAddress,
  reachableHost,
} from "../comm/contact_address.ts";
import { listenInproc } from "../comm/inproc.ts";
import { listenWs, type WsListener } from "../comm/ws_listener.ts";
import { type Listener, parseAddress, type Transport } from "../comm/transport.ts";
import type { WorkerInfo } from "../comm/protocol.ts";
import { type HttpServer, serveDashboard } from "../dashboard/http.ts";
import type { ClusterView } from "../dashboard/metrics.ts";
import { normalizeDashboardPrefix } from "../dashboard/prefix.ts";
import { PageSockets } from "../dashboard/page_sockets.ts";
import { type DashboardHost, dashboardRoutes } from "../dashboard/routes.ts";
import { clusterView } from "./view.ts";
import { taskInfo, workerRows } from "./dashboard_source.ts";
import { workerLogLines } from "./worker_logs.ts";
import { handshake } from "./admission.ts";
import type { ListenerIdentity } from "../comm/handshake.ts";
import { SchedulerActor } from "./actor.ts";
import type { SchedulerOptions } from "./options.ts";
import { WORKERS_WAIT_TIMEOUT } from "../comm/timeouts.ts";

export type { SchedulerOptions };
export { CLIENT_QUEUE_BYTES } from "./client_sessions.ts";

/**
 * A running scheduler: it listens for workers and clients on `address` (tcp://, or tls://) and
 * `inprocAddress`, and serves the dashboard at `dashboardLink`. `LocalCluster` and the
 * scheduler command line start one; `Scheduler.start` starts one on its own.
 */
export class Scheduler {
  /** Its tcp:// address (tls:// with TLS). */
  readonly address: string;
  /** Its inproc:// address (for clients and workers in this process). */
  readonly inprocAddress: string;
  /**
   * Its ws:// address (WebSocket listener, for clients that cannot open TCP), wss:// with TLS,
   * or null.
   */
  wsAddress: string | null = null;
  /** The dashboard's URL, or null. */
  dashboardLink: string | null = null;
  /** Called if the scheduler fails (supervision). */
  onFailure: ((error: Error) => void) | null = null;
  /**
   * How a worker's process ended, when a nanny in this process knows (LocalCluster sets it):
   * the scheduler names it in the removal reason and in KilledWorker.
   */
  exitStatusOf: ((address: string) => Promise<string> | undefined) | null = null;
  /** The actor: state machine, shell, stimulus log (internal: see scheduler/internals.ts). */
  private readonly actor: SchedulerActor;
  readonly #log: (line: string) => void;
  readonly #startedAt = Date.now();
  readonly #listeners: Listener[];
  #ws: WsListener | null = null;
  readonly #accept: (t: Transport) => void;
  #http: HttpServer | null = null;
  #pages: PageSockets | null = null;
  /** Handshakes in progress (close awaits them). */
  readonly #accepting = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;

  private constructor(readonly options: SchedulerOptions) {
    const log = this.#log = options.log ?? ((l) => console.error(l));
    const listener: ListenerIdentity = {
      role: "scheduler",
      token: options.authToken,
      schedulerAddress: () => this.address,
    };
    const accept = (t: Transport) => {
      const p = handshake(t, listener, this.actor.post).catch((e) => {
        log(`[scheduler] error accepting ${t.peer}: ${(e as Error)?.stack ?? e}`);
        t.close();
      });
      this.#accepting.add(p);
      p.finally(() => this.#accepting.delete(p));
    };
    this.#accept = accept;
    const tls = options.tls && checkListenerTls(options.tls);
    const tcp = listenTcp(options.host ?? "127.0.0.1", options.port ?? 0, accept, {
      unref: options.keepAlive === false,
      tls,
      describePort: () =>
        `this is a dtask scheduler's ${
          tls ? "TLS" : "TCP"
        } port (${this.address}), for clients and workers, not ` +
        `an HTTP server; ` +
        (this.dashboardLink === null
          ? "this scheduler serves no dashboard"
          : `the dashboard is at ${this.dashboardLink}`),
    });
    const inproc = listenInproc(accept, options.inprocName);
    this.#listeners = [tcp, inproc];
    this.address = advertisedAddress(tcp.address, options.contactAddress);
    this.inprocAddress = inproc.address;
    this.actor = new SchedulerActor({
      options,
      address: this.address,
      dashboardLink: () => this.dashboardLink,
      log,
      exitStatusOf: (a) => this.exitStatusOf?.(a),
      failed: (error) => {
        const fail = this.onFailure;
        this.onFailure = null;
        fail?.(error);
      },
    });
  }

  /** Starts listening (and serving the dashboard when asked). */
  static async start(options: SchedulerOptions = {}): Promise<Scheduler> {
    const prefix = normalizeDashboardPrefix(options.dashboardPrefix);
    const s = new Scheduler(options);
    if (options.wsPort != null) {
      try {
        await s.#listenWs(options.wsPort);
      } catch (e) {
        await s.close();
        throw e;
      }
    }
    if (options.dashboardAddress != null) {
      try {
        s.#http = await serveDashboard({
          address: options.dashboardAddress,
          defaultHost: options.host ?? "127.0.0.1",
          prefix,
          handler: dashboardRoutes(prefix, s.#dashboardHost(), {
            token: options.authToken,
            pages: options.dashboardToken === true,
          }),
          log: s.#log,
          // on every interface: shown on the host the scheduler's address names
          publicHost: () =>
            options.contactAddress === undefined
              ? reachableHost()
              : parseContactAddress(options.contactAddress).host,
        });
        s.dashboardLink = s.#http.link;
        if (options.keepAlive === false) s.#http.unref();
      } catch (e) {
        await s.close();
        throw e;
      }
    }
    return s;
  }

  /** What the dashboard's routes read (read-only), and its page sockets. */
  #dashboardHost(): DashboardHost {
    const actor = this.actor, reads = actor.dashboard;
    const pages = this.#pages = new PageSockets(actor.feed);
    return {
      view: () => this.view(),
      identity: () => reads.identity,
      workers: () => workerRows(reads),
      exceptions: () => actor.calls.erredTasks.toArray(),
      task: (key: string) => taskInfo(reads, key),
      workerLogs: (address: string) => {
        const conn = actor.workers.connection(address);
        return conn ? workerLogLines(address, conn) : Promise.resolve(undefined);
      },
      system: () => actor.feed.system.list(),
      socket: (req: Request) => pages.accept(req),
    };
  }

  /** Opens the WebSocket listener: the same handshake and protocol as the TCP one (TLS too). */
  async #listenWs(port: number): Promise<void> {
    const options = this.options;
    const tls = options.tls && checkListenerTls(options.tls);
    const ws = this.#ws = await listenWs(options.host ?? "127.0.0.1", port, this.#accept, {
      unref: options.keepAlive === false,
      ...(tls && { tls: { cert: tls.cert, key: tls.key } }),
      describePort: () =>
        `this is a dtask scheduler's WebSocket port (${this.wsAddress}), for clients; ` +
        (this.dashboardLink === null
          ? "this scheduler serves no dashboard"
          : `the dashboard is at ${this.dashboardLink}`),
    });
    this.#listeners.push(ws);
    const listen = parseAddress(ws.address);
    const host = options.contactAddress !== undefined
      ? parseContactAddress(options.contactAddress).host
      : isWildcardHost(listen.host)
      ? reachableHost()
      : listen.host;
    this.wsAddress = `${listen.scheme}://${host.includes(":") ? `[${host}]` : host}:${listen.port}`;
  }

  /** A read-only snapshot for metrics and the dashboard. */
  view(): ClusterView {
    const actor = this.actor;
    return clusterView(actor.state, this.address, this.#startedAt, actor.locks.semaphoreMetrics());
  }

  /** Modules every worker imports (the `preload` option and `client.preload` calls). */
  get preloads(): readonly string[] {
    return this.actor.preloads;
  }

  /** Adds modules for every worker to import, now and when it joins. */
  preload(urls: string[]): void {
    this.actor.receive({ kind: "preload", urls });
  }

  /** Restarts every worker through its nanny and cancels every task (client.restart()). */
  restart(timeout = WORKERS_WAIT_TIMEOUT): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.actor.receive({ kind: "restart", timeout, done });
    return done.promise;
  }

  /** Retires workers gracefully, their data moved to peers first; resolves with their addresses. */
  retireWorkers(names: string[], timeout = WORKERS_WAIT_TIMEOUT): Promise<string[]> {
    const done = Promise.withResolvers<Record<string, WorkerInfo>>();
    this.actor.receive({ kind: "retire-workers", names, timeout, done });
    return done.promise.then((retired) => Object.keys(retired));
  }

  /** Resolves once at least `n` workers are connected; rejects with TimeoutError after `timeout`. */
  waitForWorkers(n: number, timeout = WORKERS_WAIT_TIMEOUT): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.actor.receive({ kind: "wait-for-workers", n, timeout, done });
    return done.promise;
  }

  /** Number of connected workers. */
  get nWorkers(): number {
    return this.actor.state.workers.size;
  }

  /**
   * Closes workers' connections (telling them to stop), clients, listeners, HTTP. With
   * `replaced` (a supervisor is starting a new scheduler on the same addresses) the workers are
   * told to restart and the clients are not told anything, so both come back to the new one.
   */
  close(options: { replaced?: boolean } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const actor = this.actor;
      actor.receive({ kind: "close" });
      for (const l of this.#listeners) await l.close();
      actor.admission.closePending();
      await Promise.all(this.#accepting);
      const workers = [...actor.workers.conns.values()];
      const clients = [...actor.clients.conns.values()];
      for (const c of workers) {
        c.send({
          op: "close-worker",
          reason: "scheduler closing",
          ...(options.replaced && { restart: true }),
        });
      }
      if (!options.replaced) {
        for (const c of clients) {
          c.send({ op: "scheduler-closing", reason: "the scheduler closed" });
        }
      }
      const all = [...workers, ...clients];
      await Promise.all(all.map((c) => c.drainAndClose("scheduler closing")));
      await Promise.all(all.map((c) => c.finished()));
      await actor.workers.settled();
      await this.#pages?.closeAll();
      await actor.values.close();
      await this.#ws?.shutdown();
      await this.#http?.close();
    })();
    return this.#closing;
  }
}
