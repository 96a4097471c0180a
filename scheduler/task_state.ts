/** The scheduler's records of tasks, workers and clients. */
import { Payload } from "../comm/serialize.ts";
import type { ErrorEnvelope } from "../core/errors.ts";
import type { WorkerInfo } from "../comm/protocol.ts";
import type { HeapItem } from "../core/heap.ts";
import {
  type Inline,
  inlineAdd,
  inlineDelete,
  inlineHas,
  inlineSize,
  inlineValues,
  type SmallSet,
} from "./small_set.ts";
import { type ArgSlab, SLAB_MAX } from "./arg_slab.ts";

const NO_FRAMES: Uint8Array[] = [];
// a slab argument's length is at most SLAB_MAX, so offset and length pack into one integer
const ARGS_LEN_SPAN = SLAB_MAX + 1;
// frozen: a push onto the shared empty list would be a bug
const NO_DEPS = Object.freeze([]) as unknown as TaskState[];

/** Task states on the scheduler, with Dask's meaning. */
export type TaskStateName =
  | "released"
  | "waiting"
  | "no-worker"
  | "queued"
  | "processing"
  | "memory"
  | "erred"
  | "forgotten";

/** Every task state, for metrics. */
export const TASK_STATES: readonly TaskStateName[] = [
  "released",
  "waiting",
  "no-worker",
  "queued",
  "processing",
  "memory",
  "erred",
  "forgotten",
];

/** The fields few tasks ever set, kept apart so a plain waiting task does not carry them. */
class TaskExtra {
  retries = 0;
  suspicious = 0;
  exception: ErrorEnvelope | null = null;
  blame: TaskState | null = null;
  restrictions: Set<string> | null = null;
  loose = false;
  lastDeadWorker: string | null = null;
}

/** One task the scheduler knows. */
export class TaskState implements HeapItem {
  state: TaskStateName = "released";
  /** Dependencies (fixed at submission). */
  deps: TaskState[] = NO_DEPS;
  /** Tasks that depend on this one. */
  dependents: SmallSet<TaskState> | null = null;
  /** Dependents that still need this task's data. */
  waiters: SmallSet<TaskState> | null = null;
  /** Workers holding the value. */
  whoHas: SmallSet<WorkerState> | null = null;
  processingOn: WorkerState | null = null;
  /** Minus the user's priority: lower runs first. */
  rank = 0;
  /** Submission order, the tie-break after `rank`. */
  order = 0;
  /** FIFO generation (Dask's fifo_timeout): a later batch of submissions runs after. */
  generation = 0;
  nbytes = -1;
  /** Duration estimate counted in its worker's occupancy. */
  occupancyShare = 0;
  heapIndex = -1;
  // Every waiting task costs its fields' bytes: the rare ones live in a side object made on first
  // write (scheduler memory per waiting task).
  #extra: TaskExtra | null = null;

  // Encoded arguments: a slab chunk and the range in it (offset * ARGS_LEN_SPAN + length, one
  // small integer), or a Payload of their own, or null for scattered data (no lineage).
  #argsIn: Uint8Array | Payload | null = null;
  #argsRange = 0;

  // Who wants it and what it waits on, each null, the single member, or a Set of two or more
  // (never emptied back): nearly every waiting task has one of each, and storing that member
  // here rather than in a SmallSet saves two objects per task (scheduler memory per waiting task).
  #wants: Inline<string> = null;
  #waitingOn: Inline<TaskState> = null;

  constructor(
    readonly key: string,
    readonly prefix: string,
    /** Function hash; empty for scattered data. */
    public fn: string,
    args: Payload | null,
    slab?: ArgSlab,
  ) {
    this.setArgs(args, slab);
  }

  #x(): TaskExtra {
    return this.#extra ??= new TaskExtra();
  }

  /** Retries left on error. */
  get retries(): number {
    return this.#extra?.retries ?? 0;
  }
  set retries(n: number) {
    if (n !== 0 || this.#extra) this.#x().retries = n;
  }

  /** How many workers died while this task was running there. */
  get suspicious(): number {
    return this.#extra?.suspicious ?? 0;
  }
  set suspicious(n: number) {
    if (n !== 0 || this.#extra) this.#x().suspicious = n;
  }

  /** The error it ended with (its own, or the one of the dependency to blame). */
  get exception(): ErrorEnvelope | null {
    return this.#extra?.exception ?? null;
  }
  set exception(e: ErrorEnvelope | null) {
    if (e !== null || this.#extra) this.#x().exception = e;
  }

  /** The task whose error this one carries. */
  get blame(): TaskState | null {
    return this.#extra?.blame ?? null;
  }
  set blame(ts: TaskState | null) {
    if (ts !== null || this.#extra) this.#x().blame = ts;
  }

  /** Workers (addresses or names) it may run on, or null for any. */
  get restrictions(): Set<string> | null {
    return this.#extra?.restrictions ?? null;
  }
  set restrictions(r: Set<string> | null) {
    if (r !== null || this.#extra) this.#x().restrictions = r;
  }

  /** Whether it may run elsewhere when no allowed worker is there. */
  get loose(): boolean {
    return this.#extra?.loose ?? false;
  }
  set loose(b: boolean) {
    if (b || this.#extra) this.#x().loose = b;
  }

  /** The last worker that died while running it. */
  get lastDeadWorker(): string | null {
    return this.#extra?.lastDeadWorker ?? null;
  }
  set lastDeadWorker(a: string | null) {
    if (a !== null || this.#extra) this.#x().lastDeadWorker = a;
  }

  /** Number of clients holding a Future for this key. */
  get wantCount(): number {
    return inlineSize(this.#wants);
  }

  /** Whether `client` holds a Future for this key. */
  hasWant(client: string): boolean {
    return inlineHas(this.#wants, client);
  }

  /** Records that `client` holds a Future for this key. */
  addWant(client: string): void {
    this.#wants = inlineAdd(this.#wants, client);
  }

  /** `client` no longer holds a Future for this key; true if it did. */
  deleteWant(client: string): boolean {
    if (!inlineHas(this.#wants, client)) return false;
    this.#wants = inlineDelete(this.#wants, client);
    return true;
  }

  /** The clients holding a Future for this key, in order of arrival (deleting meanwhile is safe). */
  wants(): Iterable<string> {
    return inlineValues(this.#wants);
  }

  /** Forgets every client that wanted it. */
  clearWants(): void {
    this.#wants = null;
  }

  /** Number of dependencies not yet in memory while waiting. */
  get waitingOnCount(): number {
    return inlineSize(this.#waitingOn);
  }

  /** Records that it waits for `dep` to be in memory. */
  addWaitingOn(dep: TaskState): void {
    this.#waitingOn = inlineAdd(this.#waitingOn, dep);
  }

  /** It no longer waits for `dep`; true if it did. */
  deleteWaitingOn(dep: TaskState): boolean {
    if (!inlineHas(this.#waitingOn, dep)) return false;
    this.#waitingOn = inlineDelete(this.#waitingOn, dep);
    return true;
  }

  /** The dependencies it waits for, in order of addition (deleting meanwhile is safe). */
  waitingOn(): Iterable<TaskState> {
    return inlineValues(this.#waitingOn);
  }

  /** Stops waiting for any dependency. */
  clearWaitingOn(): void {
    this.#waitingOn = null;
  }

  /** Stores the encoded arguments: small ones copied into `slab`, others kept as they are. */
  setArgs(args: Payload | null, slab?: ArgSlab): void {
    if (args !== null && slab && args.frames.length === 0 && args.header.length <= SLAB_MAX) {
      this.#argsRange = slab.copy(args.header) * ARGS_LEN_SPAN + args.header.length;
      this.#argsIn = slab.chunk;
    } else this.#argsIn = args;
  }

  /**
   * Stores `src[start..end)` as the encoded arguments (no frames): small ones copied into
   * `slab`, others into a buffer of their own (never a view that would keep `src` alive).
   */
  setArgsRange(src: Uint8Array, start: number, end: number, slab: ArgSlab): void {
    const n = end - start;
    if (n <= SLAB_MAX) {
      this.#argsRange = slab.copyRange(src, start, end) * ARGS_LEN_SPAN + n;
      this.#argsIn = slab.chunk;
    } else this.#argsIn = new Payload(src.slice(start, end), NO_FRAMES);
  }

  /** Whether it has arguments, so it can be computed again (scattered data has none). */
  get hasArgs(): boolean {
    return this.#argsIn !== null;
  }

  /** The encoded arguments (a fresh view for each call), or null for scattered data. */
  get args(): Payload | null {
    const a = this.#argsIn;
    if (a === null || a instanceof Payload) return a;
    const at = Math.floor(this.#argsRange / ARGS_LEN_SPAN);
    return new Payload(a.subarray(at, at + this.#argsRange % ARGS_LEN_SPAN), NO_FRAMES);
  }

  /** The priority tuple as sent to workers; lower runs first. */
  get priority(): number[] {
    return [this.rank, this.generation, this.order];
  }
}

/** Whether `a` runs before `b`: higher user priority, then earlier generation, then order. */
export function runsBefore(a: TaskState, b: TaskState): boolean {
  if (a.rank !== b.rank) return a.rank < b.rank;
  return a.generation !== b.generation ? a.generation < b.generation : a.order < b.order;
}

/** One worker connected to the scheduler. */
export class WorkerState {
  /** Tasks assigned and not yet finished. */
  readonly processing: Set<TaskState> = new Set();
  /** Keys whose value it holds. */
  readonly hasWhat: Set<TaskState> = new Set();
  /** Function hashes already sent to it. */
  readonly sentFunctions: Set<string> = new Set();
  /** Expected seconds of work assigned. */
  occupancy = 0;
  /** Bytes of values it holds. */
  nbytes = 0;
  /** Managed bytes the worker reported: the values it holds in memory. */
  memory = 0;
  /** Its process memory (RSS) as it reported it. */
  rss = 0;
  /** Bytes of its values held only on disk. */
  spilled = 0;
  /** Bytes it has written to disk by spilling, ever. */
  spillBytes = 0;
  /** Seconds it has spent writing and reading spill files, ever. */
  spillSeconds = 0;
  /** Its process's CPU use over its last heartbeat interval (percent of one core). */
  cpu = 0;
  status: "running" | "paused" | "closing" = "running";
  /**
   * Work stealing: tasks assigned here that another worker might take, most recent last.
   * Entries go stale when their task leaves (checked when read; compacted as it grows).
   */
  stealable: TaskState[] = [];
  // in-task
  /** Processing tasks that seceded: they hold no slot and count in no occupancy. */
  readonly longRunning: Set<TaskState> = new Set();
  /** Resources held by its processing tasks (null until one needs some). */
  usedResources: Record<string, number> | null = null;

  constructor(readonly info: WorkerInfo) {}

  /** Drops the stale entries of `stealable` (tasks no longer processing here). */
  compactStealable(): void {
    this.stealable = this.stealable.filter((ts) =>
      ts.processingOn === this && ts.state === "processing"
    );
  }

  /** Processing tasks that hold a slot (seceded ones do not). */
  get busy(): number {
    return this.processing.size - this.longRunning.size;
  }

  /** Its address, the name it goes by everywhere. */
  get address(): string {
    return this.info.address;
  }
}
