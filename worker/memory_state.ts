/**
 * The memory decisions of a worker (Dask's `WorkerMemoryManager` and `SpillBuffer`): where each
 * value it holds is (in memory, on disk, on its way between them), which values spill and when,
 * and when the worker pauses. Pure: the effects (writing, reading and removing spill files, the
 * status, garbage collection, warnings) go out through a {@link MemoryOutbox}, their answers come
 * back as calls, and the time comes in as an argument. Every operation costs O(1), or O(1) per
 * value it spills.
 *
 * Values are kept encoded (a Payload), so a value's managed size is its `nbytes`.
 *
 * @module
 */
import type { MemoryConfig } from "../core/memory_config.ts";
import type { Payload } from "../comm/serialize.ts";
import { shouldPause } from "./memory_pause.ts";
import { checkMemoryIndexes, mayEvict, type MemoryEntry, type Where } from "./memory_entry.ts";
import { MemoryTotals } from "./memory_totals.ts";
import { spillSize } from "./spill_layout.ts";
import {
  maxSpillLine,
  type MemoryWarning,
  spillFailedLine,
  unmanagedHighLine,
  WarningRateLimit,
} from "./memory_warnings.ts";

export { MemoryBookError, type Where } from "./memory_entry.ts";
export type { MemoryWarning } from "./memory_warnings.ts";

/** The effects of a MemoryBook, done by the worker's actor; each names a spill file by its id. */
export interface MemoryOutbox {
  /** Write `p` to spill file `id`; answer with `written` or `writeFailed`. */
  spill(id: number, p: Payload): void;
  /** Read spill file `id` back; answer with `loaded` or `loadFailed`. */
  unspill(id: number): void;
  /** Remove spill file `id` (once its write ends, if one is under way); no answer. */
  discard(id: number): void;
  /** The worker pauses or runs again for memory; `rss`: its process memory now. */
  status(status: "running" | "paused", rss: number): void;
  /** Collect garbage now, so memory let go of returns to the system (the actor throttles it). */
  collect(): void;
  /** Log a warning line. */
  warn(kind: MemoryWarning, line: string): void;
}

/** Which value a write answer was for, and whether its task is to be reported on the answer. */
export interface WriteAnswer {
  /** The key of the value. */
  readonly key: string;
  /** It was put with `reportOnWrite` and written through (see {@link MemoryBook.put}). */
  readonly reportOnWrite: boolean;
}

/** How `put` stored a value: in memory, or in memory and written through to disk at once. */
export type Stored = "memory" | "write-through";

/**
 * The values a worker holds and their memory rules: a drop-in for a `Map<string, Payload>`
 * (`has`, `size`, `keys`, `peek`) that spills least recently used values past the target (of
 * managed bytes) and the spill threshold (of process memory, RSS), and pauses past the pause
 * threshold. With a limit of 0 it only stores values.
 */
export class MemoryBook {
  readonly #entries = new Map<string, MemoryEntry>();
  /** Unpinned values in memory that may spill, least recently used first. */
  readonly #lru = new Map<string, MemoryEntry>();
  /** Values with a spill file (written, or being written), by file id. */
  readonly #files = new Map<number, MemoryEntry>();
  readonly #warnings = new WarningRateLimit();
  readonly #totals = new MemoryTotals();
  #nextId = 1;
  #rss = 0;
  #now = 0;
  #paused = false;
  /** Spilling on process memory, from past the spill threshold until back under the target. */
  #rssSpilling = false;

  /** `config`: the worker's thresholds in bytes; `out`: where the effects go. */
  constructor(readonly config: MemoryConfig, readonly out: MemoryOutbox) {}

  /** Bytes of the values in memory (Dask's managed memory). */
  get managed(): number {
    return this.#totals.managed;
  }
  /** Bytes of the values only on disk. */
  get spilled(): number {
    return this.#totals.spilled;
  }
  /** Bytes of the spill files written (compared with `maxSpill`). */
  get diskBytes(): number {
    return this.#totals.diskBytes;
  }
  /** The process memory at the last `sample`. */
  get rss(): number {
    return this.#rss;
  }
  /** Paused for memory (by the last `sample`). */
  get paused(): boolean {
    return this.#paused;
  }
  /** How many values are held, wherever they are. */
  get size(): number {
    return this.#entries.size;
  }
  /** Whether a value is held under `key`, wherever it is. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }
  /** The keys of the values held. */
  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }
  /** Where the value of `key` is, or undefined if none is held. */
  where(key: string): Where | undefined {
    return this.#entries.get(key)?.where;
  }
  /** The encoded size of the value of `key`, wherever it is; undefined if none is held. */
  sizeOf(key: string): number | undefined {
    return this.#entries.get(key)?.nbytes;
  }
  /** The value of `key` if it is in memory; it does not count as a use. */
  peek(key: string): Payload | undefined {
    return this.#entries.get(key)?.payload ?? undefined;
  }

  /**
   * Holds `p` under `key` (replacing any value there) as the most recently used value. A value
   * over the target on its own (with room under `maxSpill`) is written through: kept in memory
   * and written at once, and with `reportOnWrite` the caller reports its task only on `written`
   * (and errs it on `writeFailed`), so that a write failure errs that task.
   */
  put(key: string, p: Payload, opts: { reportOnWrite?: boolean } = {}): Stored {
    this.drop(key);
    const e: MemoryEntry = {
      key,
      id: 0,
      nbytes: p.nbytes,
      diskBytes: 0,
      payload: p,
      where: "memory",
      pins: 0,
      noSpill: false,
      keep: false,
      reportOnWrite: false,
    };
    this.#entries.set(key, e);
    this.#totals.managed += e.nbytes;
    const target = this.config.target;
    let stored: Stored = "memory";
    if (target !== null && e.nbytes > target && this.#roomFor(p)) {
      e.keep = true;
      e.reportOnWrite = opts.reportOnWrite ?? false;
      this.#write(e);
      stored = "write-through";
    } else this.#lru.set(key, e);
    this.#spillToTarget();
    return stored;
  }

  /**
   * Pins the value of `key` for a reader and returns it; undefined while it is read back from
   * disk (a read starts if none is under way), and then `loaded` names it. Each acquire (answered
   * or not) takes one `release`. A pinned value never spills.
   */
  acquire(key: string): Payload | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    e.pins++;
    this.#lru.delete(key);
    if (e.where === "disk") {
      e.where = "reading";
      this.out.unspill(e.id);
    }
    return e.payload ?? undefined;
  }

  /** Unpins the value of `key`: once no reader holds it, it is the most recently used value (and
   * older values past the target may spill). */
  release(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined || e.pins === 0 || --e.pins > 0) return;
    if (mayEvict(e)) {
      this.#lru.set(key, e);
      this.#spillToTarget();
    }
  }

  /** Forgets the value of `key`, wherever it is, and discards its spill file. */
  drop(key: string): void {
    const e = this.#entries.get(key);
    if (e === undefined) return;
    this.#entries.delete(key);
    this.#lru.delete(key);
    this.#totals.dropped(e);
    if (e.id !== 0) {
      this.#files.delete(e.id);
      this.out.discard(e.id);
    }
  }

  /**
   * The memory monitor's tick: `rss`, the process memory now; `now`, the time in ms. Pauses or
   * resumes, spills on process memory, asks for garbage collection. The warnings are paced by the
   * `now` of the last tick, also those given between ticks (by `put`, `loaded`, `release`).
   */
  sample(rss: number, now: number): void {
    this.#rss = rss;
    this.#now = now;
    const config = this.config;
    if (config.limit === 0) return;
    const paused = shouldPause(config, rss, this.#paused);
    if (paused !== this.#paused) {
      this.#paused = paused;
      this.out.status(paused ? "paused" : "running", rss);
    }
    const overPause = config.pause !== null && rss > config.pause;
    const spilling = this.#spillOnRss(rss);
    if (overPause || (spilling && this.#totals.awaitingGc > 0)) this.out.collect();
  }

  /** Spill file `id` is written (`diskBytes` long). Null if the value was dropped meanwhile. */
  written(id: number, diskBytes: number): WriteAnswer | null {
    const e = this.#files.get(id);
    if (e === undefined || e.where !== "writing") return null;
    this.#totals.written(e, diskBytes);
    const answer = { key: e.key, reportOnWrite: e.reportOnWrite };
    e.reportOnWrite = false;
    if (e.keep || e.pins > 0) {
      e.where = "both";
      e.keep = false;
      if (mayEvict(e)) this.#lru.set(e.key, e);
      this.#spillToTarget();
    } else this.#totals.toDisk(e);
    return answer;
  }

  /**
   * Writing spill file `id` failed (`message`: why). The value stays in memory and does not spill
   * again until put anew, with a warning; but a value put with `reportOnWrite` is dropped (the
   * caller errs its task). Null if the value was dropped meanwhile.
   */
  writeFailed(id: number, message: string): WriteAnswer | null {
    const e = this.#files.get(id);
    if (e === undefined || e.where !== "writing") return null;
    this.#totals.writeEnded(e);
    this.#files.delete(id);
    e.id = 0;
    e.diskBytes = 0;
    e.keep = false;
    const answer = { key: e.key, reportOnWrite: e.reportOnWrite };
    if (e.reportOnWrite) {
      this.#entries.delete(e.key);
      this.#totals.letGo(e);
      return answer;
    }
    e.where = "memory";
    e.noSpill = true;
    this.out.warn("spill-failed", spillFailedLine(message));
    return answer;
  }

  /**
   * Spill file `id` is read back: the value is in memory again (its file stays as a clean copy)
   * and its readers may go on. Returns its key, or null if it was dropped meanwhile.
   */
  loaded(id: number, p: Payload): string | null {
    const e = this.#files.get(id);
    if (e === undefined || e.where !== "reading") return null;
    this.#totals.readBack(e, p);
    if (mayEvict(e)) this.#lru.set(e.key, e);
    this.#spillToTarget();
    return e.key;
  }

  /**
   * Reading spill file `id` back failed: the value is lost here and forgotten (its readers must
   * be told). Returns its key, or null if it was dropped meanwhile.
   */
  loadFailed(id: number): string | null {
    const e = this.#files.get(id);
    if (e === undefined || e.where !== "reading") return null;
    this.drop(e.key);
    return e.key;
  }

  /** Garbage was collected: the memory of values let go of is back. */
  collected(): void {
    this.#totals.awaitingGc = 0;
  }

  /** Throws a MemoryBookError naming the first value or counter that disagrees (for tests). */
  validate(): void {
    checkMemoryIndexes({
      entries: this.#entries,
      lru: this.#lru,
      files: this.#files,
      counters: this.#totals,
    });
  }

  /** Whether `p` fits under `maxSpill` next to the files written and being written; warns if not. */
  #roomFor(p: Payload): boolean {
    const max = this.config.maxSpill;
    if (max === null) return true;
    const used = this.#totals.diskInUse;
    if (used + spillSize(p) <= max) return true;
    this.#warn("max-spill", maxSpillLine(used, max));
    return false;
  }

  #write(e: MemoryEntry): void {
    e.id = this.#nextId++;
    e.where = "writing";
    e.diskBytes = spillSize(e.payload!);
    this.#totals.writeStarted(e);
    this.#files.set(e.id, e);
    this.out.spill(e.id, e.payload!);
  }

  /**
   * Moves the least recently used value `e` out of memory: a clean copy just lets go of its
   * payload, any other is written. False (and `e` stays) when `maxSpill` has no room for it.
   */
  #evict(e: MemoryEntry): boolean {
    if (e.where === "both") {
      this.#lru.delete(e.key);
      this.#totals.toDisk(e);
      return true;
    }
    if (!this.#roomFor(e.payload!)) return false;
    this.#lru.delete(e.key);
    this.#write(e);
    return true;
  }

  /** Spills the least recently used values while managed memory (less the values being written)
   * is over the target; the most recently used value stays, even alone over the target. */
  #spillToTarget(): void {
    const target = this.config.target;
    if (target === null) return;
    for (const e of this.#lru.values()) {
      if (this.#totals.managed - this.#totals.writingBytes <= target || this.#lru.size <= 1) return;
      if (!this.#evict(e)) return;
    }
  }

  /**
   * Spilling on process memory, with Dask's hysteresis: it starts past the spill threshold and
   * goes on, over ticks, until the process is back under the target (the spill threshold when the
   * target is off). Each tick spills, least recently used first and the newest included, the
   * bytes still over, less those being written or awaiting garbage collection, which are on their
   * way out. Returns whether it is spilling.
   */
  #spillOnRss(rss: number): boolean {
    const spill = this.config.spill;
    if (spill === null) return false;
    const stopAt = this.config.target ?? spill;
    if (rss > spill) this.#rssSpilling = true;
    if (rss <= stopAt) this.#rssSpilling = false;
    if (!this.#rssSpilling) return false;
    let need = rss - stopAt - this.#totals.writingBytes - this.#totals.awaitingGc;
    for (const e of this.#lru.values()) {
      if (need <= 0) return true;
      need -= e.nbytes;
      if (!this.#evict(e)) return true;
    }
    if (need > 0) {
      this.#warn(
        "unmanaged-high",
        unmanagedHighLine(Math.max(0, rss - this.#totals.managed), this.config.limit),
      );
    }
    return true;
  }

  #warn(kind: MemoryWarning, line: string): void {
    if (this.#warnings.allow(kind, this.#now)) this.out.warn(kind, line);
  }
}
