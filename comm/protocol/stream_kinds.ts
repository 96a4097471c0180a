/**
 * The kinds of task-stream entries, by the number the wire carries them as: in a worker's
 * `io-stream` batches, in the scheduler's `task-stream-reply`, and in the dashboard's feed. A
 * task's run is a compute (or, when it raised, an erred compute); a worker's I/O is a transfer
 * from a peer, a spill write, or a read back from disk.
 *
 * @module
 */

/** The kinds' names, by number (Dask's startstops actions, with "erred" for a failed compute). */
export const STREAM_KINDS = ["compute", "erred", "transfer", "disk-write", "disk-read"] as const;

/** A task that ran and finished. */
export const STREAM_COMPUTE = 0;
/** A task that ran and raised. */
export const STREAM_ERRED = 1;
/** Values fetched from a peer worker. */
export const STREAM_TRANSFER = 2;
/** A value written to a spill file. */
export const STREAM_DISK_WRITE = 3;
/** A value read back from a spill file. */
export const STREAM_DISK_READ = 4;

/** Whether `kind` is one of a worker's I/O (what an `io-stream` batch may carry). */
export function isIoKind(kind: number): boolean {
  return kind >= STREAM_TRANSFER && kind <= STREAM_DISK_READ;
}
