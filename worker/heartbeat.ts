/**
 * The worker's heartbeat: what it tells the scheduler each second about its memory, its tasks,
 * its spilling and its CPU (the scheduler's liveness, `schedulerInfo`, the dashboard's bars).
 *
 * @module
 */
import type { Heartbeat } from "../comm/protocol.ts";
import type { WorkerStateMachine } from "./state.ts";
import type { SpillStore } from "./store.ts";

/** What the heartbeat reads besides the state machine and the store. */
export interface HeartbeatReadings {
  /** The process's resident set size, in bytes. */
  rss: number;
  /** Bytes the buffer pool keeps warm: memory the worker manages too. */
  pooled: number;
  /** CPU use since the last heartbeat, in percent of one core. */
  cpu: number;
}

/**
 * The heartbeat message of a worker now.
 *
 * @example
 * ```ts ignore
 * conn.send(heartbeat(state, store, { rss: rss(), pooled: 0, cpu: meter.percent() }));
 * ```
 */
export function heartbeat(
  state: WorkerStateMachine,
  store: SpillStore,
  r: HeartbeatReadings,
): Heartbeat {
  return {
    op: "heartbeat",
    memory: state.managedBytes + r.pooled,
    executing: state.executing,
    ready: state.readyCount,
    stored: state.data.size,
    rss: r.rss,
    spilled: state.data.spilled,
    spillBytes: store.spillBytes,
    spillSeconds: store.spillSeconds + store.unspillSeconds,
    cpu: r.cpu,
  };
}
