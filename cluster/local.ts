/**
 * LocalCluster: a scheduler and workers on this machine, started in one line. It is the root
 * of the supervision tree: it supervises the scheduler (supervised.ts) and, through its worker
 * pool (worker_pool.ts), one nanny per worker. Its options are in local_options.ts.
 */
import { activity } from "../comm/activity.ts";
import { closeAtExit } from "./close_at_exit.ts";
import { Supervisor } from "../actor/supervisor.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { clusterCalls, schedulerState } from "../scheduler/internals.ts";
import {
  type ClusterPlan,
  DEFAULT_MAX_RESTARTS,
  DEFAULT_RESTART_WINDOW,
  type LocalClusterOptions,
  type LocalWorkerInfo,
  planCluster,
} from "./local_options.ts";
import { SchedulerChild } from "./supervised.ts";
import { clusterSummaryBundle, type DisplayBundle, workerTotals } from "../core/display_html.ts";
import { WorkerPool } from "./worker_pool.ts";
import { caCertsOf } from "../comm/tls_options.ts";
import { type Adaptive, type AdaptOptions, checkAdaptOptions, startAdaptive } from "./adapt.ts";

export type { LocalClusterOptions, LocalWorkerInfo } from "./local_options.ts";
export type { Adaptive, AdaptOptions } from "./adapt.ts";

/**
 * A scheduler plus workers on this machine (Dask's `LocalCluster`), supervised: a worker that
 * dies is restarted by its nanny, a scheduler that fails is replaced on the same addresses.
 * Start one with `LocalCluster.start`; closing it (`close()` or `await using`) leaves no
 * process, port, timer or temporary file behind.
 *
 * @example A cluster, a client, and scaling
 * ```ts
 * import { Client, LocalCluster } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 2, threadsPerWorker: 1 });
 * console.log(cluster.schedulerAddress, cluster.dashboardLink); // tcp://127.0.0.1:…, http://…
 * await using client = await Client.connect(cluster);
 * console.log(await client.submit((a: number, b: number) => a * b, 6, 7)); // 42
 * await cluster.scale(3);
 * console.log(cluster.workers.map((w) => w.address)); // three tcp:// addresses
 * ```
 */
export class LocalCluster {
  /** The scheduler's tcp:// address (tls:// with TLS). */
  readonly schedulerAddress: string;
  /** The scheduler's in-process address (clients in this process use it). */
  readonly inprocAddress: string;
  /** The scheduler's ws:// address (with the `wsPort` option; wss:// with `tls`), or null. */
  readonly wsAddress: string | null;
  /** With TLS: the CA certificates (PEM) its tls:// addresses need; a Client takes them. */
  readonly tls?: { readonly caCerts: string[] };
  /** The dashboard URL, or null. */
  readonly dashboardLink: string | null;
  /** Supervises the scheduler (the workers are in `#pool`, stopped first). */
  readonly #root: Supervisor;
  #schedulerChild: SchedulerChild;
  readonly #pool: WorkerPool;
  readonly #threadsPerWorker: number;
  readonly #log: (line: string) => void;
  #adaptive: Adaptive | null = null;
  #closing: Promise<void> | null = null;
  /** Stops closing it at the program's end (see close_at_exit.ts). */
  #unwatch: () => void = () => {};

  private constructor(
    child: SchedulerChild,
    root: Supervisor,
    plan: ClusterPlan,
  ) {
    const scheduler = child.scheduler!;
    const options = plan.settings;
    this.#schedulerChild = child;
    this.#root = root;
    this.schedulerAddress = scheduler.address;
    this.inprocAddress = scheduler.inprocAddress;
    this.wsAddress = scheduler.wsAddress;
    this.dashboardLink = scheduler.dashboardLink;
    if (options.tls) this.tls = { caCerts: caCertsOf(options.tls) };
    const log = options.silenceLogs ? () => {} : (l: string) => console.error(l);
    this.#log = log;
    this.#threadsPerWorker = options.threadsPerWorker;
    this.#pool = new WorkerPool({
      settings: options,
      memoryLimit: plan.memoryLimit,
      memory: plan.memory,
      scheduler: options.processes ? this.schedulerAddress : this.inprocAddress,
      onGiveUp: (name, text) => {
        log(`[cluster] ${text}`);
        clusterCalls(this.#scheduler).schedulerEvent("workers", text);
        clusterCalls(this.#scheduler).log("all", {
          action: "nanny-gave-up",
          worker: name,
          reason: text,
        });
      },
    });
    this.#adopt(child);
  }

  /** The scheduler running now (when one fails, a new one replaces it on the same addresses). */
  get scheduler(): Scheduler {
    return this.#schedulerChild.scheduler!;
  }

  get #scheduler(): Scheduler {
    return this.#schedulerChild.scheduler!;
  }

  /** Takes a (new) scheduler into use: the hooks it needs from the cluster. */
  #adopt(child: SchedulerChild): void {
    this.#schedulerChild = child;
    const scheduler = child.scheduler!;
    // the scheduler learns how a worker's process ended, for KilledWorker's message
    scheduler.exitStatusOf = (address) => this.#pool.takeExit(address);
  }

  /**
   * Starts a scheduler and `nWorkers` workers; resolves once every worker has registered.
   * Throws TypeError for options that make no sense (say which), and closes what it started
   * when a worker cannot start.
   *
   * @example Workers in this process, quiet, with no dashboard
   * ```ts
   * import { Client, LocalCluster } from "@x/dtask";
   *
   * await using cluster = await LocalCluster.start({
   *   nWorkers: 1,
   *   threadsPerWorker: 2,
   *   processes: false, // the workers' threads run in this process
   *   dashboardAddress: null,
   *   silenceLogs: true,
   * });
   * await using client = await Client.connect(cluster);
   * console.log(await client.nthreads()); // { "inproc://…": 2 }
   * ```
   */
  static start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    // held open while it starts: what it starts does not hold the program (keepAlive)
    return activity.during(LocalCluster.#start(options));
  }

  static async #start(options: LocalClusterOptions): Promise<LocalCluster> {
    const plan = planCluster(options);
    // the root of the tree supervises the scheduler; a replacement takes the last one's addresses
    let cluster: LocalCluster | null = null;
    let last: SchedulerChild | null = null;
    const log = options.silenceLogs ? () => {} : (l: string) => console.error(l);
    const root = new Supervisor({
      maxRestarts: options.maxRestarts ?? DEFAULT_MAX_RESTARTS,
      withinMs: options.restartWindow ?? DEFAULT_RESTART_WINDOW,
      onGiveUp: (_name, e) =>
        log(`[cluster] gave up restarting the scheduler: ${(e as Error)?.message ?? e}`),
      onEvent: (ev) => {
        if (ev.type === "failed") {
          log(`[cluster] the scheduler failed (${(ev.error as Error)?.message}); restarting it`);
        }
      },
    });
    await root.supervise("scheduler", () => {
      const opts = last ? last.pinned() : plan.scheduler;
      return last = new SchedulerChild(opts, (child) => {
        if (cluster) cluster.#adopt(child);
      });
    });
    cluster = new LocalCluster(last!, root, plan);
    try {
      await cluster.scale(plan.nWorkers);
    } catch (e) {
      await cluster.close();
      throw e;
    }
    if (options.keepAlive !== true) {
      const c = cluster;
      c.#unwatch = closeAtExit(c, () => c.#closing !== null);
    }
    return cluster;
  }

  /** The workers that are connected now. */
  get workers(): LocalWorkerInfo[] {
    return this.#scheduler.view().workers.map((w) => ({
      address: w.address,
      name: w.name,
      nthreads: w.nthreads,
      memoryLimit: w.memoryLimit,
      pid: this.#pidOf(w.address),
    }));
  }

  #pidOf(address: string): number {
    // what the worker itself said in its hello: right also before its nanny heard from it
    const pid = schedulerState(this.#scheduler).workers.get(address)?.info.pid;
    if (pid) return pid;
    return this.#pool.nannyPid(address) ?? Deno.pid;
  }

  /** Process ids of the worker processes (empty with processes: false). */
  get workerPids(): number[] {
    return this.#pool.pids;
  }

  /** How `console.log` shows it: scheduler, workers, threads and dashboard. */
  [Symbol.for("Deno.customInspect")](): string {
    let workers = 0, threads = 0;
    try {
      for (const w of this.workers) {
        workers++;
        threads += w.nthreads;
      }
    } catch { /* closed */ }
    return `LocalCluster { scheduler: ${JSON.stringify(this.schedulerAddress)}, workers: ` +
      `${workers}, threads: ${threads}, dashboard: ${JSON.stringify(this.dashboardLink)} }`;
  }

  /** How `deno jupyter` shows it: scheduler, dashboard link, workers, threads and memory. */
  [Symbol.for("Jupyter.display")](): DisplayBundle {
    let totals: ReturnType<typeof workerTotals> | null = null;
    if (this.#closing === null) {
      try {
        totals = workerTotals(this.workers);
      } catch { /* closed */ }
    }
    return clusterSummaryBundle({
      title: "LocalCluster",
      extra: [["Status", this.#closing === null ? "running" : "closed"]],
      schedulerAddress: this.schedulerAddress,
      dashboardLink: this.dashboardLink,
      ...(totals ?? { workers: 0, threads: 0, memoryLimit: 0 }),
    });
  }

  /** Grows or shrinks to `n` workers; stops adaptive scaling first, as in Dask. */
  scale(n: number): Promise<void> {
    return activity.during((async () => {
      await this.#stopAdapting();
      await this.#scaleTo(n);
    })());
  }

  async #scaleTo(n: number): Promise<void> {
    await this.#pool.scale(n);
    await this.#scheduler.waitForWorkers(n);
  }

  /**
   * Grows and shrinks with the work (Dask's `adapt`): every `interval` ms (default 1000) the
   * target is one thread per task processing, queued or waiting for a worker, within
   * [`minimum`, `maximum`]. It grows at once; it shrinks only after the target stayed lower for
   * `waitCount` intervals (default 3), retiring idle workers gracefully (data moved to peers
   * first). A new call replaces the last one; `scale(n)` and `close()` stop it.
   *
   * @example Between one and four workers
   * ```ts
   * import { Client, LocalCluster } from "@x/dtask";
   *
   * await using cluster = await LocalCluster.start({ nWorkers: 1, threadsPerWorker: 1 });
   * const adaptive = cluster.adapt({ minimum: 1, maximum: 4 });
   * await using client = await Client.connect(cluster);
   * const slow = async (x: number) => (await new Promise((r) => setTimeout(r, 50)), x);
   * await client.gather(client.map(slow, Array.from({ length: 200 }, (_, i) => i)));
   * await adaptive.stop();
   * ```
   */
  adapt(options: AdaptOptions = {}): Adaptive {
    checkAdaptOptions(options); // bad options leave the running loop as it is
    const previous = this.#stopAdapting();
    const scheduler = () => this.#scheduler;
    this.#adaptive = startAdaptive(
      {
        threadsPerWorker: this.#threadsPerWorker,
        work: () => {
          const c = schedulerState(scheduler()).counts;
          return c.processing + c.queued + c["no-worker"];
        },
        workers: () =>
          [...schedulerState(scheduler()).workers.values()].map((ws) => ({
            address: ws.address,
            processing: ws.processing.size,
            nbytes: ws.nbytes,
          })),
        scaleUp: (n) => activity.during(this.#scaleTo(n)),
        retire: (addresses) =>
          activity.during(this.#pool.retire(addresses, (a) => scheduler().retireWorkers(a))),
        warn: (text) => this.#log(`[cluster] ${text}`),
      },
      options,
      previous,
    );
    return this.#adaptive;
  }

  async #stopAdapting(): Promise<void> {
    const a = this.#adaptive;
    this.#adaptive = null;
    await a?.stop();
  }

  /** Stops every worker, then the scheduler. Idempotent; leaves no process, port or timer. */
  close(): Promise<void> {
    this.#closing ??= activity.closing((async () => {
      this.#unwatch();
      await this.#stopAdapting();
      await this.#pool.stop();
      await this.#root.stop();
      this.#pool.forgetExits();
    })());
    return this.#closing;
  }

  /** Closes on `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
