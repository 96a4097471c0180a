/**
 * Where the scheduler keeps tasks' encoded arguments: small ones are copied side by side into
 * shared 16 KiB chunks, so a waiting task costs its bytes, not a typed array of its own (~100 B)
 * plus the whole received packet its view would keep alive.
 */

/** Bytes per chunk. */
const CHUNK = 16 * 1024;

/** Arguments up to this size go into a chunk; larger ones get a buffer of their own. */
export const SLAB_MAX = 1024;

/** An append-only arena of small byte strings; a chunk is freed when nothing points into it. */
export class ArgSlab {
  /** The chunk being filled; `copy` returns offsets into it. */
  chunk: Uint8Array = new Uint8Array(CHUNK);
  #used = 0;

  /** Copies `bytes` (at most SLAB_MAX) into `chunk` (a fresh one when full); returns the offset. */
  copy(bytes: Uint8Array): number {
    return this.copyRange(bytes, 0, bytes.length);
  }

  /** Copies `src[start..end)` (at most SLAB_MAX bytes) like `copy`, without a view of it. */
  copyRange(src: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n > CHUNK - this.#used) {
      this.chunk = new Uint8Array(CHUNK);
      this.#used = 0;
    }
    const at = this.#used;
    const chunk = this.chunk;
    // a loop, not set(subarray): short copies are faster, and no view is made
    for (let i = 0; i < n; i++) chunk[at + i] = src[start + i];
    this.#used = at + n;
    return at;
  }
}
