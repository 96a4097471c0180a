/**
 * The parts of a running Scheduler that are not its public API — its state machine, its
 * cluster-wide calls, its record of worker heartbeats, its stimulus log and the actor's entry —
 * for dtask's own modules (LocalCluster supervises the scheduler with them) and for tests that
 * check the state. mod.ts does not export this module.
 */
import type { Scheduler } from "./scheduler.ts";
import type { SchedulerState } from "./state.ts";
import type { ClusterCalls } from "./cluster_calls.ts";
import type { Liveness } from "./liveness.ts";
import type { StimulusLog } from "../actor/stimulus_log.ts";
import type { Stimulus } from "./stimulus.ts";

/** The scheduler's state machine: tasks, workers and clients as it knows them. */
export function schedulerState(scheduler: Scheduler): SchedulerState {
  return scheduler["actor"].state;
}

/** The scheduler's cluster-wide calls (events, logs, datasets, task stream). */
export function clusterCalls(scheduler: Scheduler): ClusterCalls {
  return scheduler["actor"].calls;
}

/** When the scheduler last heard from each worker. */
export function liveness(scheduler: Scheduler): Liveness {
  return scheduler["actor"].workers.liveness;
}

/** The scheduler's stimulus ids and the log of what each stimulus did (story). */
export function stimulusLog(scheduler: Scheduler): StimulusLog {
  return scheduler["actor"].stimuli;
}

/** Hands `stimulus` to the scheduler actor's one entry, `receive`. */
export function receive(scheduler: Scheduler, stimulus: Stimulus): void {
  scheduler["actor"].receive(stimulus);
}
