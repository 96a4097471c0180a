/**
 * A MemoryBook's byte counts, and how each move of a value between memory and disk changes
 * them: the bytes in memory (managed), only on disk (spilled), in spill files written, and those
 * on their way out of memory (being written, or let go of and not yet garbage collected). The
 * moves that take a value out of memory or bring it back also set its place and payload, so that
 * the value and the counts change together. Pure.
 *
 * @module
 */
import type { Payload } from "../comm/serialize.ts";
import type { MemoryEntry } from "./memory_entry.ts";

/** The byte counts of a MemoryBook's values (each is the sum over its values; tests check it). */
export class MemoryTotals {
  /** Bytes of the values in memory (Dask's managed memory). */
  managed = 0;
  /** Bytes of the values only on disk. */
  spilled = 0;
  /** Bytes of the spill files written. */
  diskBytes = 0;
  /** Bytes of values being written that leave memory once written. */
  writingBytes = 0;
  /** Estimated file bytes of the writes under way. */
  writingDisk = 0;
  /** Bytes let go of (spilled or dropped) and not yet garbage collected. */
  awaitingGc = 0;

  /** Bytes of spill files written and being written (what `maxSpill` bounds). */
  get diskInUse(): number {
    return this.diskBytes + this.writingDisk;
  }

  /** `e` is forgotten, wherever it was: its bytes leave every count they were in. */
  dropped(e: MemoryEntry): void {
    if (e.payload !== null) this.letGo(e);
    if (e.where === "writing") this.writeEnded(e);
    else if (e.id !== 0) this.diskBytes -= e.diskBytes;
    if (e.where === "disk" || e.where === "reading") this.spilled -= e.nbytes;
  }

  /** `e`'s payload leaves memory without going to disk: its bytes await garbage collection. */
  letGo(e: MemoryEntry): void {
    this.managed -= e.nbytes;
    this.awaitingGc += e.nbytes;
  }

  /** `e`, with a spill file written, lets go of its payload: it is only on disk now. */
  toDisk(e: MemoryEntry): void {
    e.payload = null;
    e.where = "disk";
    this.letGo(e);
    this.spilled += e.nbytes;
  }

  /** `e`'s spill file is read back as `p`: it is in memory again, its file a clean copy. */
  readBack(e: MemoryEntry, p: Payload): void {
    this.spilled -= e.nbytes;
    e.nbytes = p.nbytes;
    e.payload = p;
    e.where = "both";
    this.managed += e.nbytes;
  }

  /** The write of `e` (its `diskBytes` estimated) starts. */
  writeStarted(e: MemoryEntry): void {
    this.writingDisk += e.diskBytes;
    if (!e.keep) this.writingBytes += e.nbytes;
  }

  /** The write of `e` ended (written, failed or dropped): it leaves the writing counts. */
  writeEnded(e: MemoryEntry): void {
    this.writingDisk -= e.diskBytes;
    if (!e.keep) this.writingBytes -= e.nbytes;
  }

  /** The write of `e` ended with a file of `diskBytes`. */
  written(e: MemoryEntry, diskBytes: number): void {
    this.writeEnded(e);
    e.diskBytes = diskBytes;
    this.diskBytes += diskBytes;
  }
}
