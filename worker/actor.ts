/**
 * The worker actor. Its one entry, `receive`, takes every input (worker/stimulus.ts), one at a
 * time, and hands it to the state machine (state.ts) or the shell around it: the scheduler's
 * connection, the peers' connections, the heartbeat, garbage collection, cluster-wide calls.
 * Async work (a fetch from a peer, a `client.run` call, replicas fetched, task outcomes, a
 * connection closing) never changes anything itself: it posts a stimulus.
 *
 * @module
 */
import { CpuMeter } from "../core/cpu_meter.ts";
import type { MemoryConfig } from "../core/memory_config.ts";
import { MEMORY_MONITOR_INTERVAL } from "../comm/timeouts.ts";
import type { SpillStore } from "./store.ts";
import { spillOutbox } from "./spill_io.ts";
import { Connection } from "../comm/connection.ts";
import { feedMessages, Mailbox } from "../actor/mailbox.ts";
import { STIMULUS_LOG_LENGTH, StimulusLog } from "../actor/stimulus_log.ts";
import {
  expectOps,
  type Message,
  SCHEDULER_TO_WORKER_OPS,
  type SchedulerToWorker,
  unreachable,
} from "../comm/protocol.ts";
import type { PeerPool } from "../comm/peer_pool.ts";
import { FunctionRunner } from "../comm/function_runner.ts";
import type { Executor } from "./executor.ts";
import { type WorkerOutbox, WorkerStateMachine } from "./state.ts";
import { PeerRequests } from "./peer_requests.ts";
import { IoStream } from "./io_stream.ts";
import {
  STREAM_DISK_READ,
  STREAM_DISK_WRITE,
  STREAM_TRANSFER,
} from "../comm/protocol/stream_kinds.ts";
import { now } from "./task_run.ts";
import { fetchReplicas } from "./cluster_calls.ts";
import { heartbeat } from "./heartbeat.ts";
import { EXIT_DONE, EXIT_LOST, EXIT_RESTART } from "./exit_codes.ts";
import { collectGarbage } from "./collect_garbage.ts";
import {
  COLLECT_TICK,
  HEARTBEAT_TICK,
  MEMORY_TICK,
  type Outcomes,
  type Registered,
  type SchedulerMessage,
  type WorkerStimulus,
} from "./stimulus.ts";

/** The least time between two collections after large values were dropped (ms). */
const COLLECT_INTERVAL_MS = 100;

/** What the actor needs from the Worker around it. */
export interface WorkerActorHooks {
  /** The address peers and the scheduler know the worker by. */
  readonly address: string;
  /** Heartbeat period (ms). */
  readonly heartbeatInterval: number;
  /** Its memory limit and thresholds (its MemoryBook spills and pauses by them). */
  readonly memory: MemoryConfig;
  /** Where its values spill to. */
  readonly store: SpillStore;
  /** The process's memory now (RSS, bytes). */
  rss(): number;
  /** Bytes this worker's share of the process's buffer pool keeps warm and unused. */
  pooledBytes?(): number;
  /** Drops the buffer pool's free regions (memory is short); returns the bytes dropped. */
  trimPool?(): number;
  /** Connections to peers, to fetch their data. */
  readonly peers: PeerPool;
  /** Entries its stimulus log keeps (default 1000, as the scheduler's). */
  readonly transitionLogLength?: number;
  /** Where log lines go. */
  log(line: string): void;
  /** Its last log lines, `[level, message]`, oldest first (the scheduler's `worker-logs`). */
  logLines?(): [string, string][];
  /** Closes the worker (the scheduler said so, or its connection is gone). */
  close(reason: string): void;
}

/** The worker's state machine and the shell around it, fed one stimulus at a time. */
export class WorkerActor {
  /** Posts a stimulus to `receive` (for the parts that run async work). */
  readonly post = (s: WorkerStimulus): void => this.receive(s);
  readonly #hooks: WorkerActorHooks;
  #closing = false;
  /** How its process should exit once closed (tells the nanny whether to restart it). */
  #exitCode = EXIT_DONE;
  #scheduler: Connection | undefined;
  #executor: Executor | undefined;
  #state: WorkerStateMachine | undefined;
  readonly #peers: PeerRequests;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #cpu = new CpuMeter();
  #memoryTimer: ReturnType<typeof setInterval> | undefined;
  #collectTimer: ReturnType<typeof setTimeout> | undefined;
  #collectedAt = -Infinity;
  /** Mean task duration (ms), to pipeline tiny tasks deeper into the threads. */
  #duration = 1;
  /** Fetches and spill I/O since the last heartbeat, for the scheduler's task stream. */
  readonly io: IoStream = new IoStream();
  /** Runs `client.run` functions in this process (cluster-wide calls). */
  readonly #runner = new FunctionRunner();
  /** Each stimulus's id and the task transitions it caused: the worker's story. */
  readonly stimuli: StimulusLog;
  readonly #mailbox: Mailbox<WorkerStimulus> = new Mailbox<WorkerStimulus>({
    handle: (s) => this.#handle(s),
    failed: (s, e) => {
      this.#hooks.log(`[worker] dropping a ${s.kind} stimulus: ${(e as Error)?.stack ?? e}`);
      if (s.kind === "peer-message") s.conn.close("protocol error");
      if (s.kind === "scheduler-message") this.#scheduler?.close("protocol error");
    },
  });

  constructor(hooks: WorkerActorHooks) {
    this.#hooks = hooks;
    this.stimuli = new StimulusLog(hooks.transitionLogLength ?? STIMULUS_LOG_LENGTH);
    this.#peers = new PeerRequests({
      address: hooks.address,
      log: hooks.log,
      post: this.post,
      state: () => this.#state,
      closing: () => this.#closing,
    });
  }

  /** The exit code its process should end with: see worker/exit_codes.ts. */
  get exitCode(): number {
    return this.#exitCode;
  }

  /** The address peers and the scheduler know the worker by. */
  get address(): string {
    return this.#hooks.address;
  }

  /** The scheduler's connection, once registered. */
  get scheduler(): Connection | undefined {
    return this.#scheduler;
  }

  /** The thread slots, once registered. */
  get executor(): Executor | undefined {
    return this.#executor;
  }

  /** The open connections of peers and clients. */
  get peerConnections(): ReadonlySet<Connection> {
    return this.#peers.conns;
  }

  /**
   * The actor's one entry: every input passes here, one at a time. A stimulus posted while
   * another is handled (by a callback that one ran) is handled right after it. A message that
   * breaks the protocol throws, and the connection it came on closes.
   */
  receive(s: WorkerStimulus): void {
    this.#mailbox.receive(s);
  }

  #handle(s: WorkerStimulus): void {
    if (s.kind === "scheduler-message") {
      const m = s.msg as { op: string; sid?: unknown };
      this.stimuli.begin(m.op, typeof m.sid === "string" ? m.sid : undefined);
    } else this.stimuli.begin(s.kind === "tick" ? s.timer : s.kind);
    switch (s.kind) {
      case "scheduler-message":
        return this.#onScheduler(s.msg!);
      case "peer-message":
        return this.#peers.message(s.msg!, s.conn);
      case "registered":
        return this.#registered(s);
      case "scheduler-closed":
        if (!this.#closing) this.#exitCode = EXIT_LOST;
        return this.#hooks.close(`scheduler connection closed: ${s.reason}`);
      case "peer-admitted":
        return this.#peers.admitted(s.transport);
      case "peer-closed":
        this.#peers.conns.delete(s.conn);
        return;
      case "tick":
        switch (s.timer) {
          case "heartbeat":
            return this.#sendHeartbeat();
          case "collect":
            return this.#collect();
          case "memory":
            return this.#memoryTick();
          default:
            return unreachable(s.timer);
        }
      case "data-fetched": {
        let nbytes = 0;
        for (const k in s.values) nbytes += s.values[k].nbytes;
        this.io.add(STREAM_TRANSFER, s.start, s.stop, nbytes, s.keys.length, s.worker);
        return this.#state!.gotData(s.worker, s.keys, s.values);
      }
      case "fetch-failed":
        return this.#state!.fetchFailed(s.worker, s.keys);
      case "run-done":
        this.#scheduler!.send({ op: "run-reply", id: s.id, ...s.result });
        return;
      case "replicas-fetched": {
        const keys = this.#closing ? [] : this.#state!.holdReplicas(s.values);
        this.#scheduler!.send({ op: "acquire-replicas-reply", id: s.id, keys });
        return;
      }
      case "outcomes":
        return this.#outcomes(s);
      case "seceded":
        return this.#state!.secede(s.key);
      case "rejoined":
        return this.#state!.rejoin(s.key);
      case "log-event":
        this.#scheduler?.send({ op: "log-event", topics: s.topics, msg: s.msg });
        return;
      case "memory-status":
        // before registration there is no state machine to pause
        if (!this.#closing) this.#state?.setPaused(s.paused);
        return;
      case "spilled":
        if (s.start !== undefined) this.io.add(STREAM_DISK_WRITE, s.start, s.stop!, s.diskBytes);
        return this.#state!.spillAnswer(s);
      case "unspilled":
        if (s.start !== undefined) {
          this.io.add(STREAM_DISK_READ, s.start, s.stop!, s.payload.nbytes);
        }
        return this.#state!.spillAnswer(s);
      case "spill-failed":
      case "unspill-failed":
        return this.#state!.spillAnswer(s);
      case "close":
        this.#closing = true;
        clearInterval(this.#heartbeat);
        clearInterval(this.#memoryTimer);
        clearTimeout(this.#collectTimer);
        return;
      default:
        unreachable(s);
    }
  }

  /** Registered: the state machine starts, the scheduler's messages flow in, heartbeats out. */
  #registered(s: Registered): void {
    const executor = this.#executor = s.executor;
    const conn = new Connection(s.transport, this.#hooks.log);
    this.#scheduler = conn;
    const peers = this.#hooks.peers, post = this.post, hooks = this.#hooks;
    const out: WorkerOutbox = {
      ...spillOutbox(hooks.store, post),
      served: (req, answer) => this.#peers.served(req, answer),
      log: hooks.log,
      collect: () => this.#scheduleCollect(),
      scheduler: (msg) => conn.send(msg),
      fetch: (worker, keys) => {
        const start = now();
        peers.getData(worker, keys).then(
          (values) => post({ kind: "data-fetched", worker, keys, values, start, stop: now() }),
          () => post({ kind: "fetch-failed", worker, keys }),
        );
      },
      execute: (run) => executor.run(run),
      rejoined: (key) => executor.rejoined(key),
      dropActor: (key) => executor.dropActors([key]),
    };
    this.#state = new WorkerStateMachine(
      out,
      executor.capacity,
      this.stimuli,
      hooks.memory,
      hooks.address,
    );
    const m: SchedulerMessage = { kind: "scheduler-message", msg: null };
    feedMessages(conn, m, this.post);
    conn.closed.then((reason) => post({ kind: "scheduler-closed", reason }));
    this.#heartbeat = setInterval(() => post(HEARTBEAT_TICK), this.#hooks.heartbeatInterval);
    if (hooks.memory.limit > 0) { // the memory monitor: spills, pauses, paces warnings
      this.#memoryTimer = setInterval(() => post(MEMORY_TICK), MEMORY_MONITOR_INTERVAL);
    }
  }

  /**
   * The memory monitor: past the spill threshold (or the pause one), the buffer pool's free
   * regions go first, before any value spills; then the state machine samples the memory.
   */
  #memoryTick(): void {
    if (this.#closing || this.#state === undefined) return;
    const rss = this.#hooks.rss(), m = this.#hooks.memory;
    const over = m.spill ?? m.pause;
    if (over !== null && rss > over && (this.#hooks.trimPool?.() ?? 0) > 0) {
      this.#scheduleCollect(); // the dropped regions' memory goes back once collected
    }
    this.#state.memorySample(rss, performance.now());
  }

  #sendHeartbeat(): void {
    const io = this.io.take(); // the I/O since the last heartbeat, in one message
    if (io !== null) this.#scheduler!.send(io);
    const pooled = this.#hooks.pooledBytes?.() ?? 0, cpu = this.#cpu.percent();
    const readings = { rss: this.#hooks.rss(), pooled, cpu };
    this.#scheduler!.send(heartbeat(this.#state!, this.#hooks.store, readings));
  }

  #outcomes(s: Outcomes): void {
    const state = this.#state!;
    for (const r of s.batch) {
      this.#duration = 0.9 * this.#duration + 0.1 * (r.stop - r.start);
      state.taskDone(r.key, r, r.start, r.stop);
    }
    this.#adaptDepth();
  }

  /**
   * Keeps each thread fed for about 5 ms of work: tiny tasks pipeline deep (the postMessage
   * round trip would dominate them), long ones one at a time.
   */
  #adaptDepth(): void {
    const executor = this.#executor!;
    const depth = Math.max(1, Math.min(64, Math.ceil(5 / Math.max(this.#duration, 0.001))));
    if (depth === executor.pipelineDepth) return;
    executor.pipelineDepth = depth;
    this.#state!.setSlots(executor.capacity);
  }

  #onScheduler(msg: Message): void {
    const m = expectOps<SchedulerToWorker>(msg, SCHEDULER_TO_WORKER_OPS, "the scheduler");
    const state = this.#state!, post = this.post;
    switch (m.op) {
      case "compute-task":
        return state.computeTask(m);
      case "free-keys":
        this.#peers.expected.forget(m.keys);
        return state.freeKeys(m.keys);
      case "close-worker":
        if (!this.#closing) this.#exitCode = m.restart ? EXIT_RESTART : EXIT_DONE;
        return this.#hooks.close(m.reason);
      // cluster-wide calls
      case "run": {
        const id = m.id;
        void this.#runner.run(m.fn, m.a).then((result) => post({ kind: "run-done", id, result }));
        return;
      }
      case "acquire-replicas": {
        const id = m.id;
        void fetchReplicas(this.#hooks.peers, m.who).then((values) =>
          post({ kind: "replicas-fetched", id, values })
        );
        return;
      }
      // work stealing
      case "steal-request":
        return state.stealRequest(m.k);
      // actors: calls go straight to the thread holding each instance
      case "actor-calls":
        return this.#executor!.callActors(m.calls);
      // in-task
      case "preload":
        return this.#executor!.preload(m.urls);
      case "expect-data":
        this.#peers.expected.expect(m.keys, performance.now());
        this.#scheduler!.send({ op: "ack", id: m.id });
        return;
      // story
      case "worker-story":
        this.#scheduler!.send({
          op: "worker-story-reply",
          id: m.id,
          events: this.stimuli.story(m.keys),
        });
        return;
      case "worker-logs":
        this.#scheduler!.send({
          op: "worker-logs-reply",
          id: m.id,
          lines: this.#hooks.logLines?.() ?? [],
        });
        return;
      default:
        unreachable(m);
    }
  }

  /**
   * After a large value was dropped, collects garbage here and in the threads (once per
   * macrotask, at most every COLLECT_INTERVAL_MS), so its memory goes back at once.
   */
  #scheduleCollect(): void {
    if (collectGarbage === null || this.#collectTimer !== undefined || this.#closing) return;
    const wait = Math.max(0, this.#collectedAt + COLLECT_INTERVAL_MS - performance.now());
    this.#collectTimer = setTimeout(() => this.post(COLLECT_TICK), wait);
  }

  #collect(): void {
    this.#collectTimer = undefined;
    if (this.#closing) return;
    collectGarbage!();
    this.#executor!.collect();
    this.#collectedAt = performance.now();
    this.#state?.collected();
  }
}
