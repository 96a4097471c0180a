/**
 * Tasks whose worker died under them (Dask's `suspicious` count): a worker process that died,
 * or a thread of a worker that died while the task ran there. Past `allowedFailures` deaths the
 * task errs with a KilledWorker that names the last worker and how it died. Pure.
 *
 * @module
 */
import type { ErrorEnvelope } from "../core/errors.ts";
import type { TaskState } from "./task_state.ts";

/** The KilledWorker a task errs with once too many workers died running it. */
export function killedWorker(ts: TaskState, lastWorker: string, how: string): ErrorEnvelope {
  return {
    name: "KilledWorker",
    message: `Attempted to run task '${ts.key}' on ${ts.suspicious} different workers, ` +
      `but all those workers died while running it. The last worker was ${lastWorker} ` +
      `(${how}). Look at that worker's log: the task may use too much memory or crash ` +
      `the process.`,
  };
}

/**
 * Counts a death of `worker` (`how`: "killed by signal SIGKILL", "thread 0 died: ...") against
 * a task that was running there and is no longer processing. True when it is one too many: the
 * task's exception is then set, for the caller to move it to erred.
 */
export function countDeath(
  ts: TaskState,
  worker: string,
  how: string,
  allowedFailures: number,
): boolean {
  ts.suspicious++;
  ts.lastDeadWorker = worker;
  if (ts.suspicious <= allowedFailures) return false;
  ts.exception = killedWorker(ts, worker, how);
  ts.blame = ts;
  return true;
}
