/**
 * A thread's side of the buffer pool (comm/buffer_pool.ts): the pooled regions it received, by
 * object, and when each has been collected, a `released` message back to the executor (one per
 * turn), so the region can be reused. Until then the thread may hold the region anywhere (a
 * global, a closure), and it is never overwritten under it.
 *
 * @module
 */
import type { FromThread } from "../comm/protocol/worker_thread.ts";

/** The pooled regions a thread holds. */
export class PoolHolds {
  #post: (msg: FromThread) => void;
  #ids = new WeakMap<SharedArrayBuffer, number>();
  #released: number[] = [];
  #registry = new FinalizationRegistry<number>((id) => {
    if (this.#released.push(id) === 1) queueMicrotask(() => this.#flush());
  });

  constructor(post: (msg: FromThread) => void) {
    this.#post = post;
  }

  /** Regions that came with a message of tasks, each object once, with its pool id. */
  hold(regions: [SharedArrayBuffer, number][]): void {
    for (const [sab, id] of regions) {
      if (this.#ids.has(sab)) continue;
      this.#ids.set(sab, id);
      this.#registry.register(sab, id);
    }
  }

  /** The pool id of a region this thread received, else undefined. */
  idOf(buf: ArrayBufferLike): number | undefined {
    return this.#ids.get(buf as SharedArrayBuffer);
  }

  #flush(): void {
    const ids = this.#released;
    this.#released = [];
    if (ids.length > 0) this.#post({ op: "released", ids });
  }
}
