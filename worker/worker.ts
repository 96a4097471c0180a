/** The worker actor: connects to the scheduler, serves peers, and runs the state machine. */
import { Connection } from "../comm/connection.ts";
import { AUTH_FAILED, receiveHello, tokenMatches } from "../comm/handshake.ts";
import type { Dialer } from "../client/transport.ts";
import { PeerPool } from "../comm/peer_pool.ts";
import { listenTcp } from "../comm/tcp_listener.ts";
import { listenInproc } from "../comm/inproc.ts";
import { dial as defaultDial } from "../comm/dial.ts";
import type { Listener, Transport } from "../comm/transport.ts";
import {
  expectOps,
  type GetData,
  type Message,
  PEER_REQUEST_OPS,
  PROTOCOL_VERSION,
  type PutData,
  SCHEDULER_TO_WORKER_OPS,
  type SchedulerToWorker,
  unreachable,
  type WorkerInfo,
} from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import { Executor } from "./executor.ts";
import { type WorkerOutbox, WorkerStateMachine } from "./state.ts";
import { fetchReplicas } from "./cluster_calls.ts";
import { FunctionRunner } from "../comm/function_runner.ts";
import { EXIT_DONE, EXIT_LOST, EXIT_RESTART } from "./exit_codes.ts";
import { collectGarbage } from "./collect_garbage.ts";
import { ExpectedData } from "./expected_data.ts";
import { advertisedAddress, parseContactAddress } from "../comm/contact_address.ts";
import {
  ACCEPT_HELLO_TIMEOUT,
  DEFAULT_CONNECT_TIMEOUT,
  DEFAULT_HEARTBEAT_INTERVAL,
} from "../comm/timeouts.ts";
import { register } from "./register.ts";

/** The least time between two collections after large values were dropped (ms). */
const COLLECT_INTERVAL_MS = 100;

/** How a worker starts. */
export interface WorkerOptions {
  /** The scheduler's address. */
  scheduler: string;
  /** Thread slots (Web Worker threads). */
  nthreads: number;
  /** A name; defaults to the address. */
  name?: string;
  /** Bytes of memory it may use (0 = no limit). */
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
  #listener: Listener;
  #scheduler!: Connection;
  #peers: PeerPool;
  #collectTimer: ReturnType<typeof setTimeout> | undefined;
  #collectedAt = -Infinity;
  #peerConns = new Set<Connection>();
  /** Peer transports still in their handshake, and the accepts in progress. */
  #peerPending = new Set<Transport>();
  #peerAccepting = new Set<Promise<void>>();
  #executor!: Executor;
  #state!: WorkerStateMachine;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | null = null;
  #resolveClosed!: (reason: string) => void;
  #log: (line: string) => void;
  /** Mean task duration (ms), to pipeline tiny tasks deeper into the threads. */
  #duration = 1;
  /** Runs `client.run` functions in this process (cluster-wide calls). */
  #runner = new FunctionRunner();
  /** How its process should exit once closed (tells the nanny whether to restart it). */
  #exitCode = EXIT_DONE;
  #closeStarted = Promise.withResolvers<void>();
  /** Keys the scheduler said a client will scatter here. */
  #expected = new ExpectedData();

  private constructor(readonly options: WorkerOptions) {
    this.#log = options.log ?? ((l) => console.error(l));
    const dial = options.dial ?? defaultDial;
    const onAccept = (t: Transport) => {
      const p = this.#acceptPeer(t).catch((e) => {
        this.#log(`[worker] error accepting ${t.peer}: ${(e as Error)?.stack ?? e}`);
        t.close();
      });
      this.#peerAccepting.add(p);
      p.finally(() => this.#peerAccepting.delete(p));
    };
    if (options.contactAddress !== undefined) parseContactAddress(options.contactAddress);
    this.#listener = options.inproc
      ? listenInproc(onAccept)
      : listenTcp(options.host ?? "127.0.0.1", 0, onAccept);
    this.address = options.inproc
      ? this.#listener.address
      : advertisedAddress(this.#listener.address, options.contactAddress);
    this.name = options.name ?? this.address;
    this.#peers = new PeerPool(dial, this.name, options.authToken);
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  /** The exit code its process should end with: see worker/exit_codes.ts. */
  get exitCode(): number {
    return this.#exitCode;
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

  async #connect(): Promise<void> {
    const o = this.options;
    const info: WorkerInfo = {
      address: this.address,
      name: this.name,
      nthreads: o.nthreads,
      memoryLimit: o.memoryLimit ?? 0,
      pid: typeof Deno !== "undefined" ? Deno.pid : 0,
      resources: o.resources,
      ...(o.nanny && { nanny: true }),
    };
    const { transport: t, welcome } = await register({
      scheduler: o.scheduler,
      dial: o.dial ?? defaultDial,
      hello: { role: "worker", name: this.name, token: o.authToken, worker: info },
      retryFor: o.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT,
      deathTimeout: o.deathTimeout,
      handshakeTimeout: o.handshakeTimeout ?? DEFAULT_CONNECT_TIMEOUT,
      signal: o.signal,
      log: o.silenceLogs ? undefined : this.#log,
    });
    this.#executor = new Executor({
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
        memoryLimit: o.memoryLimit ?? 0,
        resources: o.resources ?? {},
        schedulerAddress: welcome.address,
      },
      authToken: o.authToken,
      preload: o.preload,
      onSecede: (key) => this.#state.secede(key),
      onRejoin: (key) => this.#state.rejoin(key),
      onOutcomes: (batch) => {
        for (const r of batch) {
          this.#duration = 0.9 * this.#duration + 0.1 * (r.stop - r.start);
          this.#state.taskDone(r.key, r, r.start, r.stop);
        }
        this.#adaptDepth();
      },
    });
    const conn = new Connection(t, this.#log);
    this.#scheduler = conn;
    const out: WorkerOutbox = {
      scheduler: (msg) => conn.send(msg),
      fetch: (worker, keys) => {
        this.#peers.getData(worker, keys).then(
          (values) => this.#state.gotData(worker, keys, values),
          () => this.#state.fetchFailed(worker, keys),
        );
      },
      execute: (run) => this.#executor.run(run),
      rejoined: (key) => this.#executor.rejoined(key),
      dropped: () => this.#scheduleCollect(),
    };
    this.#state = new WorkerStateMachine(out, this.#executor.capacity);
    conn.start((msg) => this.#onScheduler(msg));
    conn.closed.then((reason) => {
      if (!this.#closing) this.#exitCode = EXIT_LOST;
      void this.close(`scheduler connection closed: ${reason}`);
    });
    this.#heartbeat = setInterval(() => {
      conn.send({
        op: "heartbeat",
        memory: this.#state.managedBytes,
        executing: this.#state.executing,
        ready: this.#state.readyCount,
        stored: this.#state.data.size,
      });
    }, o.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL);
  }

  /**
   * Keeps each thread fed for about 5 ms of work: tiny tasks pipeline deep (the postMessage
   * round trip would dominate them), long ones one at a time.
   */
  #adaptDepth(): void {
    const depth = Math.max(1, Math.min(64, Math.ceil(5 / Math.max(this.#duration, 0.001))));
    if (depth === this.#executor.pipelineDepth) return;
    this.#executor.pipelineDepth = depth;
    this.#state.setSlots(this.#executor.capacity);
  }

  #onScheduler(msg: Message): void {
    const m = expectOps<SchedulerToWorker>(msg, SCHEDULER_TO_WORKER_OPS, "the scheduler");
    switch (m.op) {
      case "compute-task":
        return this.#state.computeTask(m);
      case "free-keys":
        this.#expected.forget(m.keys);
        return this.#state.freeKeys(m.keys);
      case "close-worker":
        if (!this.#closing) this.#exitCode = m.restart ? EXIT_RESTART : EXIT_DONE;
        void this.close(m.reason);
        return;
      // cluster-wide calls
      case "run": {
        const id = m.id;
        void this.#runner.run(m.fn, m.a).then((r) =>
          this.#scheduler.send({ op: "run-reply", id, ...r })
        );
        return;
      }
      case "acquire-replicas": {
        const id = m.id;
        void fetchReplicas(this.#peers, m.who).then((values) => {
          const keys = this.#closing ? [] : this.#state.holdReplicas(values);
          this.#scheduler.send({ op: "acquire-replicas-reply", id, keys });
        });
        return;
      }
      // work stealing
      case "steal-request":
        return this.#state.stealRequest(m.k);
      // in-task
      case "preload":
        return this.#executor.preload(m.urls);
      case "expect-data":
        this.#expected.expect(m.keys, performance.now());
        this.#scheduler.send({ op: "ack", id: m.id });
        return;
      default:
        unreachable(m);
    }
  }

  async #acceptPeer(t: Transport): Promise<void> {
    if (this.#closing) return t.close();
    this.#peerPending.add(t);
    let hello;
    try {
      hello = await receiveHello(
        t,
        (h) =>
          !tokenMatches(h.token, this.options.authToken)
            ? AUTH_FAILED
            : h.role === "peer" || h.role === "client"
            ? { op: "welcome", version: PROTOCOL_VERSION, address: this.address }
            : `a worker accepts peers and clients, not ${h.role}s`,
        ACCEPT_HELLO_TIMEOUT,
      );
    } finally {
      this.#peerPending.delete(t);
    }
    if (!hello) return;
    if (this.#closing) return t.close();
    const conn = new Connection(t, this.#log);
    this.#peerConns.add(conn);
    conn.closed.then(() => this.#peerConns.delete(conn));
    conn.start((msg) => this.#onPeer(msg, conn));
  }

  #onPeer(msg: Message, conn: Connection): void {
    // get-data, and put-data from a client scattering, are what a peer may send
    const m = expectOps<GetData | PutData>(msg, PEER_REQUEST_OPS, "a peer");
    if (m.op === "put-data") {
      const unexpected = this.#expected.take(Object.keys(m.values), performance.now());
      if (!this.#state || this.#closing) {
        conn.send({ op: "ack", id: m.id, e: { name: "CommClosedError", message: "closing" } });
      } else if (unexpected !== null) {
        const message = `${this.address} refused put-data: the scheduler did not announce ` +
          `${JSON.stringify(unexpected.slice(0, 100))}; values reach a worker only through ` +
          `client.scatter`;
        conn.send({ op: "ack", id: m.id, e: { name: "ProtocolError", message } });
      } else {
        this.#state.holdReplicas(m.values);
        conn.send({ op: "ack", id: m.id });
      }
      return;
    }
    const values: Record<string, Payload> = {};
    for (const k of m.keys) {
      const v = this.#state?.data.get(k);
      if (v !== undefined) values[k] = v;
    }
    conn.send({ op: "data", id: m.id, values });
  }

  /**
   * After a large value was dropped, collects garbage here and in the threads (once per
   * macrotask, at most every COLLECT_INTERVAL_MS), so its memory goes back at once.
   */
  #scheduleCollect(): void {
    if (collectGarbage === null || this.#collectTimer !== undefined || this.#closing) return;
    const wait = Math.max(0, this.#collectedAt + COLLECT_INTERVAL_MS - performance.now());
    this.#collectTimer = setTimeout(() => {
      this.#collectTimer = undefined;
      if (this.#closing) return;
      collectGarbage!();
      this.#executor.collect();
      this.#collectedAt = performance.now();
    }, wait);
  }

  /** Stops: threads, connections, listener. Idempotent. */
  close(reason = "closed"): Promise<void> {
    this.#closing ??= (async () => {
      this.#closeStarted.resolve();
      clearInterval(this.#heartbeat);
      clearTimeout(this.#collectTimer);
      if (this.#scheduler && this.#scheduler.closeReason === null) {
        await this.#scheduler.drainAndClose(reason);
      }
      await this.#listener.close();
      for (const t of this.#peerPending) t.close();
      await Promise.all(this.#peerAccepting);
      const peers = [...this.#peerConns];
      for (const c of peers) c.close("worker closing");
      await Promise.all(peers.map((c) => c.finished()));
      await this.#peers.close();
      await this.#executor?.close();
      await this.#scheduler?.finished();
      this.#resolveClosed(reason);
    })();
    return this.#closing;
  }
}
