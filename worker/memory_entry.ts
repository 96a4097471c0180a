/**
 * One value in a worker's MemoryBook (where it is, its spill file, its readers), and the book's
 * invariants, checked in tests: each value's place agrees with its payload, its file and the LRU,
 * and each counter is the sum over the values. Pure.
 *
 * @module
 */
import { DtaskError } from "../core/errors.ts";
import type { Payload } from "../comm/serialize.ts";

/**
 * Where a value is: `memory`; `writing` (in memory, its spill file being written); `disk` (only
 * in its spill file); `reading` (on disk, being read back); `both` (in memory with a clean copy on
 * disk, so it spills again without a write).
 */
export type Where = "memory" | "writing" | "disk" | "reading" | "both";

/** One value held by a worker. */
export interface MemoryEntry {
  /** Its key. */
  readonly key: string;
  /** Its spill file, or 0 for none. */
  id: number;
  /** Its encoded size. */
  nbytes: number;
  /** Bytes of its spill file: as written, or as estimated (`spillSize`) while writing. */
  diskBytes: number;
  /** The value, when in memory. */
  payload: Payload | null;
  /** Where it is. */
  where: Where;
  /** Readers holding it in memory (inputs of tasks, replies being built). */
  pins: number;
  /** Its write failed: it is not chosen to spill again until put anew. */
  noSpill: boolean;
  /** Written through: it stays in memory once written. */
  keep: boolean;
  /** Its task is reported once its write-through ends. */
  reportOnWrite: boolean;
}

/** Whether `e` belongs in the LRU: in memory, unpinned, and allowed to spill. */
export function mayEvict(e: MemoryEntry): boolean {
  return e.pins === 0 && !e.noSpill && (e.where === "memory" || e.where === "both");
}

/** The book's counters and indexes disagree (a bug in the worker). */
export class MemoryBookError extends DtaskError {
  override name = "MemoryBookError";
}

/** A MemoryBook's indexes and counters, as the invariant check reads them. */
export interface MemoryIndexes {
  /** Values by key. */
  entries: ReadonlyMap<string, MemoryEntry>;
  /** Values that may spill, least recently used first. */
  lru: ReadonlyMap<string, MemoryEntry>;
  /** Values with a spill file, by file id. */
  files: ReadonlyMap<number, MemoryEntry>;
  /** The book's counters. */
  counters: {
    managed: number;
    spilled: number;
    diskBytes: number;
    writingBytes: number;
    writingDisk: number;
  };
}

/** Throws a MemoryBookError naming the first value or counter that disagrees. */
export function checkMemoryIndexes(b: MemoryIndexes): void {
  const sums = { managed: 0, spilled: 0, diskBytes: 0, writingBytes: 0, writingDisk: 0 };
  const fail = (what: string) => {
    throw new MemoryBookError(`memory book: ${what}`);
  };
  for (const [key, e] of b.entries) {
    if (e.key !== key) fail(`entry under '${key}' is for '${e.key}'`);
    const inMemory = e.where === "memory" || e.where === "writing" || e.where === "both";
    if ((e.payload !== null) !== inMemory) fail(`'${key}' is ${e.where}, payload ${!!e.payload}`);
    if (e.payload !== null && e.payload.nbytes !== e.nbytes) fail(`'${key}': nbytes`);
    if ((e.id !== 0) !== (e.where !== "memory")) fail(`'${key}' is ${e.where} with file ${e.id}`);
    if (e.id !== 0 && b.files.get(e.id) !== e) fail(`'${key}': file ${e.id} not indexed`);
    if (e.where === "disk" && e.pins > 0) fail(`'${key}' is pinned on disk`);
    if ((b.lru.get(key) === e) !== mayEvict(e)) fail(`'${key}': LRU membership`);
    if (e.keep && e.where !== "writing") fail(`'${key}' kept while ${e.where}`);
    if (e.payload !== null) sums.managed += e.nbytes;
    if (e.where === "disk" || e.where === "reading") sums.spilled += e.nbytes;
    if (e.where === "writing") {
      sums.writingDisk += e.diskBytes;
      if (!e.keep) sums.writingBytes += e.nbytes;
    } else if (e.id !== 0) sums.diskBytes += e.diskBytes;
  }
  for (const [key, e] of b.lru) if (b.entries.get(key) !== e) fail(`stale LRU entry '${key}'`);
  for (const [id, e] of b.files) {
    if (e.id !== id || b.entries.get(e.key) !== e) fail(`stale file ${id}`);
  }
  for (const [name, sum] of Object.entries(sums)) {
    const kept = b.counters[name as keyof typeof sums];
    if (kept !== sum) fail(`${name} is ${kept}, its values add up to ${sum}`);
  }
}
