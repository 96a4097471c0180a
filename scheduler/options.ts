/** How a scheduler starts: its listeners, its peers' token, its knobs and its time limits. */
import type { SchedulerConfig } from "./state.ts";
import type { TlsOptions } from "../comm/tls_options.ts";

/** How a scheduler starts. */
export interface SchedulerOptions {
  /** Host to listen on (default 127.0.0.1). */
  host?: string;
  /**
   * Whether its listeners, connections, timers and dashboard hold the program open (default
   * true). A LocalCluster's scheduler says false: a program that forgot to close its cluster
   * ends once it has nothing left to do (its clients hold it open while they wait).
   */
  keepAlive?: boolean;
  /** The address peers are told to dial (see comm/contact_address.ts; default: the listener's). */
  contactAddress?: string;
  /** TCP port (0 = any free port). */
  port?: number;
  /**
   * WebSocket port for clients (0 = any free port; null/absent: no WebSocket listener). Its
   * address is the scheduler's `wsAddress`: ws://, or wss:// with `tls` (it serves TLS alone).
   */
  wsPort?: number | null;
  /** `host:port` or `:port` for the HTTP server; null for none. */
  dashboardAddress?: string | null;
  /**
   * A path every dashboard route lives under, e.g. "/dask" for `/dask/status` and `/dask/ws`
   * (behind a proxy); default none. A leading slash is added and a trailing one dropped.
   */
  dashboardPrefix?: string;
  /**
   * With an `authToken`: whether every dashboard page needs it too (default false: the live
   * feed needs it, the read-only pages stay open).
   */
  dashboardToken?: boolean;
  /** Token every peer must present. */
  authToken?: string;
  /**
   * TLS: its port speaks TLS alone, with `cert` and `key` (PEM), and its address is tls://.
   * Its workers and clients dial it trusting `caCerts`.
   */
  tls?: TlsOptions;
  /** Scheduling knobs. */
  config?: Partial<SchedulerConfig>;
  /** Where warnings go (default: stderr). */
  log?: (line: string) => void;
  /** Also log informational events (workers joining and leaving...). */
  verbose?: boolean;
  /** Modules every worker imports, also workers that join later (URLs or import-map names). */
  preload?: string[];
  /**
   * Entries its stimulus log keeps for `story()` (default 1000, Dask's
   * `admin.low-level-log-length`); the oldest go first.
   */
  transitionLogLength?: number;
  /** A worker not heard from for this long (ms) is removed (default 5 min, Dask's worker-ttl). */
  workerTtl?: number;
  /** How long a client that lost its connection keeps its wanted keys to reconnect (ms, 30 s). */
  clientGrace?: number;
  /** The name of its inproc:// address (default: a fresh one); a replacement reuses it. */
  inprocName?: string;
  /**
   * Warn (once per task) about a task no connected worker may run after it waited this long
   * (ms; default 5 s; Infinity: never).
   */
  unrunnableWarning?: number;
}
