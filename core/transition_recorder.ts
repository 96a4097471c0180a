/**
 * Where a state machine reports what it does, to be told as a story (Dask's `story`): each
 * record is stamped by the actor's stimulus log with the stimulus being handled.
 *
 * @module
 */

/** What happened to a worker, as its story tells it. */
export type WorkerEventName = "added" | "removed" | "paused" | "running";

/** Where a state machine reports what it does. */
export interface TransitionRecorder {
  /** Task `key` moved from `start` to `finish` (`worker`: where it went, when it went to one). */
  transition(key: string, start: string, finish: string, worker?: string): void;
  /** The worker at `address` (named `name`) was added or removed, and why. */
  workerEvent(address: string, name: string, event: WorkerEventName, reason?: string): void;
}

/** A recorder that keeps nothing (a state machine nobody asks stories of). */
export const NO_RECORDING: TransitionRecorder = {
  transition() {},
  workerEvent() {},
};
