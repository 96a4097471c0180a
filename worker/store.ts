/**
 * The disk half of a worker's spill: writes encoded values (`Payload`s) to files and reads them
 * back, with no decisions of its own (what to spill and when is the worker state's business).
 *
 * Each value is one file, `<id>.spill` = header | pad8 | frame0 | pad8 | frame1 | pad8 …, whose
 * layout (the header's and each frame's length) stays in memory, so the file has no prelude and
 * frames are written as they are: no copy, no msgpack, no fsync. A value read back has its header
 * in its own ArrayBuffer (msgpackr's TextDecoder rejects shared views) and its frames as views of
 * one region, a SharedArrayBuffer when large, so threads share it without a copy.
 *
 * The directory is made on the first write, so a worker that never spills never touches the
 * disk. At most {@link MAX_IN_FLIGHT} operations run at once, reads before writes and removals.
 *
 * @module
 */
import { SpillError } from "../core/errors.ts";
import { SHARED_MIN } from "../comm/limits.ts";
import { Payload } from "../comm/payload.ts";
import { sharedRegion } from "../comm/buffer_pool.ts";
import { alignSpill } from "./spill_layout.ts";
import { cleanStaleOnce, makeSpillDir, osMessage, spillBase, type SpillDir } from "./spill_dir.ts";

/** How many file operations a store runs at once. */
export const MAX_IN_FLIGHT = 4;

/** Options of a {@link SpillStore}. */
export interface SpillStoreOptions {
  /** The base of the spill directory; default `<TMPDIR or /tmp>/dtask-scratch`. */
  localDirectory?: string;
}

export { spillSize } from "./spill_layout.ts";

/** Where a value's bytes are in its file, and whether its write is done. */
interface Entry {
  readonly headerLen: number;
  readonly frameLens: number[];
  /** Settles (never rejects) when the write is over, written or not. */
  written: Promise<void>;
  /** Whether the write succeeded; false while it runs. */
  ok: boolean;
}

interface Operation {
  run(): Promise<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

const PAD = new Uint8Array(8);

/** A worker's spill files: write, read back and remove encoded values by numeric id. */
export class SpillStore {
  /** The directory under which this store makes its own `worker-*` directory. */
  readonly base: string;
  /** Bytes written to disk so far (padding included). */
  spillBytes = 0;
  /** Bytes read back from disk so far (padding included). */
  unspillBytes = 0;
  /** Seconds spent writing, summed over writes (not counting time queued). */
  spillSeconds = 0;
  /** Seconds spent reading back, summed over reads (not counting time queued). */
  unspillSeconds = 0;

  #dir: Promise<SpillDir> | undefined;
  #index = new Map<number, Entry>();
  #reads: Operation[] = [];
  #others: Operation[] = [];
  #running = new Set<Promise<unknown>>();
  #background = new Set<Promise<unknown>>();
  #closed = false;
  #closing: Promise<void> | undefined;

  /** `localDirectory`: the base of the spill directory (made, with its parents, when needed). */
  constructor(options: SpillStoreOptions = {}) {
    this.base = spillBase(options.localDirectory);
  }

  /** The store's own directory once made, else undefined. */
  get directory(): Promise<string | undefined> {
    return this.#dir?.then((d) => d.path, () => undefined) ?? Promise.resolve(undefined);
  }

  /** Operations running now (at most {@link MAX_IN_FLIGHT}). */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Removes dead workers' directories under the base in the background; `close` awaits it. */
  cleanStaleInBackground(): void {
    if (this.#closed) return;
    this.#track(cleanStaleOnce(this.base));
  }

  /**
   * Writes `p` as the value of `id` (a fresh id: ids are never reused) and resolves with the
   * bytes it takes on disk. Rejects with a SpillError naming the file (or the directory that
   * could not be made) and the OS's words; a failed write leaves no file behind.
   */
  write(id: number, p: Payload): Promise<number> {
    if (this.#closed) return Promise.reject(closedError("write", id));
    if (this.#index.has(id)) {
      return Promise.reject(new SpillError(`spill id ${id} is already written`));
    }
    const entry: Entry = {
      headerLen: p.header.byteLength,
      frameLens: p.frames.map((f) => f.byteLength),
      written: Promise.resolve(),
      ok: false,
    };
    this.#index.set(id, entry);
    const done = this.#withDir().then((dir) =>
      this.#enqueue(this.#others, () => this.#writeFile(dir.path, id, p))
    ).then((n) => {
      entry.ok = true;
      return n as number;
    }, (e) => {
      if (this.#index.get(id) === entry) this.#index.delete(id);
      throw e;
    });
    entry.written = done.then(() => {}, () => {});
    return done;
  }

  /**
   * Reads the value of `id` back (after its write, if that is still running). Rejects with a
   * SpillError when `id` was never written, failed to write or was removed, or the read fails.
   */
  async read(id: number): Promise<Payload> {
    const entry = this.#index.get(id);
    if (this.#closed) throw closedError("read", id);
    if (entry === undefined) throw missingError(id);
    await entry.written;
    if (!entry.ok || this.#index.get(id) !== entry) throw missingError(id);
    return await this.#enqueue(this.#reads, async () => {
      if (this.#index.get(id) !== entry) throw missingError(id);
      return await this.#readFile((await this.#dir!).path, id, entry);
    }) as Payload;
  }

  /**
   * Forgets `id` and deletes its file once its write is over. Reads of `id` from now on reject.
   * Resolves also for an unknown id; rejects only when the file cannot be deleted.
   */
  async remove(id: number): Promise<void> {
    const entry = this.#index.get(id);
    if (entry === undefined) return;
    this.#index.delete(id);
    await entry.written;
    if (!entry.ok || this.#closed) return;
    const path = `${(await this.#dir!).path}/${id}.spill`;
    await this.#enqueue(this.#others, async () => {
      try {
        await Deno.remove(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return;
        throw new SpillError(`removing spill file ${path} failed: ${osMessage(e)}`, { cause: e });
      }
    }).catch((e) => {
      if (!this.#closed) throw e; // the directory goes at close anyway
    });
  }

  /**
   * Drops queued operations (they reject), waits for running ones and the background sweep,
   * then deletes the directory and releases its lock. Idempotent.
   */
  close(): Promise<void> {
    return this.#closing ??= this.#shutdown();
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    const dropped = new SpillError("spill store closed");
    for (const op of [...this.#reads, ...this.#others]) op.reject(dropped);
    this.#reads = [];
    this.#others = [];
    while (this.#running.size + this.#background.size > 0) {
      await Promise.allSettled([...this.#running, ...this.#background]);
    }
    const dir = await this.#dir?.catch(() => undefined);
    this.#dir = undefined;
    this.#index.clear();
    if (dir === undefined) return;
    try {
      await Deno.remove(dir.path, { recursive: true }).catch(() => {});
    } finally {
      dir.lock.close();
    }
  }

  /** The directory, made on first use; after a failure the next write tries again. */
  #withDir(): Promise<SpillDir> {
    if (this.#dir === undefined) {
      const made = makeSpillDir(this.base);
      this.#dir = made;
      this.#track(made);
      made.catch(() => {
        if (this.#dir === made && !this.#closed) this.#dir = undefined;
      });
    }
    return this.#dir;
  }

  #track(p: Promise<unknown>): void {
    const settled = p.then(() => {}, () => {});
    this.#background.add(settled);
    settled.then(() => this.#background.delete(settled));
  }

  #enqueue(queue: Operation[], run: () => Promise<unknown>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new SpillError("spill store closed"));
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    queue.push({ run, resolve, reject });
    this.#pump();
    return promise;
  }

  #pump(): void {
    while (this.#running.size < MAX_IN_FLIGHT) {
      const op = this.#reads.shift() ?? this.#others.shift();
      if (op === undefined) return;
      const running: Promise<unknown> = op.run().then(op.resolve, op.reject).finally(() => {
        this.#running.delete(running);
        this.#pump();
      });
      this.#running.add(running);
    }
  }

  async #writeFile(dir: string, id: number, p: Payload): Promise<number> {
    const path = `${dir}/${id}.spill`;
    const start = performance.now();
    let file: Deno.FsFile | undefined;
    let bytes = 0;
    try {
      file = await Deno.open(path, { write: true, createNew: true });
      for (const part of [p.header, ...p.frames]) {
        await writeAll(file, part);
        const pad = -part.byteLength & 7;
        if (pad > 0) await writeAll(file, PAD.subarray(0, pad));
        bytes += part.byteLength + pad;
      }
    } catch (e) {
      file?.close();
      file = undefined;
      if (!(e instanceof Deno.errors.AlreadyExists)) await Deno.remove(path).catch(() => {});
      throw new SpillError(`writing spill file ${path} failed: ${osMessage(e)}`, { cause: e });
    } finally {
      file?.close();
    }
    this.spillBytes += bytes;
    this.spillSeconds += (performance.now() - start) / 1000;
    return bytes;
  }

  async #readFile(dir: string, id: number, entry: Entry): Promise<Payload> {
    const path = `${dir}/${id}.spill`;
    const start = performance.now();
    let file: Deno.FsFile | undefined;
    try {
      file = await Deno.open(path, { read: true });
      const header = new Uint8Array(new ArrayBuffer(entry.headerLen));
      await readAll(file, header);
      const frames: Uint8Array[] = [];
      let region = 0;
      for (const l of entry.frameLens) region += alignSpill(l);
      if (region > 0) {
        if (entry.headerLen % 8 !== 0) {
          await file.seek(alignSpill(entry.headerLen), Deno.SeekMode.Start);
        }
        // a large region comes warm from the process's buffer pool when it has one
        const mem = region >= SHARED_MIN ? sharedRegion(region) : new Uint8Array(region);
        await readAll(file, mem);
        let off = 0;
        for (const l of entry.frameLens) {
          frames.push(mem.subarray(off, off + l));
          off += alignSpill(l);
        }
      }
      this.unspillBytes += alignSpill(entry.headerLen) + region;
      this.unspillSeconds += (performance.now() - start) / 1000;
      return new Payload(header, frames);
    } catch (e) {
      throw new SpillError(`reading spill file ${path} failed: ${osMessage(e)}`, { cause: e });
    } finally {
      file?.close();
    }
  }
}

async function writeAll(file: Deno.FsFile, view: Uint8Array): Promise<void> {
  for (let off = 0; off < view.byteLength;) off += await file.write(view.subarray(off));
}

async function readAll(file: Deno.FsFile, view: Uint8Array): Promise<void> {
  for (let off = 0; off < view.byteLength;) {
    const n = await file.read(view.subarray(off));
    if (n === null) throw new Error(`the file ends ${view.byteLength - off} bytes early`);
    off += n;
  }
}

function missingError(id: number): SpillError {
  return new SpillError(`no spill file for id ${id}: it was never written, failed, or was removed`);
}

function closedError(what: string, id: number): SpillError {
  return new SpillError(`cannot ${what} spill id ${id}: the spill store is closed`);
}
