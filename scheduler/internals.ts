/**
 * The parts of a running Scheduler that are not its public API — its state machine, its
 * cluster-wide calls and its record of worker heartbeats — for dtask's own modules (LocalCluster
 * supervises the scheduler with them) and for tests that check the state. mod.ts does not
 * export this module.
 */
import type { Scheduler } from "./scheduler.ts";
import type { SchedulerState } from "./state.ts";
import type { ClusterCalls } from "./cluster_calls.ts";
import type { Liveness } from "./liveness.ts";

/** The scheduler's state machine: tasks, workers and clients as it knows them. */
export function schedulerState(scheduler: Scheduler): SchedulerState {
  return scheduler["state"];
}

/** The scheduler's cluster-wide calls (events, logs, datasets, task stream). */
export function clusterCalls(scheduler: Scheduler): ClusterCalls {
  return scheduler["calls"];
}

/** When the scheduler last heard from each worker. */
export function liveness(scheduler: Scheduler): Liveness {
  return scheduler["liveness"];
}
