/**
 * The browser-safe client: no Deno APIs, no node: modules. Connect it over a transport you
 * register (the full `mod.ts` registers tcp:// and in-process transports).
 * @module
 */
export {
  Client,
  type ClientOptions,
  type ComputeOptions,
  registerDialer,
  type SubmitOptions,
} from "./client.ts";
// graph, scatter, cancel, retry, fire-and-forget (i4-graph)
export { type Graph, GraphRef, GraphTask, type KeyTree, ref, task } from "./graph.ts";
export { type ScatterOptions } from "./scatter.ts";
export { fireAndForget } from "./cancel.ts";
export { Future, type FutureStatus } from "./future.ts";
export type { TaskStreamRecord, TopicEventRecord } from "./cluster_calls.ts";
export {
  AsCompleted,
  asCompleted,
  type AsCompletedIterator,
  wait,
  type WaitOptions,
  type WaitResult,
} from "./wait.ts";
export {
  CancelledError,
  CommClosedError,
  DtaskError,
  KeyError,
  KilledWorker,
  ProtocolError,
  ScopeError,
  SerializationError,
  TimeoutError,
} from "../comm/errors.ts";
