/**
 * A LocalCluster's options: what they mean, their defaults, and the checks `LocalCluster.start`
 * makes before it starts anything.
 *
 * @module
 */
import type { SchedulerOptions } from "../scheduler/scheduler.ts";
import { parseMemoryLimit } from "../worker/memory_limit.ts";
import { exposureWarning } from "../comm/exposure.ts";
import { checkListenerTls, type TlsOptions } from "../comm/tls_options.ts";
import { normalizeDashboardPrefix } from "../dashboard/prefix.ts";
import { configArgs } from "../worker/config.ts";
import {
  absoluteLocalDirectory,
  type CheckedMemoryOptions,
  checkMemoryOptions,
  type MemoryOptions,
} from "../worker/memory_config.ts";

/** Restarts of one worker (or the scheduler) allowed within the restart window (default). */
export const DEFAULT_MAX_RESTARTS = 5;
/** The restart-intensity window (ms, default). */
export const DEFAULT_RESTART_WINDOW = 60_000;

/**
 * LocalCluster options (all optional). The memory thresholds (`memoryTarget`, `memorySpill`,
 * `memoryPause`, `memoryTerminate`, `maxSpill`: MemoryOptions) apply to each worker, and each
 * worker makes its spill directory under `localDirectory` (a relative path is resolved against
 * the current directory when the cluster starts).
 */
export interface LocalClusterOptions extends MemoryOptions {
  /** Number of workers (default: cores, at least 1). */
  nWorkers?: number;
  /** Threads per worker (default: cores / nWorkers, at least 1). */
  threadsPerWorker?: number;
  /** Each worker in its own Deno process under a nanny (default true). */
  processes?: boolean;
  /**
   * Per worker: bytes, "2GiB", or "auto" (system memory / nWorkers); 0 or null (the default): no
   * limit, which turns every memory threshold off.
   */
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
  /** A path every dashboard route lives under, e.g. "/dask" for `/dask/status` (default none). */
  dashboardPrefix?: string;
  /**
   * With an `authToken`: whether every dashboard page needs it too (default false: the live
   * feed needs it, the read-only pages stay open).
   */
  dashboardToken?: boolean;
  /** Per-worker resources, e.g. { GPU: 1 }. */
  resources?: Record<string, number>;
  /** Quiet the cluster's logs and what tasks print. */
  silenceLogs?: boolean;
  /** A token every worker and client must present (give it to `Client.connect` too). */
  authToken?: string;
  /**
   * TLS on every listener: `cert` and `key` (PEM) for the scheduler's and the workers' ports,
   * `caCerts` (PEM) the CA they and clients trust. The addresses become tls://. Worker processes
   * get them in their environment. A Client connecting to this cluster object takes its CA.
   */
  tls?: TlsOptions;
  /** Root tasks a worker may hold per thread before the rest queue (Dask's 1.1; Infinity: off). */
  workerSaturation?: number;
  /** Worker deaths a task survives before it errs with KilledWorker (default 3). */
  allowedFailures?: number;
  /** Idle workers take not-yet-started tasks from busy ones (default true; Dask's work-stealing). */
  workStealing?: boolean;
  /**
   * The scheduler's WebSocket port, for clients that cannot open TCP (browsers, Deno Deploy,
   * `client/mod.ts`): 0 = any free port; null (default): no WebSocket listener. Its address is
   * `wsAddress`: ws://, or wss:// with `tls` (then it serves TLS alone).
   */
  wsPort?: number | null;
  /** Modules every worker imports (URLs or import-map names), also workers that join later. */
  preload?: (string | URL)[];
  /**
   * The deno.json (path or file URL) the worker processes run with, so that tasks import as this
   * program does. Default: the one that governs this program's main module (the first
   * deno.json or deno.jsonc up from its folder, as Deno finds it); give it when the program
   * was started with `--config`. With `processes: false` the workers share this process's.
   */
  config?: string | URL;
  /** Restarts of one worker allowed within `restartWindow` before its nanny gives up (default 5). */
  maxRestarts?: number;
  /** The restart-intensity window (ms, default 60 000). */
  restartWindow?: number;
  /** A worker not heard from for this long (ms) is removed (default 5 min, Dask's worker-ttl). */
  workerTtl?: number;
  /** How often workers send heartbeats (ms, default 1000). */
  heartbeatInterval?: number;
  /**
   * Whether the cluster holds this program open until it is closed (default false: as Dask's
   * finalizers close a forgotten cluster at exit, a program that ends without closing it closes
   * it, with a warning, and exits; its clients hold the program open while they wait for
   * results). Give true to keep serving other programs' clients until `close()`.
   */
  keepAlive?: boolean;
}

/** The options with the defaults that depend on the machine filled in. */
export type ClusterSettings =
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

/** What `LocalCluster.start` starts, from its options: checked, with defaults filled in. */
export interface ClusterPlan {
  nWorkers: number;
  /** Bytes per worker (0: no limit). */
  memoryLimit: number;
  /** Each worker's memory thresholds, checked, with their defaults, and its spill directory. */
  memory: CheckedMemoryOptions;
  settings: ClusterSettings;
  scheduler: SchedulerOptions;
}

/**
 * Checks `options` (TypeError naming the one that makes no sense) and fills in the defaults;
 * warns when the cluster is exposed beyond this machine without a token.
 */
export function planCluster(options: LocalClusterOptions): ClusterPlan {
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
  const wsPort = options.wsPort;
  if (wsPort != null && !(Number.isInteger(wsPort) && wsPort >= 0 && wsPort <= 65535)) {
    throw new TypeError(`wsPort must be a port number (0: any free port) or null, got ${wsPort}`);
  }
  for (const url of options.preload ?? []) {
    if (!URL.canParse(String(url))) {
      throw new TypeError(
        `preload: ${JSON.stringify(String(url))} is not an absolute module URL or import-map ` +
          `name; resolve a path with import.meta.resolve(...)`,
      );
    }
  }
  if (options.config !== undefined) configArgs(options.config); // throws if it is not a file
  const memoryLimit = parseMemoryLimit(options.memoryLimit, Math.max(1, nWorkers));
  const memory = absoluteLocalDirectory(checkMemoryOptions(options));
  if (options.tls !== undefined) checkListenerTls(options.tls);
  const warning = exposureWarning(options.host ?? "127.0.0.1", {
    who: wsPort == null ? "this LocalCluster" : "this LocalCluster (TCP and WebSocket)",
    authToken: options.authToken,
    tls: options.tls,
    fix: "Pass an authToken (and give it to clients).",
  });
  if (warning) console.warn(warning);
  const scheduler: SchedulerOptions = {
    keepAlive: options.keepAlive === true,
    host: options.host ?? "127.0.0.1",
    port: options.schedulerPort ?? 0,
    wsPort: wsPort ?? null,
    dashboardAddress: options.dashboardAddress === undefined ? ":8787" : options.dashboardAddress,
    dashboardPrefix: normalizeDashboardPrefix(options.dashboardPrefix),
    dashboardToken: options.dashboardToken,
    authToken: options.authToken,
    tls: options.tls,
    preload: options.preload?.map(String),
    workerTtl: options.workerTtl,
    config: {
      ...(options.workerSaturation !== undefined &&
        { workerSaturation: options.workerSaturation }),
      ...(options.allowedFailures !== undefined && { allowedFailures: options.allowedFailures }),
      ...(options.workStealing !== undefined && { workStealing: options.workStealing }),
    },
  };
  const settings = { ...options, processes: options.processes ?? true, threadsPerWorker };
  return { nWorkers, memoryLimit, memory, settings, scheduler };
}
