/**
 * The scheduler actor. Its one entry, `receive`, takes every input (scheduler/stimulus.ts), one
 * at a time, and hands it to the part of the shell that owns it — admission, worker and client
 * sessions, the router, the timers, the waits on workers — around the pure state machine
 * (state.ts). Each stimulus gets an id in the stimulus log, which records the transitions and
 * worker events it caused and answers `story`. Async work (a closing connection, an exit
 * status, a grace period, a wait) never changes anything itself: it posts a stimulus.
 *
 * @module
 */
import { timerRelease } from "../comm/unref.ts";
import { workerStories } from "./worker_stories.ts";
import { namedConnections, workerLogs } from "./worker_logs.ts";
import { Connection } from "../comm/connection.ts";
import { Mailbox } from "../actor/mailbox.ts";
import { unreachable } from "../comm/protocol.ts";
import { type SchedulerOutbox, SchedulerState } from "./state.ts";
import { ClusterCalls } from "./cluster_calls.ts";
import { DEFAULT_WORKER_TTL, ttlCheckInterval } from "./liveness.ts";
import { type LifecycleHost, restartWorkers, retireWorkers } from "./lifecycle.ts";
import { addReplicas, removeReplicas } from "./replicas.ts";
import { Admission } from "./admission.ts";
import { WorkerSessions } from "./worker_sessions.ts";
import { ClientSessions, DEFAULT_CLIENT_GRACE } from "./client_sessions.ts";
import { Router } from "./router.ts";
import { SchedulerTimers, unrunnableCheckInterval } from "./timers.ts";
import { UnrunnableWatch, warningLine } from "./unrunnable_watch.ts";
import { UNRUNNABLE_WARNING } from "../comm/timeouts.ts";
import { WorkerWaits } from "./worker_waits.ts";
import { Deadlines } from "./deadlines.ts";
import { ClusterListeners } from "./cluster_listeners.ts";
import { LockExtension } from "./lock_extension.ts";
import { SharedValues } from "./shared_values.ts";
import { planScatter } from "./scatter_wait.ts";
import { ValueProxy } from "./value_proxy.ts";
import { caCertsOf } from "../comm/tls_options.ts";
import { ActorRelay } from "./actor_relay.ts";
import { STIMULUS_LOG_LENGTH, StimulusLog } from "../actor/stimulus_log.ts";
import type {
  ClientMessage,
  HandshakeEnded,
  HelloReceived,
  Stimulus,
  WorkerMessage,
} from "./stimulus.ts";
import type { SchedulerOptions } from "./options.ts";
import { DashboardFeed } from "../dashboard/feed.ts";
import { FEED_INTERVAL } from "../dashboard/feed_protocol.ts";
import { SYSTEM_SAMPLE_INTERVAL } from "../dashboard/system_samples.ts";
import { type DashboardReads, feedSource, schedulerIdentity } from "./dashboard_source.ts";

/** The stimuli no peer sends directly: a throw while handling one is a bug of the scheduler. */
type OwnStimulus = Exclude<Stimulus, WorkerMessage | ClientMessage | HelloReceived>;

/** What the actor needs from the Scheduler around it. */
export interface ActorHooks {
  readonly options: SchedulerOptions;
  /** The scheduler's tcp:// address. */
  readonly address: string;
  /** The dashboard's URL, once it serves one. */
  dashboardLink(): string | null;
  /** Where warnings go. */
  log(line: string): void;
  /** How a worker's process ended, when a nanny in this process knows. */
  exitStatusOf(address: string): Promise<string> | undefined;
  /** The scheduler failed: its supervisor should replace it. */
  failed(error: Error): void;
}

/** The scheduler's state machine and the shell around it, fed one stimulus at a time. */
export class SchedulerActor {
  /** The state machine. */
  readonly state: SchedulerState;
  /** Cluster-wide client calls: run, replicate, datasets, events, task stream. */
  readonly calls: ClusterCalls;
  /** Stimulus ids, and the log of what each stimulus did. */
  readonly stimuli: StimulusLog;
  readonly admission: Admission;
  readonly workers: WorkerSessions;
  readonly clients: ClientSessions;
  /** Gather and scatter for clients that cannot reach the workers (over WebSocket). */
  readonly values: ValueProxy;
  /** Modules every worker imports. */
  readonly preloads: string[] = [];
  /** The live dashboard's pages and what they were last sent. */
  readonly feed: DashboardFeed;
  /** What the dashboard reads (read-only). */
  readonly dashboard: DashboardReads;
  /** Posts a stimulus to `receive` (for the parts that run async work). */
  readonly post = (s: Stimulus): void => this.receive(s);
  readonly #router: Router;
  readonly #waits: WorkerWaits;
  /** Deadlines of the extensions' waits (lock acquires, queue gets, event waits...). */
  readonly deadlines: Deadlines;
  /** Extensions told of clients and workers leaving (coordination primitives, actors). */
  readonly listeners: ClusterListeners = new ClusterListeners();
  /** Lock, MultiLock and Semaphore. */
  readonly locks: LockExtension;
  /** Actor method calls relayed between clients and the workers holding the actors. */
  readonly actors: ActorRelay;
  /** Queues, variables and events shared by every client and task. */
  readonly shared: SharedValues;
  readonly #timers: SchedulerTimers;
  readonly #lifecycle: LifecycleHost;
  readonly #workerTtl: number;
  readonly #unrunnable: UnrunnableWatch;
  readonly #hooks: ActorHooks;
  #stopping = false;
  readonly #mailbox: Mailbox<Stimulus> = new Mailbox<Stimulus>({
    handle: (s) => this.#handle(s),
    failed: (s, e) => {
      this.#hooks.log(`[scheduler] dropping a ${s.kind} stimulus: ${(e as Error)?.stack ?? e}`);
      if (s.kind === "client-message") s.conn.close("protocol error");
      if (s.kind === "worker-message") this.workers.connection(s.worker)?.close("protocol error");
    },
  });

  constructor(hooks: ActorHooks) {
    this.#hooks = hooks;
    this.stimuli = new StimulusLog(hooks.options.transitionLogLength ?? STIMULUS_LOG_LENGTH);
    const { options, address } = hooks;
    const post = this.post, guard = (what: string, f: () => void) => this.#guard(what, f);
    const isStopping = () => this.#stopping;
    const out: SchedulerOutbox = {
      worker: (a, msg) => {
        // what it sends a worker names the stimulus that sent it, for the worker's story
        if (msg.op === "compute-task" || msg.op === "free-keys" || msg.op === "steal-request") {
          msg.sid = this.stimuli.stimulusId;
        }
        this.workers.connection(a)?.send(msg);
      },
      client: (id, msg) => this.clients.send(id, msg),
      actor: (e) => this.actors.actorEvent(e),
      event: (topic, text) => {
        if (options.verbose) hooks.log(`[scheduler] ${topic}: ${text}`);
        this.calls.schedulerEvent(topic, text);
      },
    };
    const state = this.state = new SchedulerState(out, options.config, this.stimuli);
    const calls = this.calls = new ClusterCalls({
      state,
      worker: (a) => this.workers.connection(a),
      client: (id) => this.clients.connection(id),
      replicasAdded: (worker, keys) => post({ kind: "replicas-added", worker, keys }),
      replicasRemoved: (worker, keys) => post({ kind: "replicas-removed", worker, keys }),
    });
    // a LocalCluster's scheduler holds its program open only through what its clients wait for
    const release = timerRelease(options.keepAlive !== false);
    this.deadlines = new Deadlines(post, release);
    const waits = this.#waits = new WorkerWaits(this.deadlines);
    this.shared = new SharedValues({ state, deadlines: this.deadlines });
    this.listeners.add(this.shared.listener);
    const sessions = {
      state,
      calls,
      listeners: this.listeners,
      post,
      guard,
      preloads: this.preloads,
      grace: options.clientGrace ?? DEFAULT_CLIENT_GRACE,
      release,
      get closing() {
        return isStopping();
      },
      exitStatusOf: (a: string) => hooks.exitStatusOf(a),
      changed: () => waits.changed(),
      note: (line: string) => {
        if (options.verbose) hooks.log(`[scheduler] ${line}`);
      },
    };
    const workers = this.workers = new WorkerSessions(sessions);
    const clients = this.clients = new ClientSessions(sessions);
    this.locks = new LockExtension({
      deadlines: this.deadlines,
      clientsIn: (address) => clients.inWorker(address),
      now: () => performance.now(),
    });
    this.listeners.add(this.locks);
    this.actors = new ActorRelay({
      actorStatus: (key) => state.actorStatus(key),
      worker: (a) => workers.connection(a),
      client: (id, msg) => clients.send(id, msg),
    });
    this.listeners.add(this.actors);
    this.#lifecycle = {
      state,
      worker: (a) => workers.connection(a),
      expect: (a, why) => workers.expect(a, why),
      until: (pred, ms, what) => waits.until(pred, ms, what),
      replicasAdded: (worker, keys) => post({ kind: "replicas-added", worker, keys }),
    };
    this.admission = new Admission({
      state,
      address,
      dashboardLink: () => hooks.dashboardLink(),
      connected: (a) => workers.conns.has(a),
      dropped: (id) => clients.isDropped(id),
    });
    const scatterHost = { state, waits, worker: (a: string) => workers.connection(a) };
    const values = this.values = new ValueProxy({
      token: options.authToken,
      connected: (a) => workers.conns.has(a),
      keepAlive: options.keepAlive !== false,
      dialing: options.tls ? { tls: { caCerts: caCertsOf(options.tls) } } : {},
    });
    this.#router = new Router({
      state,
      calls,
      shared: this.shared,
      stimuli: this.stimuli,
      workers,
      clients,
      locks: this.locks,
      address,
      scatter: (client, m, conn) => planScatter(scatterHost, client, m, conn),
      gatherValues: (m, conn) => values.gather(conn, m),
      scatterValues: (m, conn) => values.scatter(conn, m),
      preload: (urls) => this.#preload(urls),
      restart: (timeout) => restartWorkers(this.#lifecycle, timeout),
      retire: (names, timeout) => retireWorkers(this.#lifecycle, names, timeout),
      waitForWorkers: (n, timeout) => this.#untilWorkers(n, timeout),
      workerStories: (keys) => workerStories(workers.conns.entries(), keys),
      workerLogs: (names) => workerLogs(namedConnections(state, workers.conns, names)),
      actors: this.actors,
    });
    this.preloads.push(...new Set(options.preload ?? []));
    const cfg = state.config;
    const ttl = this.#workerTtl = options.workerTtl ?? DEFAULT_WORKER_TTL;
    const warnAfter = options.unrunnableWarning ?? UNRUNNABLE_WARNING;
    this.#unrunnable = new UnrunnableWatch(warnAfter);
    const dashboard = options.dashboardAddress != null;
    const timers = this.#timers = new SchedulerTimers(post, {
      balance: cfg.workStealing ? cfg.workStealingInterval : undefined,
      workerTtl: Number.isFinite(ttl) ? ttlCheckInterval(ttl) : undefined,
      unrunnable: Number.isFinite(warnAfter) ? unrunnableCheckInterval(warnAfter) : undefined,
      feed: dashboard ? FEED_INTERVAL : undefined,
      system: dashboard ? SYSTEM_SAMPLE_INTERVAL : undefined,
    }, release);
    const identity = schedulerIdentity(address);
    this.dashboard = { state, calls, liveness: workers.liveness, identity };
    this.feed = new DashboardFeed(feedSource(this.dashboard), () => timers.feed(true));
  }

  /** Whether the scheduler is closing (the `close` stimulus was handled). */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * The actor's one entry: every input passes here, one at a time. A stimulus posted while
   * another is handled (by a callback that one ran) is handled right after it. A message that
   * breaks the protocol throws, and the connection it came on closes.
   */
  receive(s: Stimulus): void {
    this.#mailbox.receive(s);
  }

  #handle(s: Stimulus): void {
    switch (s.kind) {
      case "worker-message":
        return this.#router.worker(s.worker, s.msg!);
      case "client-message":
        return this.#router.client(s.client, s.msg!, s.conn);
      case "hello":
        this.stimuli.begin(s.kind);
        s.verdict = this.admission.admit(s.hello, s.transport);
        return;
    }
    this.stimuli.begin(s.kind === "tick" ? s.timer : s.kind);
    try {
      this.#handleOwn(s);
    } catch (e) {
      this.#failed(`handling ${s.kind}`, e);
    }
  }

  #handleOwn(s: OwnStimulus): void {
    switch (s.kind) {
      case "connection-opened":
        return this.admission.opened(s.transport);
      case "handshake-ended":
        return this.#admitted(s);
      case "worker-closed":
        return this.workers.closed(s);
      case "exit-status":
        return this.workers.exitStatus(s);
      case "client-closed":
        return this.clients.closed(s);
      case "client-stalled":
        return this.clients.stalled(s);
      case "grace-ended":
        return this.clients.graceEnded(s.client);
      case "tick":
        switch (s.timer) {
          case "balance":
            return this.state.balance();
          case "worker-ttl":
            return this.workers.checkTtl(this.#workerTtl);
          case "unrunnable":
            return this.#warnUnrunnable();
          case "dashboard":
            if (!this.feed.tick()) this.#timers.feed(false);
            return;
          case "system-sample":
            return this.feed.system.sample();
          default:
            return unreachable(s.timer);
        }
      case "deadline":
        return this.deadlines.passed(s);
      case "replicas-added":
        return addReplicas(this.state, s.worker, s.keys);
      case "replicas-removed":
        return removeReplicas(this.state, s.worker, s.keys);
      case "preload":
        return this.#preload(s.urls);
      case "restart":
        restartWorkers(this.#lifecycle, s.timeout).then(s.done.resolve, s.done.reject);
        return;
      case "retire-workers":
        retireWorkers(this.#lifecycle, s.names, s.timeout).then(s.done.resolve, s.done.reject);
        return;
      case "wait-for-workers":
        this.#untilWorkers(s.n, s.timeout).then(s.done.resolve, s.done.reject);
        return;
      case "close":
        this.#stopping = true;
        this.#timers.stop();
        this.workers.closing();
        this.clients.closing();
        this.#waits.close();
        this.deadlines.close();
        this.listeners.close();
        this.calls.close();
        this.feed.close();
        return;
      default:
        unreachable(s);
    }
  }

  /** Warns about the tasks that stayed unrunnable long enough (once each), in the log and events. */
  #warnUnrunnable(): void {
    const watch = this.#unrunnable;
    if (this.state.unrunnable.size === 0 && watch.size === 0) return;
    for (const w of watch.check(this.state, performance.now())) {
      const line = warningLine(w);
      this.#hooks.log(`[scheduler] ${line}`);
      this.calls.schedulerEvent("unrunnable", line);
    }
  }

  /** A handshake ended: an admitted peer becomes a worker or a client session. */
  #admitted(s: HandshakeEnded): void {
    const id = this.admission.ended(s.transport);
    const hello = s.hello;
    if (hello === null) return;
    if (this.#stopping) return s.transport.close();
    const conn = new Connection(s.transport, (line) => this.#hooks.log(line));
    try {
      if (hello.role === "worker") this.workers.add(hello.worker!, conn);
      else this.clients.add(id!, conn, hello.inWorker);
    } catch (e) {
      // a bug, not the peer's fault: drop this connection and keep serving everyone else
      this.#hooks.log(`[scheduler] dropping ${s.transport.peer}: ${(e as Error)?.stack ?? e}`);
      conn.close("internal error");
    }
  }

  /** Runs a state change no peer asked for; a throw is logged, never unhandled. */
  #guard(what: string, f: () => void): boolean {
    try {
      f();
      return true;
    } catch (e) {
      this.#failed(what, e);
      return false;
    }
  }

  /**
   * A transition no peer asked for failed: the state may be broken, so the scheduler fails as
   * a whole and its supervisor (LocalCluster) replaces it.
   */
  #failed(what: string, e: unknown): void {
    this.#hooks.log(`[scheduler] error ${what}: ${(e as Error)?.stack ?? e}`);
    if (!this.#stopping) this.#hooks.failed(e instanceof Error ? e : new Error(String(e)));
  }

  #preload(urls: string[]): void {
    const fresh = urls.filter((u) => !this.preloads.includes(u));
    if (fresh.length === 0) return;
    this.preloads.push(...fresh);
    for (const c of this.workers.conns.values()) c.send({ op: "preload", urls: fresh });
  }

  #untilWorkers(n: number, timeout: number): Promise<void> {
    return this.#waits.until(() => this.state.workers.size >= n, timeout, `${n} workers`);
  }
}
