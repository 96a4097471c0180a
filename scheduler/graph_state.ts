/**
 * The scheduler's records, as plain data: tasks, workers and clients, how many tasks are in each
 * state and under each prefix, the ready queues, functions, measured durations and sizes, the
 * knobs and the outbox. The transition engine (transitions.ts) and the extensions read and write
 * them; the helpers here are the few every one of them needs. No I/O, no timers.
 */
import type {
  ClientToScheduler,
  FunctionDef,
  SchedulerToClient,
  SchedulerToWorker,
  TaskFinished,
  WorkerToScheduler,
} from "../comm/protocol.ts";
import type { ErrorEnvelope } from "../core/errors.ts";
import { IndexedHeap } from "../core/heap.ts";
import {
  runsBefore,
  TASK_STATES,
  type TaskState,
  type TaskStateName,
  type WorkerState,
} from "./task_state.ts";
import type { Resources } from "./placement.ts";
import { NO_RECORDING, type TransitionRecorder } from "../core/transition_recorder.ts";
import { PrefixTallies } from "./prefix_tallies.ts";
import { type ActorEvent, ActorRecords } from "./actor_records.ts";

/** Where the state machine's messages go; the scheduler actor sends them. */
export interface SchedulerOutbox {
  /** A message for the worker at `address`. */
  worker(address: string, msg: SchedulerToWorker): void;
  /** A message for the client `id`. */
  client(id: string, msg: SchedulerToClient): void;
  /** Something worth logging (topic, text). */
  event(topic: string, text: string): void;
  /** Something the calls relayed to an actor must hear of (actor_records.ts). */
  actor?(e: ActorEvent): void;
}

/** Scheduling knobs. */
export interface SchedulerConfig {
  /** Root tasks a worker may hold per thread before the rest queue (Dask: 1.1; Infinity: off). */
  workerSaturation: number;
  /** Worker deaths a task survives before it errs with KilledWorker. */
  allowedFailures: number;
  /** Duration guessed for a task prefix never seen (seconds). */
  unknownDuration: number;
  /** Idle workers take not-yet-started tasks from busy ones (Dask's work-stealing). */
  workStealing: boolean;
  /** How often the scheduler actor calls `balance()` (ms; Dask's work-stealing-interval). */
  workStealingInterval: number;
  /** Checks every invariant after every stimulus (Dask's validate; slow: for tests). */
  validate: boolean;
}

/** Dask's defaults. */
export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  workerSaturation: 1.1,
  allowedFailures: 3,
  unknownDuration: 0.5,
  workStealing: true,
  workStealingInterval: 100,
  validate: false,
};

/** The pseudo-client that wants fire-and-forget keys until they finish or err. */
export const FIRE_AND_FORGET = "fire-and-forget";

/** A steal request sent and not yet answered (work stealing, stealing.ts). */
export interface Steal {
  victim: WorkerState;
  thief: WorkerState;
  /** The task's expected duration (s) when asked. */
  seconds: number;
}

/** A message op the scheduler receives, from a client or from a worker. */
export type SchedulerOp = ClientToScheduler["op"] | WorkerToScheduler["op"];

/** A scheduler extension: it declares the message ops it handles, for the actor to route by. */
export interface SchedulerExtension {
  readonly handles: readonly SchedulerOp[];
}

/** Everything the scheduler knows, and the work left for the transition engine's next run. */
export class GraphState {
  /** Every task not forgotten, by key. */
  readonly tasks: Map<string, TaskState> = new Map();
  /** Connected workers, by address. */
  readonly workers: Map<string, WorkerState> = new Map();
  /** Threads of all connected workers (Dask's total_nthreads). */
  totalThreads = 0;
  /** Tasks not forgotten per prefix (Dask's task group sizes), for the root-ish rule. */
  readonly prefixCounts: Map<string, number> = new Map();
  /**
   * Connected clients (and dropped ones within their grace). What each wants is only in the tasks'
   * `wants()`: a per-client set would cost every waiting task another entry, and the calls that
   * need a client's whole list (it leaves, restart) are rare enough to walk the tasks.
   */
  readonly clients: Set<string> = new Set();
  /** Clients that stopped reading: their results are not sent along, they fetch them later. */
  readonly stalledClients: Set<string> = new Set();
  /** Ready root tasks waiting for a worker slot. */
  readonly queued: IndexedHeap<TaskState> = new IndexedHeap<TaskState>(runsBefore);
  /** Ready tasks no worker can run. */
  readonly unrunnable: Set<TaskState> = new Set();
  /** Functions by hash. */
  readonly functions: Map<string, FunctionDef> = new Map();
  /** How many tasks are in each state. */
  readonly counts: Record<TaskStateName, number>;
  /** How many tasks of each prefix are in each state (the dashboard's progress). */
  readonly prefixStates: PrefixTallies = new PrefixTallies();
  /** Exponentially weighted mean duration (s) per task prefix. */
  readonly durations: Map<string, number> = new Map();
  /** A slowly decaying maximum of result sizes (bytes) per task prefix. */
  readonly sizes: Map<string, number> = new Map();
  /** Tasks that finished (went to memory), ever. */
  tasksCompleted = 0;
  /** What tasks need, for the few that need resources (ordinary tasks pay nothing). */
  readonly resourceNeeds: Map<TaskState, Resources> = new Map();
  /** Ready tasks (state queued) waiting for a worker's resources to free up. */
  readonly resourceQueued: IndexedHeap<TaskState> = new IndexedHeap<TaskState>(runsBefore);
  /** Steal requests awaiting the victim's answer, by task (work stealing). */
  readonly stealsInFlight: Map<TaskState, Steal> = new Map();
  /** The actor tasks (ordinary tasks pay one size check per transition). */
  readonly actors: ActorRecords;
  // ---- work for the engine's next run
  /** Tasks whose inputs are all in memory, to be placed once the transitions settle. */
  ready: TaskState[] = [];
  /** Workers that lost a processing task (or joined) since the queue was last looked at. */
  readonly slotsOpened: Set<WorkerState> = new Set();
  /** Workers whose resources freed up (or that joined) since the resource queue was looked at. */
  readonly resourcesFreed: Set<WorkerState> = new Set();

  constructor(
    readonly out: SchedulerOutbox,
    readonly config: SchedulerConfig,
    /** Where each transition and worker event is recorded (the stimulus log). */
    readonly recorder: TransitionRecorder = NO_RECORDING,
  ) {
    this.actors = new ActorRecords((e) => out.actor?.(e));
    this.counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<
      TaskStateName,
      number
    >;
  }

  /** Task `ts` moved from state `from` to state `to` (on `worker`): counted and recorded. */
  count(from: TaskStateName, to: TaskStateName, ts: TaskState, worker?: string): void {
    this.counts[from]--;
    this.counts[to]++;
    this.prefixStates.moved(ts.prefix, from, to, ts.nbytes >= 0);
    this.recorder.transition(ts.key, from, to, worker);
    if (this.actors.size !== 0) this.actors.moved(ts, from, to, worker);
  }

  /** Whether a client or a pending dependent still needs this task's value. */
  needed(ts: TaskState): boolean {
    return (ts.wantCount > 0) ||
      (ts.waiters !== null && ts.waiters.size > 0);
  }

  /** Registers a new task under its key, counted in its state and in its prefix. */
  addTask(ts: TaskState): void {
    this.tasks.set(ts.key, ts);
    this.counts[ts.state]++;
    this.prefixStates.added(ts.prefix, ts.state);
    this.prefixCounts.set(ts.prefix, (this.prefixCounts.get(ts.prefix) ?? 0) + 1);
  }

  /**
   * Unregisters a task being forgotten, still in its last state (its key, its counts, its
   * resource needs): forgotten tasks are not counted, they no longer exist.
   */
  removeTask(ts: TaskState): void {
    this.tasks.delete(ts.key);
    this.counts[ts.state]--;
    this.prefixStates.forgotten(ts.prefix, ts.state, ts.nbytes >= 0);
    const left = this.prefixCounts.get(ts.prefix)! - 1;
    if (left) this.prefixCounts.set(ts.prefix, left);
    else this.prefixCounts.delete(ts.prefix);
    if (this.resourceNeeds.size) this.resourceNeeds.delete(ts);
    if (this.actors.size !== 0) this.actors.removed(ts);
  }

  /** Takes a ready task out of the queues or the unrunnable set. */
  leaveReady(ts: TaskState): void {
    if (ts.state === "queued") {
      this.queued.remove(ts); // a no-op unless it is in that heap
      this.resourceQueued.remove(ts);
    } else if (ts.state === "no-worker") this.unrunnable.delete(ts);
  }

  /** Whether some worker takes tasks (workers are few: this scans them). */
  anyRunning(): boolean {
    for (const ws of this.workers.values()) if (ws.status === "running") return true;
    return false;
  }

  /** Tells `client` that `ts` is in memory, and where (with its value, when it came along). */
  tellInMemory(ts: TaskState, client: string, v?: TaskFinished["v"]): void {
    this.out.client(client, {
      op: "key-in-memory",
      k: ts.key,
      w: Array.from(ts.whoHas!, (w) => w.address),
      v,
    });
  }

  /** Tells `client` that `ts` erred, and which task to blame. */
  tellErred(ts: TaskState, client: string): void {
    this.out.client(client, {
      op: "key-erred",
      k: ts.key,
      e: ts.exception as ErrorEnvelope,
      blame: (ts.blame ?? ts).key,
    });
  }
}
