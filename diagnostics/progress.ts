/**
 * `progress(futures)` (Dask's `distributed.progress`): shows how many tasks of each prefix have
 * settled and resolves once all have. Counting takes each Future's done callback (O(1) per
 * completion, nothing asked of the scheduler). On a terminal the bars redraw in place at most
 * every `interval` ms; anywhere else plain lines, without escape codes. Uses Deno's stderr by
 * default, so it lives beside mod.ts, outside the browser-safe client.
 * @module
 */
import { futuresIn } from "../client/cancel.ts";
import { type Future, type KeyState, keyStateOf } from "../client/future.ts";
import { keyPrefix } from "../core/keys.ts";
import { barLines, plainLine, type PrefixCount, terminalFrame } from "./progress_view.ts";

/**
 * Where progress is written: Deno.stdout, Deno.stderr, or any object like them.
 *
 * @example Collect the lines in memory
 * ```ts
 * import type { ProgressStream } from "@x/dtask";
 *
 * const lines: string[] = [];
 * const stream: ProgressStream = {
 *   write: (bytes) => (lines.push(new TextDecoder().decode(bytes)), bytes.length),
 *   isTerminal: () => false, // plain lines such as `inc 200/200 100%`
 * };
 * ```
 */
export interface ProgressStream {
  /** Writes some of the bytes; says how many. */
  write(bytes: Uint8Array): Promise<number> | number;
  /** Whether it is a terminal: then bars redraw in place; otherwise plain lines. */
  isTerminal?(): boolean;
}

/**
 * Options of `progress`.
 *
 * @example Bars on stdout, redrawn at most 4 times a second
 * ```ts
 * import type { ProgressOptions } from "@x/dtask";
 *
 * const options: ProgressOptions = { stream: Deno.stdout, interval: 250 };
 * ```
 */
export interface ProgressOptions {
  /** Where to write (default Deno.stderr). */
  stream?: ProgressStream;
  /** On a terminal, the least time between two redraws (ms, default 100). */
  interval?: number;
}

/** Writes strings to a stream in order, each in full; keeps the first error. */
class OrderedWriter {
  #tail: Promise<void> = Promise.resolve();
  #error: unknown = null;
  readonly #encoder = new TextEncoder();

  constructor(readonly stream: ProgressStream) {}

  write(text: string): void {
    const bytes = this.#encoder.encode(text);
    this.#tail = this.#tail.then(async () => {
      if (this.#error !== null) return;
      try {
        for (let at = 0; at < bytes.length;) {
          const n = await this.stream.write(bytes.subarray(at));
          if (!(n > 0)) throw new Error(`the progress stream wrote ${n} bytes`);
          at += n;
        }
      } catch (e) {
        this.#error = e;
      }
    });
  }

  /** Resolves once everything written so far is out; rejects with a write's error. */
  async flushed(): Promise<void> {
    await this.#tail;
    if (this.#error !== null) throw this.#error;
  }
}

/** Each key once (two Futures of one key, or one Future passed twice, count once). */
function distinct(futures: Future[]): Future[] {
  const seen = new Set<KeyState>();
  return futures.filter((f) => {
    const ks = keyStateOf(f);
    if (seen.has(ks)) return false;
    seen.add(ks);
    return true;
  });
}

/**
 * Shows the progress of Futures (a Future, an iterable, or arrays and plain objects of them)
 * per task prefix, and resolves once every one has settled: finished, erred, cancelled or
 * lost all count as done, as in Dask. On a terminal: one bar per prefix, redrawn in place; on
 * a pipe or file: a line such as `inc 120/200 60%` each time a prefix gains 10%, and a final
 * line per prefix once all are done.
 *
 * @example Watch a map run
 * ```ts
 * import { Client, LocalCluster, progress } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 2 });
 * await using client = await Client.connect(cluster);
 * const slowinc = async (x: number) => {
 *   await new Promise((r) => setTimeout(r, 10));
 *   return x + 1;
 * };
 * const futures = client.map(slowinc, Array.from({ length: 100 }, (_, i) => i));
 * await progress(futures); // on stderr: slowinc [####…] 100/100 100% | 0.6s
 * console.log((await client.gather(futures)).length); // 100
 * ```
 */
export async function progress(futures: unknown, options: ProgressOptions = {}): Promise<void> {
  const stream = options.stream ?? Deno.stderr;
  if (typeof stream?.write !== "function") {
    throw new TypeError("progress: `stream` must have a write(bytes) method, as Deno.stderr has");
  }
  const interval = options.interval ?? 100;
  if (!(interval >= 0)) {
    throw new TypeError(`progress: \`interval\` must be a number of ms, got ${interval}`);
  }
  const list = distinct(futuresIn(futures));
  if (list.length === 0) return;
  const terminal = stream.isTerminal?.() === true;
  const counts = new Map<string, PrefixCount>();
  const prefixOf = list.map((f) => {
    const prefix = keyPrefix(f.key);
    let c = counts.get(prefix);
    if (!c) counts.set(prefix, c = { prefix, total: 0, done: 0, erred: 0, finishedAt: null });
    c.total++;
    return c;
  });
  const out = new OrderedWriter(stream);
  const start = performance.now();
  const printed = new Map<PrefixCount, number>();
  let remaining = list.length;
  let changed = true;
  const all = Promise.withResolvers<void>();

  const settled = (c: PrefixCount, f: Future) => {
    c.done++;
    if (f.status === "error") c.erred++;
    if (c.done === c.total) c.finishedAt = performance.now() - start;
    changed = true;
    if (!terminal && c.done < c.total && (c.done - (printed.get(c) ?? 0)) * 10 >= c.total) {
      printed.set(c, c.done);
      out.write(`${plainLine(c)}\n`);
    }
    if (--remaining === 0) all.resolve();
  };
  list.forEach((f, i) => f.addDoneCallback(() => settled(prefixOf[i], f)));

  let frameLines = 0;
  const redraw = () => {
    if (!changed) return;
    changed = false;
    const lines = barLines([...counts.values()], performance.now() - start);
    out.write(terminalFrame(lines, frameLines));
    frameLines = lines.length;
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  if (terminal) {
    redraw();
    if (remaining > 0) timer = setInterval(redraw, interval);
  }
  try {
    await all.promise;
  } finally {
    clearInterval(timer);
  }
  if (terminal) {
    changed = true;
    redraw();
  } else {
    for (const c of counts.values()) out.write(`${plainLine(c)}\n`);
  }
  await out.flushed();
}
