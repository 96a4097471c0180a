/** Waiting on many Futures: `wait` and `asCompleted`. */
import { CancelledError, TimeoutError } from "../core/errors.ts";
import { Future, keyStateOf } from "./future.ts";
import { waitOutsideSlot } from "../core/in_task.ts";

/** What `wait` resolves to: the Futures that settled and those that did not. */
export interface WaitResult<T = unknown> {
  /** The Futures that settled (finished, erred, cancelled or lost). */
  done: Set<Future<T>>;
  /** The Futures still pending. */
  notDone: Set<Future<T>>;
}

/** Options of `wait`. */
export interface WaitOptions {
  /** Milliseconds; past it `wait` rejects with TimeoutError. */
  timeout?: number;
  /** Resolve once every Future settled (default) or once the first one did. */
  returnWhen?: "ALL_COMPLETED" | "FIRST_COMPLETED";
}

/**
 * Waits until all (or the first of) the Futures settle; a task's error does not reject (look at
 * the Futures). Rejects with TimeoutError after `timeout` ms. Inside a task, the task gives its
 * thread slot back while it waits.
 *
 * @example Wait for the first, then for all
 * ```ts
 * import { Client, LocalCluster, wait } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 2 });
 * await using client = await Client.connect(cluster);
 * const sleep = (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms));
 * const futures = client.map(sleep, [10, 500, 1000]);
 * const first = await wait(futures, { returnWhen: "FIRST_COMPLETED" });
 * console.log(first.done.size >= 1); // true
 * const all = await wait(futures, { timeout: 30_000 });
 * console.log(all.done.size, all.notDone.size); // 3 0
 * ```
 */
export function wait<T>(
  futures: Iterable<Future<T>> | Future<T>,
  options: WaitOptions = {},
): Promise<WaitResult<T>> {
  const list = futures instanceof Future ? [futures] : [...futures];
  const first = options.returnWhen === "FIRST_COMPLETED";
  if (options.returnWhen && !first && options.returnWhen !== "ALL_COMPLETED") {
    throw new TypeError(`returnWhen must be "ALL_COMPLETED" or "FIRST_COMPLETED"`);
  }
  const split = (): WaitResult<T> => {
    const r: WaitResult<T> = { done: new Set(), notDone: new Set() };
    for (const f of list) (f.done() ? r.done : r.notDone).add(f);
    return r;
  };
  let left = 0;
  for (const f of list) if (!f.done()) left++;
  if (left === 0 || (first && left < list.length)) return Promise.resolve(split());
  // inside a task, the task gives its thread slot back while it waits
  return waitOutsideSlot(() =>
    new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let finished = false;
      const cbs: [Future<T>, () => void][] = [];
      const finish = (err?: Error) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        for (const [f, cb] of cbs) keyStateOf(f).offSettled(cb);
        if (err) reject(err);
        else resolve(split());
      };
      for (const f of list) {
        if (f.done()) continue;
        const cb = () => {
          if (first || --left === 0) finish();
        };
        cbs.push([f, cb]);
        keyStateOf(f).onSettled(cb);
      }
      if (options.timeout !== undefined) {
        timer = setTimeout(
          () =>
            finish(new TimeoutError(`wait: ${left} Futures not done after ${options.timeout} ms`)),
          options.timeout,
        );
      }
    })
  );
}

/** Options of `asCompleted`. */
export interface AsCompletedOptions {
  /**
   * Yield `[future, value]` pairs instead of Futures: a cancelled Future comes with its
   * CancelledError as the value; an erred one raises its error.
   */
  withResults?: boolean;
}

/** What `asCompleted(..., { withResults: true })` yields: a value, or why it was cancelled. */
export type CompletedPair<T> = [Future<T>, T | CancelledError];

/**
 * Yields Futures as they settle, in completion order (what `asCompleted` returns). Hand-written
 * (not an async generator), because a generator would await each yielded Future.
 */
export class AsCompleted<T = unknown>
  implements AsyncIterableIterator<Future<T> | CompletedPair<T>> {
  #ready: Future<T>[] = [];
  #head = 0;
  #pending = 0;
  #waiter: ((r: IteratorResult<Future<T> | CompletedPair<T>>) => void) | null = null;
  #waiterReject: ((e: unknown) => void) | null = null;

  /** Waits for `futures`; more can be added with `add`. */
  constructor(
    futures: Iterable<Future<T>> = [],
    /** Whether it yields `[future, value]` pairs. */
    readonly options: AsCompletedOptions = {},
  ) {
    for (const f of futures) this.add(f);
  }

  /** Adds a Future to wait for. */
  add(future: Future<T>): void {
    this.#pending++;
    future.addDoneCallback((f) => {
      this.#pending--;
      this.#ready.push(f);
      this.#wake();
    });
  }

  /** Futures not yet yielded. */
  count(): number {
    return this.#pending + this.#ready.length - this.#head;
  }

  /** Whether nothing is left to yield. */
  isEmpty(): boolean {
    return this.count() === 0;
  }

  #wake(): void {
    const w = this.#waiter, rej = this.#waiterReject;
    if (!w) return;
    this.#waiter = this.#waiterReject = null;
    this.#take().then(w, rej!);
  }

  async #take(): Promise<IteratorResult<Future<T> | CompletedPair<T>>> {
    const f = this.#ready[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    if (!this.options.withResults) return { value: f, done: false };
    // as Dask's: a cancelled Future is yielded with its CancelledError; an erred one raises
    if (f.status === "cancelled") {
      const why = await f.result().then(() => null, (e: unknown) => e);
      const e = why instanceof CancelledError ? why : new CancelledError(`${f.key} was cancelled`);
      return { value: [f, e], done: false };
    }
    return { value: [f, await f.result()], done: false };
  }

  /** The next settled Future (or `[future, value]`). */
  next(): Promise<IteratorResult<Future<T> | CompletedPair<T>>> {
    if (this.#head < this.#ready.length) return this.#take();
    if (this.#pending === 0) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#waiterReject = reject;
    });
  }

  /** Stops iterating. */
  return(): Promise<IteratorResult<Future<T> | CompletedPair<T>>> {
    return Promise.resolve({ value: undefined, done: true });
  }

  /** Itself: `for await (const f of asCompleted(futures))`. */
  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * Iterates Futures in the order they settle, as `[future, value]` pairs (the value is awaited;
 * a task's error rejects the iteration; a cancelled Future comes with its CancelledError as the
 * value). Futures can be added while iterating with `add`.
 *
 * @example Handle results as they arrive
 * ```ts
 * import { asCompleted, Client, LocalCluster } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 2 });
 * await using client = await Client.connect(cluster);
 * const sleep = (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms));
 * const results = asCompleted(client.map(sleep, [600, 10, 300]), { withResults: true });
 * let extra = true;
 * for await (const [future, ms] of results) {
 *   console.log(future.key, ms); // as they finish: 10, 5 (added meanwhile), 300, 600
 *   if (extra) results.add(client.submit(sleep, 5)); // added while iterating
 *   extra = false;
 * }
 * ```
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options: { withResults: true },
): AsCompletedIterator<CompletedPair<T>, T>;
/**
 * Iterates the Futures themselves in the order they settle (finished or not: look at
 * `future.status`). Futures can be added while iterating with `add`.
 *
 * @example Cancel the rest once one finished
 * ```ts
 * import { asCompleted, Client, LocalCluster } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 1 });
 * await using client = await Client.connect(cluster);
 * const sleep = (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms));
 * const futures = client.map(sleep, [10, 60_000]);
 * const it = asCompleted(futures);
 * const first = await it.next(); // the first Future to settle, not its value
 * console.log(first.value === futures[0], it.count()); // true 1
 * await client.cancel(futures[1]);
 * ```
 */
export function asCompleted<T>(
  futures?: Iterable<Future<T>>,
  options?: AsCompletedOptions,
): AsCompletedIterator<Future<T>, T>;
export function asCompleted<T>(
  futures: Iterable<Future<T>> = [],
  options: AsCompletedOptions = {},
): AsCompletedIterator<unknown, T> {
  return new AsCompleted(futures, options) as AsCompletedIterator<unknown, T>;
}

/** What asCompleted returns: an async iterator you can add Futures to. */
export interface AsCompletedIterator<Item, T> extends AsyncIterableIterator<Item> {
  /** Adds a Future to wait for. */
  add(future: Future<T>): void;
  /** Futures not yet yielded. */
  count(): number;
  /** Whether nothing is left to yield. */
  isEmpty(): boolean;
}
