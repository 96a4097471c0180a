/**
 * The scheduler's decisions as a pure state machine: each stimulus (a message from a client or
 * worker, a worker joining or leaving) updates the records and emits messages through an outbox.
 * No I/O, no timers, no awaiting.
 *
 * `SchedulerState` composes it, as Dask composes its scheduler extensions: the records
 * (graph_state.ts); the transition engine (transitions.ts, with assignment.ts) and the policies
 * it consults (placement.ts, queuing.ts, resources.ts); and the extensions that take the
 * stimuli: graph submission, workers' reports, client operations, scattered data, work stealing
 * and membership. None is a subclass of another; each gets what it needs through a narrow type.
 */
import type {
  FunctionDef,
  TaskErred,
  TaskFinished,
  UpdateGraph,
  WorkerInfo,
} from "../comm/protocol.ts";
import {
  DEFAULT_SCHEDULER_CONFIG,
  GraphState,
  type SchedulerConfig,
  type SchedulerExtension,
  type SchedulerOutbox,
  type Steal,
} from "./graph_state.ts";
import type { TaskState, TaskStateName, WorkerState } from "./task_state.ts";
import type { IndexedHeap } from "../core/heap.ts";
import type { Resources } from "./placement.ts";
import { Assignment } from "./assignment.ts";
import { Queuing } from "./queuing.ts";
import { ResourceQueue } from "./resources.ts";
import { TransitionEngine } from "./transitions.ts";
import { GraphSubmission } from "./graph_submission.ts";
import { WorkerReports } from "./worker_reports.ts";
import { ClientOps } from "./client_ops.ts";
import { ScatteredData, type ScatterPlanResult } from "./scattered_data.ts";
import { WorkStealing } from "./stealing.ts";
import { Membership } from "./membership.ts";
import { ActorSupervision } from "./actor_supervision.ts";
import type { ActorRecords, ActorStatus } from "./actor_records.ts";
import { validateState } from "./validate_state.ts";
import type { PrefixTallies } from "./prefix_tallies.ts";
import type { TransitionRecorder } from "../core/transition_recorder.ts";

export { DEFAULT_SCHEDULER_CONFIG, type SchedulerConfig, type SchedulerOutbox };

/** The scheduler's whole state and the stimuli that change it. */
export class SchedulerState {
  /** Every task not forgotten, by key. */
  readonly tasks: Map<string, TaskState>;
  /** Connected workers, by address. */
  readonly workers: Map<string, WorkerState>;
  /** Connected clients (and dropped ones within their grace). */
  readonly clients: Set<string>;
  /** Clients that stopped reading. */
  readonly stalledClients: Set<string>;
  /** Ready root tasks waiting for a worker slot. */
  readonly queued: IndexedHeap<TaskState>;
  /** Ready tasks no worker can run. */
  readonly unrunnable: Set<TaskState>;
  /** Functions by hash. */
  readonly functions: Map<string, FunctionDef>;
  /** How many tasks are in each state. */
  readonly counts: Record<TaskStateName, number>;
  /** Tasks not forgotten per prefix. */
  readonly prefixCounts: ReadonlyMap<string, number>;
  /** Tasks per prefix and state (the dashboard's progress); read-only outside the records. */
  readonly prefixStates: PrefixTallies;
  /** Mean duration (s) per task prefix. */
  readonly durations: Map<string, number>;
  /** Result sizes (bytes) per task prefix. */
  readonly sizes: Map<string, number>;
  /** What the tasks that need resources need. */
  readonly resourceNeeds: Map<TaskState, Resources>;
  /** Ready tasks waiting for a worker's resources to free up. */
  readonly resourceQueued: IndexedHeap<TaskState>;
  /** Steal requests awaiting the victim's answer, by task. */
  readonly stealsInFlight: ReadonlyMap<TaskState, Steal>;
  /** The actor tasks: re-creations left, and the worker holding each instance. */
  readonly actors: ActorRecords;
  readonly config: SchedulerConfig;
  readonly out: SchedulerOutbox;
  /** Where transitions and worker events are recorded (the actor's stimulus log). */
  readonly recorder: TransitionRecorder;
  /** The extensions, each with the message ops it handles. */
  readonly extensions: readonly SchedulerExtension[];
  readonly #records: GraphState;
  readonly #submission: GraphSubmission;
  readonly #reports: WorkerReports;
  readonly #clientOps: ClientOps;
  readonly #scattered: ScatteredData;
  readonly #stealing: WorkStealing;
  readonly #membership: Membership;
  readonly #validate: boolean;

  constructor(
    out: SchedulerOutbox,
    config: Partial<SchedulerConfig> = {},
    recorder?: TransitionRecorder,
  ) {
    const g = this.#records = new GraphState(
      out,
      { ...DEFAULT_SCHEDULER_CONFIG, ...config },
      recorder,
    );
    this.recorder = g.recorder;
    this.tasks = g.tasks;
    this.workers = g.workers;
    this.clients = g.clients;
    this.stalledClients = g.stalledClients;
    this.queued = g.queued;
    this.unrunnable = g.unrunnable;
    this.functions = g.functions;
    this.counts = g.counts;
    this.prefixCounts = g.prefixCounts;
    this.prefixStates = g.prefixStates;
    this.durations = g.durations;
    this.sizes = g.sizes;
    this.resourceNeeds = g.resourceNeeds;
    this.resourceQueued = g.resourceQueued;
    this.stealsInFlight = g.stealsInFlight;
    this.actors = g.actors;
    this.config = g.config;
    this.out = out;
    this.#validate = g.config.validate;
    const assignment = new Assignment(g);
    const resources = new ResourceQueue(g, assignment);
    const engine = new TransitionEngine(g, assignment, new Queuing(g, assignment), resources, {
      cancelLost: (root, reason) => this.#scattered.cancelLost(root, reason),
    });
    this.#submission = new GraphSubmission(g, engine);
    this.#reports = new WorkerReports(g, engine, assignment);
    this.#clientOps = new ClientOps(g, engine);
    this.#scattered = new ScatteredData(g, engine);
    this.#stealing = new WorkStealing(g, engine, assignment);
    const supervision = new ActorSupervision(g, engine);
    this.#membership = new Membership(g, engine, resources, this.#scattered, supervision);
    this.extensions = [
      this.#submission,
      this.#reports,
      this.#clientOps,
      this.#scattered,
      this.#stealing,
      this.#membership,
    ];
  }

  /** Threads of all connected workers. */
  get totalThreads(): number {
    return this.#records.totalThreads;
  }

  /** Tasks that finished (went to memory), ever. */
  get tasksCompleted(): number {
    return this.#records.tasksCompleted;
  }

  /** Where a call on actor `key` goes now: its worker, wait, its error, or nowhere. */
  actorStatus(key: string): ActorStatus {
    return this.actors.status(this.tasks.get(key));
  }

  /** Steal requests sent, ever. */
  get stealRequests(): number {
    return this.#stealing.stealRequests;
  }

  /** Tasks moved to a thief, ever. */
  get tasksStolen(): number {
    return this.#stealing.tasksStolen;
  }

  /** Checks every invariant when the config asks for it (after each stimulus). */
  #validated(): void {
    if (this.#validate) validateState(this);
  }

  // ---------------------------------------------------------------- membership

  /** A worker joined. */
  addWorker(info: WorkerInfo): void {
    this.#membership.addWorker(info);
    this.#validated();
  }

  /** A worker left (connection closed, timed out, or retired when `expected`). */
  removeWorker(address: string, reason: string, expected = false): void {
    this.#membership.removeWorker(address, reason, expected);
    this.#validated();
  }

  /** A worker paused or runs again; returns whether its status changed. */
  setWorkerStatus(address: string, status: "running" | "paused"): boolean {
    const changed = this.#membership.setWorkerStatus(address, status);
    this.#validated();
    return changed;
  }

  /** client.restart(): every key any client wants is cancelled (keys-cancelled) and released. */
  cancelAll(reason: string): void {
    this.#membership.cancelAll(reason);
    this.#validated();
  }

  /** A client connected. */
  addClient(id: string): void {
    this.#membership.addClient(id);
    this.#validated();
  }

  /** A client stopped reading (`stalled`), or caught up again. */
  clientStalled(id: string, stalled: boolean): void {
    this.#membership.clientStalled(id, stalled);
    this.#validated();
  }

  /** A client left: everything it wanted is released. */
  removeClient(id: string): void {
    this.#membership.removeClient(id);
    this.#validated();
  }

  // ---------------------------------------------------------------- graph submission

  /** A client submitted tasks and says which keys it wants (`now`: ms, for FIFO generations). */
  updateGraph(client: string, msg: UpdateGraph, now?: number): void {
    this.#submission.updateGraph(client, msg, now);
    this.#validated();
  }

  // ---------------------------------------------------------------- workers' reports

  /** A worker finished a task. */
  taskFinished(address: string, msg: TaskFinished): void {
    this.#reports.taskFinished(address, msg);
    this.#validated();
  }

  /** A worker's task raised. */
  taskErred(address: string, msg: TaskErred): void {
    this.#reports.taskErred(address, msg);
    this.#validated();
  }

  /** A worker's thread died while task `k` ran there: counted as a worker death. */
  taskCrashed(address: string, k: string, how: string): void {
    this.#reports.taskCrashed(address, k, how);
    this.#validated();
  }

  /** A worker's task seceded: it holds no slot and counts in no occupancy until it ends. */
  longRunning(address: string, k: string): void {
    this.#reports.longRunning(address, k);
    this.#validated();
  }

  /** A worker could not fetch `key` for task `k` from `holder`. */
  missingData(address: string, k: string, key: string, holder: string): void {
    this.#reports.missingData(address, k, key, holder);
    this.#validated();
  }

  // ---------------------------------------------------------------- client operations

  /** A client dropped its Futures for these keys. */
  releaseKeys(client: string, keys: string[]): void {
    this.#clientOps.releaseKeys(client, keys);
    this.#validated();
  }

  /** A client asks again where values are (it will fetch them from the workers). */
  requestValues(client: string, keys: string[]): void {
    this.#clientOps.requestValues(client, keys);
    this.#validated();
  }

  /** `client` cancels `keys` (and dependents only it wants; every client's with `force`). */
  cancelKeys(client: string, keys: string[], force = false): void {
    this.#clientOps.cancelKeys(client, keys, force);
    this.#validated();
  }

  /** Erred `keys` run again, with their erred dependencies and dependents. */
  retryKeys(keys: string[]): void {
    this.#clientOps.retryKeys(keys);
    this.#validated();
  }

  /** These keys stay wanted until they finish or err. */
  fireAndForget(keys: string[]): void {
    this.#clientOps.fireAndForget(keys);
    this.#validated();
  }

  // ---------------------------------------------------------------- scattered data

  /** Where each scattered key goes; null when no allowed worker is connected yet. */
  scatterPlan(
    client: string,
    keys: string[],
    nbytes: number[],
    workers?: string[],
    broadcast = false,
  ): ScatterPlanResult | null {
    const plan = this.#scattered.scatterPlan(client, keys, nbytes, workers, broadcast);
    this.#validated();
    return plan;
  }

  /** Scattered values reached the workers in `who` (key -> addresses). */
  updateData(who: Record<string, string[]>, nbytes: Record<string, number>): void {
    this.#scattered.updateData(who, nbytes);
    this.#validated();
  }

  // ---------------------------------------------------------------- work stealing

  /** One balancing pass (the scheduler actor calls it on a timer). */
  balance(): void {
    this.#stealing.balance();
    this.#validated();
  }

  /** The victim's answer to a steal request: its state of `key` (null: unknown to it). */
  stealResponse(address: string, key: string, state: string | null): void {
    this.#stealing.stealResponse(address, key, state);
    this.#validated();
  }
}
