/**
 * Every message dtask actors exchange, one module per channel under protocol/: each message's
 * type, its validator and (for a request) its reply are declared together in its channel's
 * table (see protocol/spec.ts). This index re-exports them all.
 *
 * Streams are long-lived: a connection carries batches of messages both ways after the
 * handshake. Requests that need a reply carry an `id` echoed by the reply.
 */
export * from "./protocol/common.ts";
export * from "./protocol/handshake.ts";
export * from "./protocol/client_scheduler.ts";
export * from "./protocol/cluster_calls.ts";
export * from "./protocol/locks.ts";
export * from "./protocol/cluster_info.ts";
export * from "./protocol/shared_values.ts";
export * from "./protocol/story.ts";
export * from "./protocol/worker_logs.ts";
export * from "./protocol/worker_scheduler.ts";
export * from "./protocol/worker_diagnostics.ts";
export * from "./protocol/worker_worker.ts";
export * from "./protocol/worker_thread.ts";
export * from "./protocol/actor_calls.ts";
export * from "./protocol/actor_worker.ts";
export * from "./protocol/actor_thread.ts";
export * from "./protocol/messages.ts";
export type { OpSet, Spec, SpecEntry, Table } from "./protocol/spec.ts";
