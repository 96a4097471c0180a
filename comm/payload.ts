/**
 * An encoded value — a msgpack header plus out-of-band frames — and the dependency marker
 * (`Ref`) values may hold. Browser-safe.
 *
 * @module
 */

/** Buffers of at least this many bytes travel as out-of-band frames, not inside the header. */
export const FRAME_THRESHOLD = 64 * 1024;

/** One encoded value: a msgpack header plus out-of-band binary frames. */
export class Payload {
  /** `header`: the msgpack bytes; `frames`: the large buffers, referenced from the header. */
  constructor(readonly header: Uint8Array, readonly frames: Uint8Array[]) {}
  /** Bytes of the header and every frame. */
  get nbytes(): number {
    let n = this.header.byteLength;
    for (const f of this.frames) n += f.byteLength;
    return n;
  }
}

/** A dependency marker: stands for the value stored under `key`. */
export class Ref {
  /** `key`: the key of the task or data this stands for. */
  constructor(readonly key: string) {}
}
