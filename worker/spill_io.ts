/**
 * The worker's spill I/O: the MemoryBook's writes, reads and removals of spill files, done by its
 * SpillStore, each answer posted back to the worker's actor as a stimulus (a continuation
 * changes nothing itself).
 *
 * @module
 */
import type { SpillStore } from "./store.ts";
import type { WorkerOutbox } from "./worker_task.ts";
import type { WorkerStimulus } from "./stimulus.ts";

/** The spill half of a worker's outbox, on `store`, answering through `post`. */
export function spillOutbox(
  store: SpillStore,
  post: (s: WorkerStimulus) => void,
): Pick<WorkerOutbox, "spill" | "unspill" | "discard"> {
  return {
    spill: (id, p) => {
      store.write(id, p).then(
        (diskBytes) => post({ kind: "spilled", id, diskBytes }),
        (e) => post({ kind: "spill-failed", id, message: messageOf(e) }),
      );
    },
    unspill: (id) => {
      store.read(id).then(
        (payload) => post({ kind: "unspilled", id, payload }),
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
