/** The worker: connects to the scheduler, serves peers, and runs the state machine. */
import { type ListenerIdentity, receiveHello } from "../comm/handshake.ts";
import type { Dialer } from "../client/transport.ts";
import { PeerPool } from "../comm/peer_pool.ts";
import { listenTcp } from "../comm/tcp_listener.ts";
import { listenInproc } from "../comm/inproc.ts";
import { dial as defaultDial } from "../comm/dial.ts";
import { checkListenerTls, dialTls, type TlsOptions } from "../comm/tls_options.ts";
import type { Listener, Transport } from "../comm/transport.ts";
import { PROTOCOL_VERSION, type WorkerInfo } from "../comm/protocol.ts";
import { Executor } from "./executor.ts";
import { advertisedAddress, parseContactAddress } from "../comm/contact_address.ts";
import {
  ACCEPT_HELLO_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HEARTBEAT_INTERVAL,
} from "../comm/timeouts.ts";
import { register } from "./register.ts";
import { WorkerActor } from "./actor.ts";
import { CLOSE_BEGINS } from "./stimulus.ts";
import { type MemoryConfig, type MemoryOptions, resolveMemoryConfig } from "./memory_config.ts";
import { SpillStore } from "./store.ts";
import { LogLines } from "./log_lines.ts";
import { BufferPool, installBufferPool, poolCapFor } from "../comm/buffer_pool.ts";

/** The process's memory (RSS) and when it was read: workers in one process share a reading. */
let rssReading = { at: -Infinity, rss: 0 };

/** The process's RSS, read at most every 20 ms (200 workers in one process tick 2,000 times/s). */
function processRss(): number {
  const now = performance.now();
  if (now - rssReading.at > 20) rssReading = { at: now, rss: Deno.memoryUsage().rss };
  return rssReading.rss;
}

/** Workers open in this process: each one's share of the process's memory is 1 / this. */
let liveWorkers = 0;

/**
 * The buffer pool of this process's workers (comm/buffer_pool.ts): made and installed by the
 * first worker to start, capped by its memory limit; cleared and uninstalled with the last.
 */
let processPool: BufferPool | null = null;

/** This process's buffer pool, made and installed if there is none. */
function joinProcessPool(memoryLimit: number): BufferPool {
  if (processPool === null) {
    processPool = new BufferPool(poolCapFor(memoryLimit));
    installBufferPool(processPool);
  }
  return processPool;
}

/** The last worker of the process closed: the pool's free regions go. */
function leaveProcessPool(): void {
  if (liveWorkers > 0 || processPool === null) return;
  processPool.clear();
  installBufferPool(null);
  processPool = null;
}

/** How a worker starts (the memory thresholds are MemoryOptions, fractions of `memoryLimit`). */
export interface WorkerOptions extends MemoryOptions {
  /** The scheduler's address. */
  scheduler: string;
  /** Thread slots (Web Worker threads). */
  nthreads: number;
  /** A name; defaults to the address. */
  name?: string;
  /** Bytes of memory it may use (0 = no limit, which turns every memory threshold off). */
  memoryLimit?: number;
  /** Host to listen on for peers (default 127.0.0.1; 0.0.0.0: every interface). */
  host?: string;
  /**
   * The address peers are told to dial (Dask's contact address): `tcp://host[:port]` or
   * `host[:port]`, the listener's port when it names none. Default: the listen address, or for
   * 0.0.0.0 this machine's first non-loopback IPv4 address.
   */
  contactAddress?: string;
  /** Listen on an in-process address instead of TCP (workers inside the cluster's process). */
  inproc?: boolean;
  /** The token the scheduler requires, if any; peers must present it too. */
  authToken?: string;
  /**
   * TLS: its peer port speaks TLS alone with `cert` and `key` (PEM), and its address is tls://;
   * it dials the scheduler and its peers trusting `caCerts`. Not for `inproc` workers.
   */
  tls?: TlsOptions;
  /** Quiet the worker's log and what its tasks print. */
  silenceLogs?: boolean;
  /** What it offers to tasks that ask for resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /** How long to keep retrying the first connection to the scheduler (ms, default 30 s). */
  connectTimeout?: number;
  /** How long one connection attempt and its handshake may take (ms, default 30 s). */
  handshakeTimeout?: number;
  /**
   * Give up when the scheduler cannot be reached for this long (ms; Dask's death timeout):
   * the first connection is retried until then instead of `connectTimeout`, and `start`
   * rejects with a TimeoutError saying the scheduler was gone. Default: no limit.
   */
  deathTimeout?: number;
  /** Aborting it stops a start in progress: `start` rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Heartbeat period (ms). */
  heartbeatInterval?: number;
  /** How it opens connections to the scheduler and to peers (default: tcp:// and inproc://). */
  dial?: Dialer;
  /** Where its log lines go (default: stderr). */
  log?: (line: string) => void;
  /** Modules every thread imports (URLs or import-map names); the scheduler may add more. */
  preload?: string[];
  /** Started by a nanny that reports how its process ends. */
  nanny?: boolean;
}

/**
 * A running worker: it registers with the scheduler, runs tasks on its thread slots (Web Worker
 * threads), and serves its data to peers. `LocalCluster` and the worker command line start
 * them; `Worker.start` starts one on its own.
 */
export class Worker {
  /** The address peers and the scheduler know it by. */
  readonly address: string;
  /** Its name (its address unless it was given one). */
  readonly name: string;
  /** Resolves with the reason once the worker has closed. */
  readonly closed: Promise<string>;
  /**
   * Its memory limit and thresholds in bytes, checked and resolved from its options; the memory
   * manager (spilling, pausing) is to use them. Nothing enforces them yet.
   */
  readonly memory: MemoryConfig;
  #listener: Listener;
  #peers: PeerPool;
  /** Every input of the running worker passes through its `receive`. */
  #actor: WorkerActor;
  /** Peer transports still in their handshake, and the accepts in progress. */
  #peerPending = new Set<Transport>();
  #peerAccepting = new Set<Promise<void>>();
  #closing: Promise<void> | null = null;
  #resolveClosed!: (reason: string) => void;
  #log: (line: string) => void;
  /** Its last log lines (`client.getWorkerLogs`, the dashboard's worker page). */
  readonly #lines = new LogLines();
  #closeStarted = Promise.withResolvers<void>();
  /** Its spill directory's files. */
  readonly #store: SpillStore;
  /** Its peer port serves peers (workers and clients fetching or scattering values) alone. */
  readonly #identity: ListenerIdentity;

  private constructor(readonly options: WorkerOptions) {
    // first: options that make no sense throw before anything is opened
    this.memory = resolveMemoryConfig(options.memoryLimit, options);
    const emit = options.log ?? (options.silenceLogs ? () => {} : (l) => console.error(l));
    this.#log = (line) => {
      this.#lines.add(line);
      emit(line);
    };
    const tls = options.tls && !options.inproc ? checkListenerTls(options.tls) : undefined;
    const dial = this.#dial;
    const onAccept = (t: Transport) => {
      const p = this.#acceptPeer(t).catch((e) => {
        this.#log(`[worker] error accepting ${t.peer}: ${(e as Error)?.stack ?? e}`);
        t.close();
      });
      this.#peerAccepting.add(p);
      p.finally(() => this.#peerAccepting.delete(p));
    };
    this.#identity = {
      role: "worker",
      token: options.authToken,
      schedulerAddress: () => options.scheduler,
    };
    if (options.contactAddress !== undefined) parseContactAddress(options.contactAddress);
    this.#listener = options.inproc
      ? listenInproc(onAccept)
      : listenTcp(options.host ?? "127.0.0.1", 0, onAccept, {
        tls,
        // an unauthenticated request learns no more than what this port is
        describePort: () =>
          `this is a dtask worker's ${
            tls ? "TLS" : "TCP"
          } port (${this.address}), for its peers, not an HTTP ` +
          `server` +
          (options.authToken === undefined ? `; its scheduler is at ${options.scheduler}` : ""),
      });
    this.address = options.inproc
      ? this.#listener.address
      : advertisedAddress(this.#listener.address, options.contactAddress);
    this.name = options.name ?? this.address;
    this.#peers = new PeerPool(dial, this.name, options.authToken);
    this.#store = new SpillStore({ localDirectory: options.localDirectory });
    const pool = joinProcessPool(this.memory.limit);
    // a worker that crashed left its directory behind: the next to start removes it
    if (this.memory.limit > 0) this.#store.cleanStaleInBackground();
    this.#actor = new WorkerActor({
      address: this.address,
      heartbeatInterval: options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
      memory: this.memory,
      store: this.#store,
      // workers sharing a process (--no-nanny, processes: false) share its memory too
      rss: () => processRss() / Math.max(1, liveWorkers),
      pooledBytes: () => pool.freeBytes / Math.max(1, liveWorkers),
      trimPool: () => pool.trim(),
      peers: this.#peers,
      log: this.#log,
      logLines: () => this.#lines.lines(),
      close: (reason) => void this.close(reason),
    });
    this.closed = new Promise((r) => (this.#resolveClosed = r));
    liveWorkers++;
    this.closed.then(() => {
      liveWorkers--;
      leaveProcessPool();
    });
  }

  /** Dials the scheduler and peers, trusting the CA certificates of its `tls` option. */
  #dial = (address: string): Promise<Transport> => {
    const dial = this.options.dial ?? defaultDial;
    const tls = dialTls(this.options.tls);
    return tls ? dial(address, { tls }) : dial(address);
  };

  /** The exit code its process should end with: see worker/exit_codes.ts. */
  get exitCode(): number {
    return this.#actor.exitCode;
  }

  /** Resolves as soon as the worker starts closing (a watchdog bounds the process's exit). */
  get closeStarted(): Promise<void> {
    return this.#closeStarted.promise;
  }

  /** Starts a worker and registers it with the scheduler. */
  static async start(options: WorkerOptions): Promise<Worker> {
    const w = new Worker(options);
    try {
      await w.#connect();
    } catch (e) {
      await w.close(`could not start: ${(e as Error).message}`);
      throw e;
    }
    return w;
  }

  /** Registers; the actor starts serving the scheduler once told so (`registered`). */
  async #connect(): Promise<void> {
    const o = this.options;
    const info: WorkerInfo = {
      address: this.address,
      name: this.name,
      nthreads: o.nthreads,
      memoryLimit: this.memory.limit,
      pid: typeof Deno !== "undefined" ? Deno.pid : 0,
      resources: o.resources,
      ...(o.nanny && { nanny: true }),
    };
    const { transport, welcome } = await register({
      scheduler: o.scheduler,
      dial: this.#dial,
      hello: { role: "worker", name: this.name, token: o.authToken, worker: info },
      retryFor: o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
      deathTimeout: o.deathTimeout,
      handshakeTimeout: o.handshakeTimeout ?? DEFAULT_CONNECT_TIMEOUT,
      signal: o.signal,
      log: o.silenceLogs ? undefined : this.#log,
    });
    const post = this.#actor.post;
    const executor = new Executor({
      nthreads: o.nthreads,
      silenceLogs: o.silenceLogs,
      // one task per thread until durations are measured: a task that arrives while the thread
      // is busy stays in the ready heap, where a later task of higher priority can overtake it
      pipelineDepth: 1,
      // in-task: getWorker()/getClient(), secede/rejoin, preload
      worker: {
        address: this.address,
        name: this.name,
        nthreads: o.nthreads,
        memoryLimit: this.memory.limit,
        memory: this.memory,
        resources: o.resources ?? {},
        schedulerAddress: welcome.address,
      },
      authToken: o.authToken,
      tlsCaCerts: dialTls(o.tls)?.caCerts,
      preload: o.preload,
      // results of the threads enter the actor as stimuli: one per batch of outcomes
      onSecede: (key) => post({ kind: "seceded", key }),
      onRejoin: (key) => post({ kind: "rejoined", key }),
      onLogEvent: (topics, msg) => post({ kind: "log-event", topics, msg }),
      onOutcomes: (batch) => post({ kind: "outcomes", batch }),
      // what actor calls return changes nothing here: it goes back to the scheduler at once
      onActorResults: (results) => this.#actor.scheduler?.send({ op: "actor-results", results }),
    });
    // as Dask's first lines; kept for getWorkerLogs, not printed (the CLI prints its own)
    this.#lines.add(`[worker] Start worker at: ${this.address} (name ${this.name})`);
    this.#lines.add(
      `[worker] Threads: ${o.nthreads}, memory limit: ${this.memory.limit || "none"}`,
    );
    this.#lines.add(`[worker] Registered to: ${welcome.address}`);
    post({ kind: "registered", transport, executor });
  }

  async #acceptPeer(t: Transport): Promise<void> {
    if (this.#closing) return t.close();
    this.#peerPending.add(t);
    let hello;
    try {
      hello = await receiveHello(
        t,
        this.#identity,
        () => ({ op: "welcome", version: PROTOCOL_VERSION, role: "worker", address: this.address }),
        ACCEPT_HELLO_TIMEOUT,
      );
    } finally {
      this.#peerPending.delete(t);
    }
    if (!hello) return;
    if (this.#closing) return t.close();
    this.#actor.post({ kind: "peer-admitted", transport: t });
  }

  /** Stops: threads, connections, listener. Idempotent. */
  close(reason = "closed"): Promise<void> {
    this.#closing ??= (async () => {
      this.#closeStarted.resolve();
      const actor = this.#actor;
      actor.post(CLOSE_BEGINS);
      const scheduler = actor.scheduler;
      if (scheduler && scheduler.closeReason === null) {
        await scheduler.drainAndClose(reason);
      }
      await this.#listener.close();
      for (const t of this.#peerPending) t.close();
      await Promise.all(this.#peerAccepting);
      const peers = [...actor.peerConnections];
      for (const c of peers) c.close("worker closing");
      await Promise.all(peers.map((c) => c.finished()));
      await this.#peers.close();
      await actor.executor?.close();
      await this.#store.close();
      await actor.scheduler?.finished();
      this.#resolveClosed(reason);
    })();
    return this.#closing;
  }
}
