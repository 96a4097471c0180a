/**
 * Every default timeout and interval of dtask, in one place (as Dask's config keeps them under
 * `distributed.comm.timeouts`, `distributed.scheduler` and `distributed.worker`). All in ms.
 * Options of the Client, the Worker, the Scheduler and the CLIs override them where they say so.
 * Browser-safe.
 *
 * @module
 */

// ---------------------------------------------------------------- connecting

/**
 * How long to keep trying to reach a scheduler, and how long one handshake may take: 30 s,
 * Dask's `distributed.comm.timeouts.connect`. `Client.connect`'s `timeout`, a worker's
 * `connectTimeout` / `handshakeTimeout` and `--connect-timeout`.
 */
export const DEFAULT_CONNECT_TIMEOUT = 30_000;

/**
 * How long a connection accepted by a scheduler or a worker may take to say hello before it is
 * dropped: 10 s.
 */
export const ACCEPT_HELLO_TIMEOUT = 10_000;

/** How long a worker or client may take to open a connection to a peer worker: 10 s. */
export const PEER_CONNECT_TIMEOUT = 10_000;

/**
 * How long a client keeps trying to reconnect after its scheduler connection drops, before its
 * pending Futures fail: 30 s (`reconnectTimeout`; 0: never).
 */
export const DEFAULT_RECONNECT_TIMEOUT = 30_000;

/**
 * How long a connection may send nothing in the middle of a packet before it is dropped: 30 s,
 * as Dask's comm timeout (a transport's `stallTimeout`).
 */
export const DEFAULT_STALL_TIMEOUT = 30_000;

/**
 * How long a dtask port that answered an HTTP or TLS greeting keeps reading what its peer still
 * sends before it closes (so the answer is not lost to a reset): 1 s.
 */
export const GREETING_LINGER = 1000;

/**
 * How long closing a connection waits for its queued messages to be written before it drops
 * them: 10 s (a peer that stops reading must not hold its closer forever).
 */
export const DRAIN_TIMEOUT = 10_000;

// ---------------------------------------------------------------- liveness

/** How often a worker sends its scheduler a heartbeat: 1 s (`heartbeatInterval`). */
export const DEFAULT_HEARTBEAT_INTERVAL = 1000;

/**
 * A worker not heard from for this long is removed: 5 min, Dask's
 * `distributed.scheduler.worker-ttl` (`workerTtl`, `--worker-ttl`).
 */
export const DEFAULT_WORKER_TTL = 300_000;

/**
 * How long the scheduler keeps a dropped client's wanted keys, for it to reconnect and resume:
 * 30 s (the scheduler's `clientGrace`).
 */
export const CLIENT_GRACE = 30_000;

// ---------------------------------------------------------------- cluster operations

/**
 * How long `client.restart()`, the scheduler's `retireWorkers` and `waitForWorkers` wait for the
 * workers by default: 60 s.
 */
export const WORKERS_WAIT_TIMEOUT = 60_000;

/**
 * How long a task may wait in no-worker (no connected worker may run it: restricted to workers
 * that are not there, or needing resources nobody has) before the scheduler warns about it:
 * 5 s (the scheduler's `unrunnableWarning`).
 */
export const UNRUNNABLE_WARNING = 5_000;

/** How long a scatter waits for a worker to hold its data when none is connected: 30 s. */
export const SCATTER_WAIT_TIMEOUT = 30_000;

/**
 * How long a nanny gives its worker process to start and register: 60 s, or
 * NANNY_START_PAST_DEATH past the worker's death timeout when that is longer (`startTimeout`).
 * A worker has no death timeout unless given one (as Dask's `--death-timeout`).
 */
export const NANNY_START_TIMEOUT = 60_000;

/** How long past its death timeout a nanny's worker process may take to start: 30 s. */
export const NANNY_START_PAST_DEATH = 30_000;

/** How long a nanny tries to tell its scheduler how its worker's process ended (best effort): 5 s. */
export const EXIT_REPORT_TIMEOUT = 5000;

/** How long a process or thread gets to stop after being asked before it is killed: 3 s. */
export const STOP_GRACE = 3000;

/** How long the scheduler waits for a worker's part of a story (ms). */
export const WORKER_STORY_TIMEOUT = 5000;

/** How often a worker reads its process memory to pause or resume (ms; Dask's monitor-interval). */
export const MEMORY_MONITOR_INTERVAL = 100;

/**
 * The first wait before asking a busy worker (paused, already sending) for its values again,
 * doubled on each busy answer up to `BUSY_RETRY_MAX` (Dask's `retry_busy_worker_later`).
 */
export const BUSY_RETRY_FIRST = 150;

/** The longest wait before asking a busy worker again. */
export const BUSY_RETRY_MAX = 2000;

/** How long the scheduler waits for a worker's log lines (ms; `getWorkerLogs`, the dashboard). */
export const WORKER_LOGS_TIMEOUT = 5000;
