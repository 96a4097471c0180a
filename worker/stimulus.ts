/**
 * Every input of the worker actor, as one union on `kind`: a message from the scheduler or a
 * peer, a connection opening or closing, a timer tick, and the result of async work posted back
 * (registration, a fetch from a peer, a cluster-wide call, a batch of task outcomes, a task
 * seceding or rejoining, the close beginning). `WorkerActor.receive` takes each one and switches
 * on its kind exhaustively; nothing changes the worker's state any other way.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { Message } from "../comm/protocol.ts";
import type { ErrorEnvelope } from "../core/errors.ts";
import type { Payload } from "../comm/serialize.ts";
import type { Transport } from "../comm/transport.ts";
import type { Executor, TaskOutcome } from "./executor.ts";
import type { SpillAnswer } from "./spill_answers.ts";

/** A message from the scheduler. Hot path: the connection reuses one object for every message. */
export interface SchedulerMessage {
  kind: "scheduler-message";
  msg: Message | null;
}

/** A message from a peer or a client. Hot path: one object per connection, reused. */
export interface PeerMessage {
  kind: "peer-message";
  conn: Connection;
  msg: Message | null;
}

/** Registration with the scheduler succeeded: the worker starts serving it. */
export interface Registered {
  kind: "registered";
  transport: Transport;
  executor: Executor;
}

/** The scheduler's connection closed (whoever closed it). */
export interface SchedulerClosed {
  kind: "scheduler-closed";
  reason: string;
}

/** A peer's handshake succeeded: its requests start flowing to the actor. */
export interface PeerAdmitted {
  kind: "peer-admitted";
  transport: Transport;
}

/** A peer's connection closed. */
export interface PeerClosed {
  kind: "peer-closed";
  conn: Connection;
}

/** The worker's timers: the heartbeat, and the garbage collection after large values dropped. */
export type WorkerTimerName = "heartbeat" | "collect" | "memory";

/** A timer fired. */
export interface WorkerTick {
  kind: "tick";
  timer: WorkerTimerName;
}

/** Values of `keys` arrived from the peer `worker`. */
export interface DataFetched {
  kind: "data-fetched";
  worker: string;
  keys: string[];
  values: Record<string, Payload>;
  /** When the fetch was asked and when its answer arrived (ms since the epoch). */
  start: number;
  stop: number;
}

/** Fetching `keys` from the peer `worker` failed. */
export interface FetchFailed {
  kind: "fetch-failed";
  worker: string;
  keys: string[];
}

/** A `client.run` function called here finished. */
export interface RunDone {
  kind: "run-done";
  id: number;
  result: { v: Payload } | { e: ErrorEnvelope };
}

/** The replicas the scheduler asked for were fetched (those some holder could serve). */
export interface ReplicasFetched {
  kind: "replicas-fetched";
  id: number;
  values: Record<string, Payload>;
}

/** Tasks finished on the threads: one stimulus per batch. */
export interface Outcomes {
  kind: "outcomes";
  batch: TaskOutcome[];
}

/** A running task seceded from its thread slot. */
export interface Seceded {
  kind: "seceded";
  key: string;
}

/** A seceded task asked to rejoin a thread slot. */
export interface Rejoined {
  kind: "rejoined";
  key: string;
}

/** A task logged an event (getWorker().logEvent): it goes to the scheduler's event log. */
export interface TaskEvent {
  kind: "log-event";
  topics: string[];
  msg: Payload;
}

/**
 * The worker should pause (start no new task) or run again, by hand; its memory monitor pauses
 * it too (the `memory` tick).
 */
export interface MemoryStatus {
  kind: "memory-status";
  paused: boolean;
}

/** `worker.close()` begins: timers stop, nothing more is taken in. */
export interface CloseBegins {
  kind: "close";
}

export type { SpillAnswer };

/** Every input of the worker actor. */
export type WorkerStimulus =
  | SchedulerMessage
  | PeerMessage
  | Registered
  | SchedulerClosed
  | PeerAdmitted
  | PeerClosed
  | WorkerTick
  | DataFetched
  | FetchFailed
  | RunDone
  | ReplicasFetched
  | Outcomes
  | Seceded
  | Rejoined
  | TaskEvent
  | MemoryStatus
  | SpillAnswer
  | CloseBegins;

/** The heartbeat's tick (one object: a tick allocates nothing). */
export const HEARTBEAT_TICK: WorkerTick = Object.freeze({ kind: "tick", timer: "heartbeat" });
/** The garbage collection's tick. */
export const COLLECT_TICK: WorkerTick = Object.freeze({ kind: "tick", timer: "collect" });
/** The memory monitor's tick. */
export const MEMORY_TICK: WorkerTick = Object.freeze({ kind: "tick", timer: "memory" });
/** The close beginning. */
export const CLOSE_BEGINS: CloseBegins = Object.freeze({ kind: "close" });
