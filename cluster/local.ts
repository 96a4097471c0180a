/**
 * LocalCluster: a scheduler and workers on this machine, started in one line. It is the root
 * of the supervision tree: it supervises the scheduler and one nanny per worker.
 */
import { Supervisor } from "../actor/supervisor.ts";
import type { Supervisable } from "../actor/supervisor.ts";
import { Scheduler, type SchedulerOptions } from "../scheduler/scheduler.ts";
import { clusterCalls, schedulerState } from "../scheduler/internals.ts";
import { Nanny } from "../worker/nanny.ts";
import { Worker, type WorkerOptions } from "../worker/worker.ts";
import { parseMemoryLimit } from "../worker/memory_limit.ts";
import { EXIT_DONE, EXIT_RESTART } from "../worker/exit_codes.ts";
import { exposureWarning } from "../comm/exposure.ts";

/** LocalCluster options (all optional). */
export interface LocalClusterOptions {
  /** Number of workers (default: cores, at least 1). */
  nWorkers?: number;
  /** Threads per worker (default: cores / nWorkers, at least 1). */
  threadsPerWorker?: number;
  /** Each worker in its own Deno process under a nanny (default true). */
  processes?: boolean;
  /** Per worker: bytes, "2GiB", or "auto" (system memory / nWorkers). */
  memoryLimit?: number | string | null;
  /**
   * Host everything listens on (default 127.0.0.1). With 0.0.0.0 the scheduler and workers
   * advertise this machine's first non-loopback IPv4 address; without `authToken` it warns.
   */
  host?: string;
  /** Scheduler TCP port (default 0: any free port). */
  schedulerPort?: number;
  /** Dashboard `host:port` or `:port` (default ":8787"; a taken port falls back); null: none. */
  dashboardAddress?: string | null;
  /** Per-worker resources, e.g. { GPU: 1 }. */
  resources?: Record<string, number>;
  /** Quiet the cluster's logs and what tasks print. */
  silenceLogs?: boolean;
  /** A token every worker and client must present (give it to `Client.connect` too). */
  authToken?: string;
  /** Root tasks a worker may hold per thread before the rest queue (Dask's 1.1; Infinity: off). */
  workerSaturation?: number;
  /** Worker deaths a task survives before it errs with KilledWorker (default 3). */
  allowedFailures?: number;
  /** Idle workers take not-yet-started tasks from busy ones (default true; Dask's work-stealing). */
  workStealing?: boolean;
  /** WebSocket listener port (not supported yet: must be null/undefined). */
  wsPort?: number | null;
  /** Modules every worker imports (URLs or import-map names), also workers that join later. */
  preload?: (string | URL)[];
  /** Restarts of one worker allowed within `restartWindow` before its nanny gives up (default 5). */
  maxRestarts?: number;
  /** The restart-intensity window (ms, default 60 000). */
  restartWindow?: number;
  /** A worker not heard from for this long (ms) is removed (default 5 min, Dask's worker-ttl). */
  workerTtl?: number;
  /** How often workers send heartbeats (ms, default 1000). */
  heartbeatInterval?: number;
}

type ClusterSettings =
  & Required<Pick<LocalClusterOptions, "processes" | "threadsPerWorker">>
  & LocalClusterOptions;

/** One worker of the cluster, as `workers` lists it. */
export interface LocalWorkerInfo {
  /** Its address, which names it everywhere. */
  address: string;
  /** Its name within the cluster ("0", "1", …). */
  name: string;
  /** Its thread slots. */
  nthreads: number;
  /** Bytes of memory it may use (0: no limit). */
  memoryLimit: number;
  /** Its process id (processes: true), else this process's. */
  pid: number;
}

/** A worker living in this process (processes: false), supervisable like a nanny. */
class InprocessWorker implements Supervisable {
  worker: Worker | null = null;
  onFailure: ((e: unknown) => void) | undefined;
  onExit: (() => void) | undefined;
  #stopping = false;
  /** A restart asked for by `client.restart()`, in progress. */
  #renewing: Promise<void> | null = null;

  constructor(readonly options: WorkerOptions) {}

  async start(): Promise<void> {
    const w = await Worker.start(this.options);
    if (this.#stopping) return void await w.close("cluster closing"); // stopped meanwhile
    this.worker = w;
    w.closed.then((reason) => {
      if (this.#stopping) return;
      // told to stop for good (retired): not restarted, as a nanny's process exiting with 0;
      // asked to restart: a new worker, not a failure (no restart intensity)
      if (w.exitCode === EXIT_DONE) this.onExit?.();
      else if (w.exitCode === EXIT_RESTART) {
        this.#renewing = this.start().catch((e) => {
          if (!this.#stopping) this.onFailure?.(e);
        });
      } else this.onFailure?.(new Error(`worker ${w.address} closed: ${reason}`));
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#renewing;
    await this.worker?.close("cluster closing");
  }
}

/**
 * The scheduler as a supervised child. Its first start picks the addresses (a free port, the
 * dashboard's port, an inproc name); a replacement after a failure listens on the same ones, so
 * the workers (restarted by their nannies) and the clients (reconnecting) find it.
 */
class SchedulerChild implements Supervisable {
  scheduler: Scheduler | null = null;
  onFailure: ((e: unknown) => void) | undefined;
  onExit: (() => void) | undefined;
  #failed = false;

  constructor(readonly options: SchedulerOptions, readonly wire: (c: SchedulerChild) => void) {}

  async start(): Promise<void> {
    const s = await Scheduler.start(this.options);
    this.scheduler = s;
    s.onFailure = (e) => {
      this.#failed = true;
      this.onFailure?.(e);
    };
    this.wire(this);
  }

  stop(): Promise<void> {
    // stopped because it failed: a new one takes over, so workers and clients are kept
    return this.scheduler?.close({ replaced: this.#failed }) ?? Promise.resolve();
  }

  /** The options a replacement starts with: this one's addresses. */
  pinned(): SchedulerOptions {
    const s = this.scheduler!;
    const link = s.dashboardLink ? new URL(s.dashboardLink) : null;
    return {
      ...this.options,
      port: Number(new URL(s.address.replace(/^tcp:/, "http:")).port),
      inprocName: s.inprocAddress.slice("inproc://".length),
      dashboardAddress: link ? `${link.hostname}:${link.port}` : null,
    };
  }
}

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
  /** The scheduler's tcp:// address. */
  readonly schedulerAddress: string;
  /** The scheduler's in-process address (clients in this process use it). */
  readonly inprocAddress: string;
  /** The WebSocket address, or null. */
  readonly wsAddress: string | null = null;
  /** The dashboard URL, or null. */
  readonly dashboardLink: string | null;
  /** Supervises the scheduler (the workers' nannies are in `#supervisor`, stopped first). */
  readonly #root: Supervisor;
  #schedulerChild: SchedulerChild;
  readonly #supervisor: Supervisor;
  readonly #options: ClusterSettings;
  #memoryLimit: number;
  #seq = 0;
  #children: string[] = [];
  #closing: Promise<void> | null = null;
  /** How each worker process ended (or will), by address: the scheduler names it. */
  #exits = new Map<string, Promise<string>>();

  private constructor(
    child: SchedulerChild,
    root: Supervisor,
    options: ClusterSettings,
    memoryLimit: number,
  ) {
    const scheduler = child.scheduler!;
    this.#schedulerChild = child;
    this.#root = root;
    this.#options = options;
    this.#adopt(child);
    this.#memoryLimit = memoryLimit;
    this.schedulerAddress = scheduler.address;
    this.inprocAddress = scheduler.inprocAddress;
    this.dashboardLink = scheduler.dashboardLink;
    const log = options.silenceLogs ? () => {} : (l: string) => console.error(l);
    const maxRestarts = options.maxRestarts ?? 5;
    const window = options.restartWindow ?? 60_000;
    this.#supervisor = new Supervisor({
      maxRestarts,
      withinMs: window,
      onGiveUp: (name, e) => {
        const text = `gave up restarting worker ${JSON.stringify(name)}: it died more than ` +
          `${maxRestarts} times within ${window} ms (maxRestarts / restartWindow); last: ` +
          `${(e as Error)?.message ?? e}`;
        log(`[cluster] ${text}`);
        clusterCalls(this.#scheduler).schedulerEvent("workers", text);
        clusterCalls(this.#scheduler).log("all", {
          action: "nanny-gave-up",
          worker: name,
          reason: text,
        });
      },
    });
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
    scheduler.exitStatusOf = (address) => {
      const exit = this.#exits.get(address);
      this.#exits.delete(address);
      return exit;
    };
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
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    const cores = navigator.hardwareConcurrency || 1;
    const nWorkers = options.nWorkers ?? cores;
    if (!Number.isInteger(nWorkers) || nWorkers < 0) {
      throw new TypeError(`nWorkers must be a whole number >= 0, got ${options.nWorkers}`);
    }
    const threadsPerWorker = options.threadsPerWorker ??
      Math.max(1, Math.floor(cores / Math.max(1, nWorkers)));
    if (!Number.isInteger(threadsPerWorker) || threadsPerWorker < 1) {
      throw new TypeError(`threadsPerWorker must be a whole number >= 1, got ${threadsPerWorker}`);
    }
    if (options.wsPort != null) {
      throw new TypeError("wsPort: the WebSocket listener is not available yet; leave it null");
    }
    for (const url of options.preload ?? []) {
      if (!URL.canParse(String(url))) {
        throw new TypeError(
          `preload: ${JSON.stringify(String(url))} is not an absolute module URL or import-map ` +
            `name; resolve a path with import.meta.resolve(...)`,
        );
      }
    }
    const memoryLimit = parseMemoryLimit(options.memoryLimit, Math.max(1, nWorkers));
    const warning = exposureWarning(options.host ?? "127.0.0.1", {
      who: "this LocalCluster",
      authToken: options.authToken,
      fix: "Pass an authToken (and give it to clients).",
    });
    if (warning) console.warn(warning);
    const schedulerOptions: SchedulerOptions = {
      host: options.host ?? "127.0.0.1",
      port: options.schedulerPort ?? 0,
      dashboardAddress: options.dashboardAddress === undefined ? ":8787" : options.dashboardAddress,
      authToken: options.authToken,
      preload: options.preload?.map(String),
      workerTtl: options.workerTtl,
      config: {
        ...(options.workerSaturation !== undefined &&
          { workerSaturation: options.workerSaturation }),
        ...(options.allowedFailures !== undefined && { allowedFailures: options.allowedFailures }),
        ...(options.workStealing !== undefined && { workStealing: options.workStealing }),
      },
    };
    // the root of the tree supervises the scheduler; a replacement takes the last one's addresses
    let cluster: LocalCluster | null = null;
    let last: SchedulerChild | null = null;
    const log = options.silenceLogs ? () => {} : (l: string) => console.error(l);
    const root = new Supervisor({
      maxRestarts: options.maxRestarts ?? 5,
      withinMs: options.restartWindow ?? 60_000,
      onGiveUp: (_name, e) =>
        log(`[cluster] gave up restarting the scheduler: ${(e as Error)?.message ?? e}`),
      onEvent: (ev) => {
        if (ev.type === "failed") {
          log(`[cluster] the scheduler failed (${(ev.error as Error)?.message}); restarting it`);
        }
      },
    });
    await root.supervise("scheduler", () => {
      const opts = last ? last.pinned() : schedulerOptions;
      return last = new SchedulerChild(opts, (child) => {
        if (cluster) cluster.#adopt(child);
      });
    });
    cluster = new LocalCluster(
      last!,
      root,
      { ...options, processes: options.processes ?? true, threadsPerWorker },
      memoryLimit,
    );
    try {
      await cluster.scale(nWorkers);
    } catch (e) {
      await cluster.close();
      throw e;
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
    for (const name of this.#children) {
      const c = this.#supervisor.child(name);
      if (c instanceof Nanny && c.workerAddress === address) return c.pid;
    }
    return Deno.pid;
  }

  /** Process ids of the worker processes (empty with processes: false). */
  get workerPids(): number[] {
    const pids: number[] = [];
    for (const name of this.#children) {
      const c = this.#supervisor.child(name);
      // running only: a retired worker or one its nanny gave up on has no process
      if (c instanceof Nanny && c.pid && this.#supervisor.status(name) === "running") {
        pids.push(c.pid);
      }
    }
    return pids;
  }

  /** Grows or shrinks to `n` workers. */
  async scale(n: number): Promise<void> {
    const o = this.#options;
    // workers that ended for good (retired, or given up on) no longer count
    for (const name of [...this.#children]) {
      const st = this.#supervisor.status(name);
      if (st === "exited" || st === "failed" || st === "gave-up") {
        await this.#supervisor.stopChild(name);
        this.#children.splice(this.#children.indexOf(name), 1);
      }
    }
    while (this.#children.length > n) {
      const name = this.#children.pop()!;
      await this.#supervisor.stopChild(name);
    }
    const starting: Promise<unknown>[] = [];
    while (this.#children.length < n) {
      const name = `${this.#seq++}`;
      this.#children.push(name);
      const common = {
        scheduler: o.processes ? this.schedulerAddress : this.inprocAddress,
        nthreads: o.threadsPerWorker,
        name,
        memoryLimit: this.#memoryLimit,
        host: o.host ?? "127.0.0.1",
        authToken: o.authToken,
        silenceLogs: o.silenceLogs,
        resources: o.resources,
        heartbeatInterval: o.heartbeatInterval,
      };
      const onStarted = (address: string, exited: Promise<string>) => {
        this.#exits.set(address, exited);
        // bounded: entries the scheduler never asked for (expected exits) go oldest first
        if (this.#exits.size > 1000) this.#exits.delete(this.#exits.keys().next().value!);
      };
      // transient: a worker that exits cleanly (retired) is not restarted
      starting.push(this.#supervisor.supervise(
        name,
        () =>
          o.processes
            ? new Nanny({ ...common, onStarted })
            : new InprocessWorker({ ...common, inproc: true }),
        { restart: "transient" },
      ));
    }
    await Promise.all(starting);
    await this.#scheduler.waitForWorkers(n);
  }

  /** Stops every worker, then the scheduler. Idempotent; leaves no process, port or timer. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#supervisor.stop();
      await this.#root.stop();
      this.#exits.clear();
    })();
    return this.#closing;
  }

  /** Closes on `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
