/**
 * Every input of the scheduler actor, as one union on `kind`: a message from a worker or a
 * client, a connection opening or closing, a timer tick, the result of async work posted back
 * (an exit status, a grace period or a wait ending, replicas made), and a call of its API.
 * `Scheduler.receive` takes each one and switches on its kind exhaustively; nothing changes
 * the scheduler's state any other way.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { Hello, Message, Welcome, WorkerInfo } from "../comm/protocol.ts";
import type { Transport } from "../comm/transport.ts";

/** A message from a worker. Hot path: a connection reuses one such object for every message. */
export interface WorkerMessage {
  kind: "worker-message";
  worker: string;
  msg: Message | null;
}

/** A message from a client. Hot path: a connection reuses one such object for every message. */
export interface ClientMessage {
  kind: "client-message";
  client: string;
  conn: Connection;
  msg: Message | null;
}

/** A transport was accepted: its handshake begins. */
export interface ConnectionOpened {
  kind: "connection-opened";
  transport: Transport;
}

/** A peer's hello arrived: the actor sets `verdict`, a welcome or why it is refused. */
export interface HelloReceived {
  kind: "hello";
  transport: Transport;
  hello: Hello;
  verdict: Welcome | string;
}

/** A handshake ended: `hello` when it was admitted, null when refused, malformed or late. */
export interface HandshakeEnded {
  kind: "handshake-ended";
  transport: Transport;
  hello: Hello | null;
}

/** A worker's connection closed (whoever closed it). */
export interface WorkerClosed {
  kind: "worker-closed";
  worker: string;
  conn: Connection;
  reason: string;
}

/** A client's connection closed (whoever closed it). */
export interface ClientClosed {
  kind: "client-closed";
  client: string;
  conn: Connection;
}

/** A client's queue passed its bound (`stalled`), or drained to half of it. */
export interface ClientStalled {
  kind: "client-stalled";
  client: string;
  conn: Connection;
  stalled: boolean;
}

/**
 * The scheduler's timers: work stealing's balancing pass, the worker time-to-live check, the
 * check for tasks no worker may run, the live dashboard's updates (only while a page is
 * connected) and its samples of the scheduler's own CPU, memory and lag.
 */
export type TimerName = "balance" | "worker-ttl" | "unrunnable" | "dashboard" | "system-sample";

/** A timer fired. */
export interface Tick {
  kind: "tick";
  timer: TimerName;
}

/** The wait for a lost worker's exit status ended (`how`: undefined when none came in time). */
export interface ExitStatus {
  kind: "exit-status";
  worker: string;
  reason: string;
  how: string | undefined;
}

/** A dropped client's grace period ended without it reconnecting. */
export interface GraceEnded {
  kind: "grace-ended";
  client: string;
}

/** Something waiting for the workers to change, with a deadline (see worker_waits.ts). */
export interface WorkerWait {
  /** Checked after each change of the workers: true when satisfied (it is then done). */
  check(): boolean;
  /** Its deadline passed. */
  expire(): void;
  /** The scheduler is closing. */
  cancel(): void;
}

/** A deadline an extension armed passed (see deadlines.ts): `fire` runs inside the actor. */
export interface DeadlinePassed {
  kind: "deadline";
  id: number;
  fire: () => void;
  /** When it is due (`performance.now()` time): a deadline past one timer's reach re-arms. */
  due: number;
}

/** A worker reports it now holds copies of `keys` (replicate, rebalance, retire). */
export interface ReplicasAdded {
  kind: "replicas-added";
  worker: string;
  keys: string[];
}

/** A worker's copies of `keys` are dropped (rebalance moved them). */
export interface ReplicasRemoved {
  kind: "replicas-removed";
  worker: string;
  keys: string[];
}

/** `scheduler.preload(urls)`. */
export interface PreloadCall {
  kind: "preload";
  urls: string[];
}

/** `scheduler.restart(timeout)`. */
export interface RestartCall {
  kind: "restart";
  timeout: number;
  done: PromiseWithResolvers<void>;
}

/** `scheduler.retireWorkers(names, timeout)`. */
export interface RetireCall {
  kind: "retire-workers";
  names: string[];
  timeout: number;
  done: PromiseWithResolvers<Record<string, WorkerInfo>>;
}

/** `scheduler.waitForWorkers(n, timeout)`. */
export interface WaitForWorkersCall {
  kind: "wait-for-workers";
  n: number;
  timeout: number;
  done: PromiseWithResolvers<void>;
}

/** `scheduler.close()` begins: timers stop, waits end, nothing more is waited for. */
export interface CloseCall {
  kind: "close";
}

/** Every input of the scheduler actor. */
export type Stimulus =
  | WorkerMessage
  | ClientMessage
  | ConnectionOpened
  | HelloReceived
  | HandshakeEnded
  | WorkerClosed
  | ClientClosed
  | ClientStalled
  | Tick
  | ExitStatus
  | GraceEnded
  | DeadlinePassed
  | ReplicasAdded
  | ReplicasRemoved
  | PreloadCall
  | RestartCall
  | RetireCall
  | WaitForWorkersCall
  | CloseCall;

/** Where a stimulus is posted: the actor's `receive`. */
export type Post = (stimulus: Stimulus) => void;
