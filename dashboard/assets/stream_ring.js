/**
 * The task stream's entries in a bounded ring of typed arrays: appending is O(entries), memory is
 * fixed, and when the ring is full the oldest entries are overwritten. Workers and colours are
 * interned to small numbers so that one entry is a few numbers, never an object.
 *
 * @module
 */

import { KIND_COLOURS, prefixColour } from "./palette.js";

/** Entries of the task stream, newest last, at most `capacity` of them. */
export class StreamRing {
  /** `capacity`: how many entries are kept at most. */
  constructor(capacity) {
    this.capacity = capacity;
    this.start = new Float64Array(capacity);
    this.stop = new Float64Array(capacity);
    this.worker = new Uint16Array(capacity);
    this.thread = new Uint16Array(capacity);
    this.colour = new Uint8Array(capacity);
    /** Index of the oldest entry, and how many there are. */
    this.first = 0;
    this.size = 0;
    /** Entries added ever: entry number `seq` (counted from 0) is at `indexOf(seq)`. */
    this.pushed = 0;
    /** Worker addresses by id, and each one's highest thread and latest stop seen. */
    this.workers = [];
    this.workerIds = new Map();
    this.maxThread = [];
    this.lastStop = [];
    /** Colour strings by id. */
    this.colours = [];
    this.colourIds = new Map();
    this.prefixColourIds = new Map();
    // Transfers and disk I/O first, so that they are drawn under the tasks that computed.
    for (const kind of [2, 3, 4]) this.colourId(KIND_COLOURS[kind]);
    this.erredColour = this.colourId(KIND_COLOURS[1]);
  }

  /** Colour ids in the order to draw them: errors last, on top of everything. */
  drawOrder() {
    const ids = [];
    for (let c = 0; c < this.colours.length; c++) if (c !== this.erredColour) ids.push(c);
    ids.push(this.erredColour);
    return ids;
  }

  /** Forgets every entry (a new snapshot replaces them); interned tables are kept. */
  clear() {
    this.first = 0;
    this.size = 0;
    this.pushed = 0;
    this.lastStop.fill(0);
  }

  /** The id of a worker address, interning it when new. */
  workerId(address) {
    let id = this.workerIds.get(address);
    if (id === undefined) {
      id = this.workers.length;
      this.workers.push(address);
      this.workerIds.set(address, id);
      this.maxThread.push(0);
      this.lastStop.push(0);
    }
    return id;
  }

  /**
   * Appends the entries of a feed message's columnar stream (times relative to its `origin`).
   * Returns how many were added.
   */
  add(stream) {
    const n = stream.start.length;
    if (n === 0) return 0;
    const workerIds = stream.workers.map((w) => this.workerId(w));
    const colourIds = stream.prefixes.map((p) => this.prefixColourId(p));
    const kindIds = KIND_COLOURS.map((c) => c === "" ? -1 : this.colourId(c));
    const cap = this.capacity;
    const origin = stream.origin ?? 0;
    for (let i = 0; i < n; i++) {
      const at = (this.first + this.size) % cap;
      const w = workerIds[stream.worker[i]];
      const t = stream.thread[i];
      const kind = stream.kind[i];
      const stop = origin + stream.stop[i];
      this.start[at] = origin + stream.start[i];
      this.stop[at] = stop;
      this.worker[at] = w;
      this.thread[at] = t;
      this.colour[at] = kind > 0 && kind < kindIds.length
        ? kindIds[kind]
        : colourIds[stream.prefix[i]];
      if (t > this.maxThread[w]) this.maxThread[w] = t;
      if (stop > this.lastStop[w]) this.lastStop[w] = stop;
      if (this.size < cap) this.size++;
      else this.first = (this.first + 1) % cap;
    }
    this.pushed += n;
    return n;
  }

  /** The number of the oldest entry kept. */
  get oldest() {
    return this.pushed - this.size;
  }

  /** Where entry number `seq` is in the arrays, or -1 when it is no longer (or not yet) kept. */
  indexOf(seq) {
    const k = seq - this.oldest;
    if (k < 0 || k >= this.size) return -1;
    const i = this.first + k;
    return i >= this.capacity ? i - this.capacity : i;
  }

  /** Drops the oldest entries that stopped before `time`; stops at the first one still wanted. */
  dropBefore(time) {
    while (this.size > 0 && this.stop[this.first] < time) {
      this.first = (this.first + 1) % this.capacity;
      this.size--;
    }
  }

  /** The colour id of a task prefix. */
  prefixColourId(prefix) {
    let id = this.prefixColourIds.get(prefix);
    if (id === undefined) {
      id = this.colourId(prefixColour(prefix));
      this.prefixColourIds.set(prefix, id);
    }
    return id;
  }

  /** The id of a colour string, interning it when new. */
  colourId(colour) {
    let id = this.colourIds.get(colour);
    if (id === undefined) {
      id = this.colours.length;
      this.colours.push(colour);
      this.colourIds.set(colour, id);
    }
    return id;
  }
}
