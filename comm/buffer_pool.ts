/**
 * A pool of large shared regions whose pages are already touched, for frame regions received
 * from peers and read back from disk. On a virtual machine the first write to fresh memory costs
 * more than the copy into it (~2.6 ms per MB), so a worker that keeps receiving large values
 * reuses the regions of values it has dropped.
 *
 * The pool keeps each region's "master" SharedArrayBuffer and hands out a *lend*: a clone of it
 * (a second object over the same memory). Nothing but the lend (and the clones the pool is told
 * about, see `adopt`) may reference the memory in this isolate, so when the lend has been
 * collected no value here uses the region. Threads that got the region count as holds until they
 * say they released it (`threadHeld`/`threadReleased`). A region with no holds goes back to the
 * free list, unless the free list would then pass the pool's cap: it is then dropped, and freed by
 * the collector like any buffer.
 *
 * Browser-safe: only standard globals. Worker processes install a pool (`installBufferPool`);
 * clients and schedulers do not, and then every region is fresh.
 *
 * @module
 */

/** Regions smaller than this are not pooled (the eager receive size, comm/limits.ts). */
export const POOL_MIN = 1024 * 1024;

/** The most free bytes a pool keeps when nothing smaller is asked for. */
export const POOL_CAP_MAX = 256 * 1024 * 1024;

/** A free region is taken for a request at most this much larger than the request. */
const BEST_FIT_SLACK = 1.125;

/** A pool's cap for a worker with memory limit `limit` (0: no limit): min(256 MiB, 10%). */
export function poolCapFor(limit: number): number {
  return limit > 0 ? Math.min(POOL_CAP_MAX, Math.floor(0.1 * limit)) : POOL_CAP_MAX;
}

interface Master {
  readonly id: number;
  readonly sab: SharedArrayBuffer;
  /** Live lends and adopted clones in this isolate, plus holds of threads. */
  holds: number;
}

/** Ids are unique across pools, so a stale id told to a later pool is ignored. */
let nextId = 1;

/** Warm shared regions for reuse; see the module doc. */
export class BufferPool {
  /** The most bytes kept free. */
  readonly cap: number;
  /** Regions handed out fresh (first-touch cost paid), and reused from the free list. */
  readonly stats = { fresh: 0, reused: 0 };
  #masters = new Map<number, Master>();
  #free: Master[] = [];
  #freeBytes = 0;
  #ids = new WeakMap<SharedArrayBuffer, number>();
  #registry = new FinalizationRegistry<number>((id) => this.#release(id));
  #closed = false;

  /** `cap`: the most bytes kept free (default 256 MiB). */
  constructor(cap: number = POOL_CAP_MAX) {
    if (!(cap >= 0)) throw new RangeError(`a buffer pool's cap must be >= 0 bytes, got ${cap}`);
    this.cap = cap;
  }

  /** Bytes in free regions: warm, referenced by nothing but the pool. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /** Regions handed out and not yet back. */
  get inUse(): number {
    return this.#masters.size - this.#free.length;
  }

  /**
   * A shared region of at least `size` bytes (views are to be made on its first `size`): the
   * smallest free one no more than 12.5% larger, else a fresh one. It returns to the pool once
   * collected, and released by every thread it was posted to.
   */
  take(size: number): SharedArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.#free.length; i++) {
      const n = this.#free[i].sab.byteLength;
      if (n >= size && n <= size * BEST_FIT_SLACK) {
        if (best < 0 || n < this.#free[best].sab.byteLength) best = i;
      }
    }
    let m: Master;
    if (best >= 0) {
      m = this.#free[best];
      this.#free[best] = this.#free[this.#free.length - 1];
      this.#free.pop();
      this.#freeBytes -= m.sab.byteLength;
      this.stats.reused++;
    } else {
      m = { id: nextId++, sab: new SharedArrayBuffer(size), holds: 0 };
      this.#masters.set(m.id, m);
      this.stats.fresh++;
    }
    return this.#lend(m);
  }

  /** The pool id of a region this pool lent (or adopted), else undefined. */
  idOf(sab: ArrayBufferLike): number | undefined {
    return this.#ids.get(sab as SharedArrayBuffer);
  }

  /**
   * Tracks `sab`, another object over region `id` (a thread's result that aliases its input,
   * posted back): the region stays out of the pool while it lives. False when `id` is not a
   * region this pool has out (nothing to track).
   */
  adopt(sab: SharedArrayBuffer, id: number): boolean {
    const m = this.#masters.get(id);
    if (m === undefined || m.holds === 0 || sab.byteLength !== m.sab.byteLength) return false;
    if (this.#ids.get(sab) === id) return true;
    m.holds++;
    this.#ids.set(sab, id);
    this.#registry.register(sab, id);
    return true;
  }

  /** Threads got regions `ids` (one entry per object they received). */
  threadHeld(ids: Iterable<number>): void {
    for (const id of ids) {
      const m = this.#masters.get(id);
      if (m !== undefined) m.holds++;
    }
  }

  /** Threads dropped regions `ids` (as many entries as `threadHeld` had). */
  threadReleased(ids: Iterable<number>): void {
    for (const id of ids) this.#release(id);
  }

  /**
   * Drops free regions, largest first, until at least `bytes` are dropped or none is left, so the
   * collector can give their memory back. Returns the bytes dropped.
   */
  trim(bytes: number = Infinity): number {
    this.#free.sort((a, b) => a.sab.byteLength - b.sab.byteLength);
    let dropped = 0;
    while (dropped < bytes && this.#free.length > 0) {
      const m = this.#free.pop()!;
      this.#masters.delete(m.id);
      dropped += m.sab.byteLength;
    }
    this.#freeBytes -= dropped;
    return dropped;
  }

  /** Drops every free region; regions still out are dropped when they come back. */
  clear(): void {
    this.#closed = true;
    this.trim();
  }

  #lend(m: Master): SharedArrayBuffer {
    const lend = structuredClone(m.sab);
    m.holds++;
    this.#ids.set(lend, m.id);
    this.#registry.register(lend, m.id);
    return lend;
  }

  #release(id: number): void {
    const m = this.#masters.get(id);
    if (m === undefined || m.holds === 0 || --m.holds > 0) return;
    const n = m.sab.byteLength;
    if (this.#closed || this.#freeBytes + n > this.cap) {
      this.#masters.delete(id);
      return;
    }
    this.#free.push(m);
    this.#freeBytes += n;
  }
}

let installed: BufferPool | null = null;

/** Makes `pool` the one this process's large receive and read-back regions come from. */
export function installBufferPool(pool: BufferPool | null): void {
  installed = pool;
}

/** The pool installed in this process, if any. */
export function installedBufferPool(): BufferPool | null {
  return installed;
}

/**
 * A shared region of `size` bytes for frames: from the installed pool when there is one and
 * `size` is at least POOL_MIN, else fresh.
 */
export function sharedRegion(size: number): Uint8Array {
  if (installed === null || size < POOL_MIN) return new Uint8Array(new SharedArrayBuffer(size));
  return new Uint8Array(installed.take(size), 0, size);
}
