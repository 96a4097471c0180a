/**
 * The browser-safe client: no Deno APIs, no node: modules, only `WebSocket`, `fetch`, timers
 * and `crypto`. It connects to a scheduler's WebSocket listener (`wsPort`, `--ws-port`) by
 * itself, and runs in a browser, on Deno Deploy and under `deno run --allow-net`; values go
 * through the scheduler (it cannot reach the workers). Other transports can be plugged in with
 * `registerDialer` (the full `mod.ts` registers tcp:// and in-process ones).
 *
 * ```ts
 * import { Client } from "@x/dtask/client";
 *
 * await using client = await Client.connect("ws://scheduler.example:8788");
 * console.log(await client.submit((x: number) => x + 1, 1)); // 2
 * ```
 * @module
 */
import { registerDialer } from "./client.ts";
import { dialWebSocket } from "../comm/ws_transport.ts";

registerDialer("ws", dialWebSocket);
registerDialer("wss", dialWebSocket);

export { Client, registerDialer } from "./client.ts";
export type {
  Args,
  ClientOptions,
  ClusterLike,
  ComputeOptions,
  MaybeFuture,
  SchedulerInfo,
  SchedulerWorkerInfo,
  SubmitOptions,
  SubmitWith,
} from "./options.ts";
export { Actor, type ActorHandle } from "./actor_handle.ts";
export type { Dialer, Transport } from "./transport.ts";
export type { TlsOptions } from "../comm/tls_options.ts";
export type { DisplayBundle } from "../core/display_html.ts";
export type { GatherOptions } from "./values.ts";
export type { Gathered } from "./gather.ts";
export { type Graph, GraphRef, GraphTask, type KeyTree, ref, task } from "./graph.ts";
export type { ScatterOptions } from "./scatter.ts";
export { fireAndForget } from "./cancel.ts";
export { Lock, type LockAcquireOptions, type LockOptions } from "./lock.ts";
export { MultiLock, type MultiLockAcquireOptions } from "./multi_lock.ts";
export { Semaphore, type SemaphoreAcquireOptions, type SemaphoreOptions } from "./semaphore.ts";
export { Queue, type QueueGetOptions, type QueueOptions } from "./queue.ts";
export { Variable, type VariableOptions } from "./variable.ts";
export { Event, type EventOptions } from "./event.ts";
export { Future, type FutureOwner, type FutureStatus } from "./future.ts";
export type { TaskStreamAction, TaskStreamRecord, TopicEventRecord } from "./cluster_calls.ts";
export type { StoryRecord } from "./story.ts";
export {
  AsCompleted,
  asCompleted,
  type AsCompletedIterator,
  type AsCompletedOptions,
  type CompletedPair,
  wait,
  type WaitOptions,
  type WaitResult,
} from "./wait.ts";
export {
  ActorLostError,
  CancelledError,
  ClassInstanceError,
  CommClosedError,
  DtaskError,
  KeyError,
  KilledWorker,
  LeaseError,
  ProtocolError,
  ScopeError,
  SerializationError,
  SpillError,
  TimeoutError,
  TlsError,
  WrongRoleError,
} from "../core/errors.ts";
