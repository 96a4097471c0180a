/**
 * A starting task's inputs: pinned in the worker's MemoryBook while it runs, so none spills
 * under it, and read back from disk first when spilled (the task holds its slot meanwhile, as
 * Dask's unspill on the executing thread does). Pure.
 *
 * @module
 */
import type { MemoryBook } from "./memory_state.ts";
import type { WorkerTask } from "./worker_task.ts";

/** The inputs of executing tasks, and the tasks waiting for inputs to come back from disk. */
export class TaskInputs {
  /** Tasks waiting for the value of a key to be read back, by key. */
  readonly #waiting = new Map<string, WorkerTask[]>();

  constructor(private readonly data: MemoryBook) {}

  /**
   * Pins the inputs of `ts`, counting in `ts.loading` those being read back. Returns an input
   * that is not held here at all (the task cannot run; nothing is pinned), or null.
   */
  pin(ts: WorkerTask): string | null {
    for (const dk of ts.deps) if (!this.data.has(dk)) return dk;
    ts.pinned = true;
    ts.loading = 0;
    for (const dk of ts.deps) {
      if (this.data.acquire(dk) !== undefined) continue;
      ts.loading++;
      const w = this.#waiting.get(dk);
      if (w) w.push(ts);
      else this.#waiting.set(dk, [ts]);
    }
    return null;
  }

  /** Unpins the inputs of `ts` (it settled or is forgotten); a no-op when none are pinned. */
  unpin(ts: WorkerTask): void {
    if (!ts.pinned) return;
    ts.pinned = false;
    ts.loading = 0;
    for (const dk of ts.deps) this.data.release(dk);
  }

  /** The value of `key` is back in memory: the tasks it was the last input of, to start now. */
  loaded(key: string): WorkerTask[] {
    const waiting = this.#take(key);
    return waiting.filter((ts) => --ts.loading! === 0);
  }

  /** The value of `key` could not be read back: the tasks that were waiting for it. */
  lost(key: string): WorkerTask[] {
    return this.#take(key);
  }

  /** The tasks still waiting for `key` (those forgotten meanwhile are unpinned: skipped). */
  #take(key: string): WorkerTask[] {
    const waiting = this.#waiting.get(key);
    if (!waiting) return [];
    this.#waiting.delete(key);
    return waiting.filter((ts) => ts.pinned && ts.loading! > 0);
  }
}
