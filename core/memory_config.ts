/**
 * The shape of a worker's resolved memory thresholds, shared by the worker (which resolves it:
 * worker/memory_config.ts) and the code of its tasks (`getWorker().memory`).
 *
 * @module
 */

/**
 * A worker's memory thresholds in bytes, checked and resolved from its `memoryLimit` and its
 * memory options (`memoryTarget`, `memorySpill`, `memoryPause`, `memoryTerminate`, `maxSpill`).
 * The worker pauses by it (worker/memory_pause.ts), its nanny restarts it past `terminate`
 * (worker/nanny_actor.ts); spilling is to use the other thresholds.
 */
export interface MemoryConfig {
  /** Bytes the worker may use; 0: no limit, and every threshold below is null. */
  readonly limit: number;
  /** Managed bytes past which values spill, least recently used first; null: off. */
  readonly target: number | null;
  /** Process bytes (RSS) past which values spill until back under the target; null: off. */
  readonly spill: number | null;
  /** Process bytes (RSS) past which the worker pauses; null: off. */
  readonly pause: number | null;
  /** Process bytes (RSS) past which the nanny restarts the worker process; null: off. */
  readonly terminate: number | null;
  /** Bytes that may be spilled to disk; null: no cap. */
  readonly maxSpill: number | null;
}

/** No memory limit: values are only stored, never spilled, and the worker never pauses. */
export const NO_MEMORY_LIMIT: MemoryConfig = Object.freeze({
  limit: 0,
  target: null,
  spill: null,
  pause: null,
  terminate: null,
  maxSpill: null,
});
