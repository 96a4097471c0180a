/** The scheduler's records of tasks, workers and clients. */
import type { Payload } from "../comm/serialize.ts";
import type { ErrorEnvelope } from "../comm/errors.ts";
import type { WorkerInfo } from "../comm/protocol.ts";
import type { HeapItem } from "../comm/heap.ts";
import type { SmallSet } from "./small_set.ts";

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

/** One task the scheduler knows. */
export class TaskState implements HeapItem {
  state: TaskStateName = "released";
  /** Dependencies (fixed at submission). */
  deps: TaskState[] = [];
  /** Tasks that depend on this one. */
  dependents: SmallSet<TaskState> | null = null;
  /** Dependencies not yet in memory while waiting. */
  waitingOn: SmallSet<TaskState> | null = null;
  /** Dependents that still need this task's data. */
  waiters: SmallSet<TaskState> | null = null;
  /** Clients holding a Future for this key. */
  whoWants: SmallSet<string> | null = null;
  /** Workers holding the value. */
  whoHas: SmallSet<WorkerState> | null = null;
  processingOn: WorkerState | null = null;
  /** Priority tuple; lower runs first. */
  priority: number[] = [0, 0];
  retries = 0;
  /** How many workers died while this task was running there. */
  suspicious = 0;
  nbytes = -1;
  exception: ErrorEnvelope | null = null;
  blame: TaskState | null = null;
  /** Duration estimate counted in its worker's occupancy. */
  occupancyShare = 0;
  heapIndex = -1;
  /** Workers (addresses or names) it may run on, or null for any. */
  restrictions: Set<string> | null = null;
  /** Whether it may run elsewhere when no allowed worker is there. */
  loose = false;
  /** The last worker that died while running it. */
  lastDeadWorker: string | null = null;

  constructor(
    readonly key: string,
    readonly prefix: string,
    /** Function hash; empty for scattered data. */
    public fn: string,
    /** Encoded arguments; null for scattered data (no lineage). */
    public args: Payload | null,
  ) {}
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
  /** Memory the worker reported. */
  memory = 0;
  status: "running" | "paused" | "closing" = "running";

  constructor(readonly info: WorkerInfo) {}

  /** Its address, the name it goes by everywhere. */
  get address(): string {
    return this.info.address;
  }
}
