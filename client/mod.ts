/**
 * The browser-safe client: no Deno APIs, no node: modules. Connect it over a transport you
 * register with `registerDialer` (the full `mod.ts` registers tcp:// and in-process transports).
 *
 * ```ts
 * import { Client, type Dialer, registerDialer } from "@x/dtask/client";
 *
 * declare const myWebSocketDialer: Dialer; // opens a Transport to a ws:// address
 * registerDialer("ws", myWebSocketDialer);
 * await using client = await Client.connect("ws://scheduler.example:8788");
 * console.log(await client.submit((x: number) => x + 1, 1)); // 2
 * ```
 * @module
 */
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
} from "./options.ts";
export type { Dialer, Transport } from "./transport.ts";
export type { TlsOptions } from "../comm/tls_options.ts";
export type { DisplayBundle } from "../core/display_html.ts";
export type { GatherOptions } from "./values.ts";
export type { Gathered } from "./gather.ts";
export { type Graph, GraphRef, GraphTask, type KeyTree, ref, task } from "./graph.ts";
export type { ScatterOptions } from "./scatter.ts";
export { fireAndForget } from "./cancel.ts";
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
  CancelledError,
  ClassInstanceError,
  CommClosedError,
  DtaskError,
  KeyError,
  KilledWorker,
  ProtocolError,
  ScopeError,
  SerializationError,
  SpillError,
  TimeoutError,
  TlsError,
  WrongRoleError,
} from "../core/errors.ts";
