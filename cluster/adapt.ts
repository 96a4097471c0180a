/**
 * Adaptive scaling (Dask's `Adaptive`): every `interval` the cluster's work is measured and
 * the number of workers moved toward a target between `minimum` and `maximum` — up at once,
 * down only after the target stayed lower for `waitCount` intervals in a row, retiring idle
 * workers gracefully (their data copied to peers first).
 *
 * The target counts tasks, not expected seconds: each task that is processing, queued, or
 * waiting for a worker (no-worker) wants a thread, so the target is
 * `ceil(those tasks / threads per worker)`, clamped to [minimum, maximum]. Dask weighs by
 * expected duration and adds workers under memory pressure; dtask does neither yet.
 *
 * @module
 */
import { unrefTimer } from "../comm/unref.ts";

/** `cluster.adapt(options)`: the bounds and pace of adaptive scaling. */
export interface AdaptOptions {
  /** Fewest workers (default 0). */
  minimum?: number;
  /** Most workers (default Infinity). */
  maximum?: number;
  /** Milliseconds between two looks at the work (default 1000). */
  interval?: number;
  /** Intervals in a row the target must stay lower before workers are retired (default 3). */
  waitCount?: number;
}

/** What adaptive scaling sees of the cluster at one look. */
export interface AdaptState {
  /** Tasks that want a thread now: processing, queued, and waiting for a worker. */
  work: number;
  /** Threads of one worker. */
  threadsPerWorker: number;
  minimum: number;
  maximum: number;
}

/** One worker, as adaptive scaling chooses whom to retire. */
export interface AdaptWorker {
  address: string;
  /** Tasks processing on it. */
  processing: number;
  /** Bytes of values it holds (they move to peers when it retires). */
  nbytes: number;
}

/** The cluster as adaptive scaling drives it. */
export interface AdaptHost {
  /** Tasks that want a thread now. */
  work(): number;
  /** Threads of one worker. */
  readonly threadsPerWorker: number;
  /** The workers now (the ones starting count too: they are wanted already). */
  workers(): AdaptWorker[];
  /** Grows to `n` workers; resolves once they started. */
  scaleUp(n: number): Promise<void>;
  /** Retires these workers gracefully: their data moves to peers, then they stop. */
  retire(addresses: string[]): Promise<void>;
  /** Where to tell about a failed step (it is tried again at the next interval). */
  warn(text: string): void;
}

/** The running adaptive loop: `stop()` ends it (`cluster.close()` and `scale(n)` do too). */
export interface Adaptive {
  /** The options in force, defaults filled in. */
  readonly options: Required<AdaptOptions>;
  /** Ends the loop; resolves once a step in progress finished. */
  stop(): Promise<void>;
}

/**
 * The number of workers the work asks for: one thread per task that is processing, queued or
 * waiting for a worker, `threadsPerWorker` threads a worker, clamped to [minimum, maximum].
 *
 * @example
 * ```ts
 * adaptTarget({ work: 200, threadsPerWorker: 2, minimum: 1, maximum: 4 }); // 4
 * adaptTarget({ work: 0, threadsPerWorker: 2, minimum: 1, maximum: 4 }); // 1
 * ```
 */
export function adaptTarget(state: AdaptState): number {
  const wanted = Math.ceil(state.work / Math.max(1, state.threadsPerWorker));
  return Math.min(state.maximum, Math.max(state.minimum, wanted));
}

/**
 * Which workers to retire to come down to `target`: idle ones only (no task processing), those
 * holding the fewest bytes first, as Dask's `workers_to_close` prefers the cheapest to empty.
 */
export function workersToRetire(workers: AdaptWorker[], target: number): string[] {
  const excess = workers.length - target;
  if (excess <= 0) return [];
  return workers
    .filter((w) => w.processing === 0)
    .sort((a, b) => a.nbytes - b.nbytes)
    .slice(0, excess)
    .map((w) => w.address);
}

/** Checks the options (TypeError naming the one that makes no sense) and fills in defaults. */
export function checkAdaptOptions(options: AdaptOptions): Required<AdaptOptions> {
  const o = {
    minimum: options.minimum ?? 0,
    maximum: options.maximum ?? Infinity,
    interval: options.interval ?? 1000,
    waitCount: options.waitCount ?? 3,
  };
  if (!Number.isInteger(o.minimum) || o.minimum < 0) {
    throw new TypeError(`adapt: minimum must be a whole number >= 0, got ${o.minimum}`);
  }
  if (o.maximum !== Infinity && (!Number.isInteger(o.maximum) || o.maximum < o.minimum)) {
    throw new TypeError(
      `adapt: maximum must be a whole number >= minimum (${o.minimum}), got ${o.maximum}`,
    );
  }
  if (!(o.interval > 0)) {
    throw new TypeError(`adapt: interval must be a number of milliseconds > 0, got ${o.interval}`);
  }
  if (!Number.isInteger(o.waitCount) || o.waitCount < 1) {
    throw new TypeError(`adapt: waitCount must be a whole number >= 1, got ${o.waitCount}`);
  }
  return o;
}

/**
 * Starts the adaptive loop on `host`: a first step once `after` settled (the loop it replaces
 * stopped), then one every `interval`. Its timer does not keep the program alive.
 */
export function startAdaptive(
  host: AdaptHost,
  options: AdaptOptions,
  after: Promise<void> = Promise.resolve(),
): Adaptive {
  const o = checkAdaptOptions(options);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lowerInARow = 0;
  let step: Promise<void> = Promise.resolve();

  const once = async () => {
    const workers = host.workers();
    const target = adaptTarget({
      work: host.work(),
      threadsPerWorker: host.threadsPerWorker,
      minimum: o.minimum,
      maximum: o.maximum,
    });
    if (target > workers.length) {
      lowerInARow = 0;
      await host.scaleUp(target);
    } else if (target < workers.length) {
      if (++lowerInARow < o.waitCount) return;
      const leaving = workersToRetire(workers, target);
      if (leaving.length > 0) await host.retire(leaving);
      lowerInARow = 0;
    } else lowerInARow = 0;
  };

  /** One step (once the loop it replaces stopped), then the next is scheduled. */
  const run = () => {
    step = after.then(() => stopped ? undefined : once()).catch((e) =>
      host.warn(`adaptive scaling: a step failed (tried again): ${(e as Error)?.message ?? e}`)
    ).finally(schedule);
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      run();
    }, o.interval);
    unrefTimer(timer);
  };
  run();

  return {
    options: o,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await step;
    },
  };
}
