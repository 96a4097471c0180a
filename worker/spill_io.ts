/**
 * The worker's spill I/O: the MemoryBook's writes, reads and removals of spill files, done by its
 * SpillStore, each answer posted back to the worker's actor as a stimulus (a continuation
 * changes nothing itself), stamped with when it was asked and when it ended (the worker's I/O
 * stream records them).
 *
 * @module
 */
import type { SpillStore } from "./store.ts";
import type { WorkerOutbox } from "./worker_task.ts";
import type { WorkerStimulus } from "./stimulus.ts";
import { now } from "./task_run.ts";

/** The spill half of a worker's outbox, on `store`, answering through `post`. */
export function spillOutbox(
  store: SpillStore,
  post: (s: WorkerStimulus) => void,
): Pick<WorkerOutbox, "spill" | "unspill" | "discard"> {
  return {
    spill: (id, p) => {
      const start = now();
      store.write(id, p).then(
        (diskBytes) => post({ kind: "spilled", id, diskBytes, start, stop: now() }),
        (e) => post({ kind: "spill-failed", id, message: messageOf(e) }),
      );
    },
    unspill: (id) => {
      const start = now();
      store.read(id).then(
        (payload) => post({ kind: "unspilled", id, payload, start, stop: now() }),
        (e) => post({ kind: "unspill-failed", id, message: messageOf(e) }),
      );
    },
    discard: (id) => {
      store.remove(id).catch(() => {}); // a file that cannot be removed goes with the directory
    },
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
