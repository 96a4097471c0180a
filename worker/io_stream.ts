/**
 * The worker's I/O stream: each fetch of values from a peer, each spill write and each read back
 * from disk, with its start and stop (ms since the epoch, the clock of task start and stop), its
 * bytes, its keys and the peer it came from. The actor records them as their answers arrive and
 * sends what piled up to the scheduler in one `io-stream` message per heartbeat (the scheduler's
 * task stream draws them as Dask's "transfer", "disk-write" and "disk-read" startstops). Bounded:
 * past its capacity the oldest entries are dropped.
 *
 * @module
 */
import type { IoStreamBatch } from "../comm/protocol.ts";

/** Entries kept at most between two sends. */
export const IO_STREAM_LENGTH = 10_000;

/** A bounded buffer of I/O entries, as columns, drained into one message at a time. */
export class IoStream {
  readonly #kind: Uint8Array;
  readonly #start: Float64Array;
  readonly #stop: Float64Array;
  readonly #nbytes: Float64Array;
  readonly #keys: Uint32Array;
  readonly #source: string[];
  #head = 0; // index of the oldest entry
  #size = 0;
  #dropped = 0;

  constructor(readonly capacity: number = IO_STREAM_LENGTH) {
    this.#kind = new Uint8Array(capacity);
    this.#start = new Float64Array(capacity);
    this.#stop = new Float64Array(capacity);
    this.#nbytes = new Float64Array(capacity);
    this.#keys = new Uint32Array(capacity);
    this.#source = new Array(capacity).fill("");
  }

  /** Entries waiting to be sent. */
  get size(): number {
    return this.#size;
  }

  /** Entries dropped ever because the buffer was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Records one I/O: `kind` (STREAM_TRANSFER, STREAM_DISK_WRITE or STREAM_DISK_READ) from `start` to `stop`
   * (ms since the epoch), `nbytes` moved, for `keys` values, from peer `source` ("" for disk).
   */
  add(
    kind: number,
    start: number,
    stop: number,
    nbytes: number,
    keys = 1,
    source = "",
  ): void {
    let i: number;
    if (this.#size < this.capacity) i = (this.#head + this.#size++) % this.capacity;
    else { // full: the oldest entry makes room
      i = this.#head;
      this.#head = (this.#head + 1) % this.capacity;
      this.#dropped++;
    }
    this.#kind[i] = kind;
    this.#start[i] = start;
    this.#stop[i] = Math.max(start, stop);
    this.#nbytes[i] = nbytes;
    this.#keys[i] = keys;
    this.#source[i] = source;
  }

  /** Every entry waiting, oldest first, as one message (null when none waits); empties it. */
  take(): IoStreamBatch | null {
    const n = this.#size;
    if (n === 0) return null;
    const batch: IoStreamBatch = {
      op: "io-stream",
      kind: new Array(n),
      start: new Array(n),
      stop: new Array(n),
      nbytes: new Array(n),
      keys: new Array(n),
      source: new Array(n),
    };
    for (let j = 0; j < n; j++) {
      const i = (this.#head + j) % this.capacity;
      batch.kind[j] = this.#kind[i];
      batch.start[j] = this.#start[i];
      batch.stop[j] = this.#stop[i];
      batch.nbytes[j] = this.#nbytes[i];
      batch.keys[j] = this.#keys[i];
      batch.source[j] = this.#source[i];
      this.#source[i] = "";
    }
    this.#head = 0;
    this.#size = 0;
    return batch;
  }
}
