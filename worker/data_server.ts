/**
 * How a worker answers peers' `get-data` (other workers fetching dependencies, clients
 * gathering): values in memory at once, spilled ones once read back, in batches of bounded size
 * (the keys past a batch are named for another request), and `busy` from a paused worker that is
 * already sending (Dask's throttle: one transfer at a time out of a paused worker). Pure: it
 * pins the values it sends in the worker's MemoryBook until its answer is handed out.
 *
 * @module
 */
import type { Payload } from "../comm/serialize.ts";
import type { MemoryBook } from "./memory_state.ts";

/**
 * Bytes one answer may carry: a value that would take it past this waits for another request
 * (at least one value is always sent).
 */
export const SERVE_BATCH_MIN = 32 * 2 ** 20;

/** Of the memory limit, what one answer may carry when that is more than SERVE_BATCH_MIN. */
export const SERVE_BATCH_FRACTION = 0.1;

/** The answer to one `get-data`: values (and the keys left for another request), or busy. */
export type ServedData =
  | { values: Record<string, Payload>; more?: string[] }
  | { busy: true };

/** One `get-data` being answered: the values gathered, and how many are still on their way. */
interface Serving {
  readonly req: number;
  readonly values: Record<string, Payload>;
  readonly more: string[];
  /** Keys pinned for it, released once it is answered. */
  readonly pinned: string[];
  pending: number;
}

/** Answers peers' requests for values, from memory and from disk. */
export class DataServer {
  /** Servings waiting for values read back from disk, by key. */
  readonly #waiting = new Map<string, Serving[]>();
  readonly #batch: number;

  /** `limit`: the worker's memory limit (0: none, and no batches); `send`: where answers go. */
  constructor(
    private readonly data: MemoryBook,
    limit: number,
    private readonly send: (req: number, answer: ServedData) => void,
  ) {
    this.#batch = limit > 0 ? Math.max(SERVE_BATCH_MIN, SERVE_BATCH_FRACTION * limit) : Infinity;
  }

  /** Request `req` asks for `keys`; `busy`: the worker is paused and already sending. */
  serve(req: number, keys: readonly string[], busy: boolean): void {
    if (busy) return this.send(req, { busy: true });
    const s: Serving = { req, values: {}, more: [], pinned: [], pending: 0 };
    let bytes = 0;
    for (const k of keys) {
      const n = this.data.sizeOf(k);
      if (n === undefined) continue; // not held here: absent from the answer
      if (s.pinned.length && bytes + n > this.#batch) {
        s.more.push(k);
        continue;
      }
      bytes += n;
      s.pinned.push(k);
      const p = this.data.acquire(k);
      if (p !== undefined) s.values[k] = p;
      else {
        s.pending++;
        const w = this.#waiting.get(k);
        if (w) w.push(s);
        else this.#waiting.set(k, [s]);
      }
    }
    if (s.pending === 0) this.#answer(s);
  }

  /** The value of `key` is back in memory: the servings waiting for it take it. */
  loaded(key: string): void {
    const waiting = this.#waiting.get(key);
    if (!waiting) return;
    this.#waiting.delete(key);
    const p = this.data.peek(key)!;
    for (const s of waiting) {
      s.values[key] = p;
      if (--s.pending === 0) this.#answer(s);
    }
  }

  /**
   * The value of `key` could not be read back, or was dropped while it was: it is absent from the
   * answers waiting for it.
   */
  lost(key: string): void {
    const waiting = this.#waiting.get(key);
    if (!waiting) return;
    this.#waiting.delete(key);
    for (const s of waiting) if (--s.pending === 0) this.#answer(s);
  }

  #answer(s: Serving): void {
    this.send(s.req, s.more.length ? { values: s.values, more: s.more } : { values: s.values });
    for (const k of s.pinned) this.data.release(k);
  }
}
