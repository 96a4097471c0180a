/**
 * Keeps one of a worker command's workers going: starts it, retries a failed start with
 * backoff, starts it again when it dies or loses its scheduler, and gives up once the scheduler
 * has been unreachable for longer than the death timeout (Dask's `--death-timeout`). Each worker
 * of a command has its own keeper, so one that cannot start leaves the others alone. Stopping a
 * keeper ends whatever it is doing at once: a start, a wait between attempts, a running worker.
 *
 * @module
 */
import { Backoff, type BackoffOptions, pause } from "../core/backoff.ts";
import { schedulerGoneMessage } from "./register.ts";

/** How a kept worker ended on its own. */
export type WorkerEnd =
  /** Closed for good (retired, its scheduler closed): not started again. */
  | "done"
  /** Asked to restart (`client.restart()`): started again at once. */
  | "restart"
  /** Died or lost its scheduler: started again after a backoff. */
  | { lost: string };

/** One started worker, as its keeper sees it. */
export interface KeptWorker {
  /** Its address. */
  readonly address: string;
  /** Its process id, when it has a process of its own. */
  readonly pid?: number;
  /** Resolves once it has ended on its own (not when stopped). */
  readonly ended: Promise<WorkerEnd>;
  /** Stops it and releases what it holds; idempotent. */
  stop(): Promise<void>;
}

/** What a keeper starts and how patiently. */
export interface KeeperOptions {
  /** The worker's name in log lines. */
  name: string;
  /** The scheduler's address, for log lines. */
  scheduler: string;
  /**
   * Starts the worker. `deathTimeout` is what is left of the keeper's (undefined: no limit);
   * when `signal` aborts, the start must end at once, releasing what it opened.
   */
  start: (o: { deathTimeout?: number; signal: AbortSignal }) => Promise<KeptWorker>;
  /** Give up when no start succeeds for this long after the worker was lost (ms). */
  deathTimeout?: number;
  /** Delays between attempts (default 200 ms doubling to 5 s, with jitter). */
  backoff?: BackoffOptions;
  /** Where its lines go. */
  log: (line: string) => void;
  /** Called after each successful start. */
  onStarted?: (worker: KeptWorker) => void;
}

/** How a keeper finished: its worker closed for good, it gave up, or it was stopped. */
export type KeeperOutcome = "done" | "scheduler-gone" | "stopped";

/** Keeps one worker going until it closes for good, the death timeout passes, or `stop()`. */
export class WorkerKeeper {
  /** Resolves once the keeper has finished (never rejects). */
  readonly outcome: Promise<KeeperOutcome>;
  #abort = new AbortController();
  #current: KeptWorker | null = null;

  /** Starts keeping at once. */
  constructor(readonly options: KeeperOptions) {
    this.outcome = this.#run();
  }

  /** Stops the worker (or its start, or the wait for the next one); resolves when finished. */
  stop(): Promise<KeeperOutcome> {
    this.#abort.abort();
    void this.#current?.stop();
    return this.outcome;
  }

  async #run(): Promise<KeeperOutcome> {
    const o = this.options;
    const signal = this.#abort.signal;
    const stopped = new Promise<"stopped">((resolve) => {
      signal.addEventListener("abort", () => resolve("stopped"), { once: true });
    });
    const backoff = new Backoff({ initial: 200, max: 5000, ...o.backoff });
    const death = o.deathTimeout;
    let lostAt = Date.now();
    const left = () => death === undefined ? Infinity : death - (Date.now() - lostAt);
    const wait = async (ms: number) => void await pause(Math.min(ms, left()), signal);
    while (!signal.aborted) {
      if (left() <= 0) {
        o.log(schedulerGoneMessage(o.name, o.scheduler, death!, "--death-timeout"));
        return "scheduler-gone";
      }
      let worker: KeptWorker;
      try {
        worker = await o.start({ deathTimeout: death === undefined ? undefined : left(), signal });
      } catch (e) {
        if (signal.aborted) break;
        if (left() <= 0) continue; // the top of the loop says so
        const ms = backoff.next();
        o.log(`Worker ${o.name} could not start: ${message(e)}; trying again in ${ms} ms`);
        await wait(ms);
        continue;
      }
      this.#current = worker;
      if (signal.aborted) {
        await worker.stop();
        break;
      }
      const startedAt = Date.now();
      o.onStarted?.(worker);
      const end = await Promise.race([worker.ended, stopped]);
      this.#current = null;
      await worker.stop();
      if (end === "stopped") break;
      if (end === "done") return "done";
      lostAt = Date.now();
      if (end === "restart") continue;
      if (Date.now() - startedAt > (backoff.options.max ?? 0)) backoff.reset(); // it ran a while
      const ms = backoff.next();
      o.log(`Worker ${o.name}: ${end.lost}; starting it again in ${ms} ms`);
      await wait(ms);
    }
    return "stopped";
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
