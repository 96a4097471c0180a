/**
 * How a nanny starts its worker process: its options, and the command line made of them. The
 * auth token and the TLS key are not on it: a command line is public (`ps`); they travel in the
 * environment.
 *
 * @module
 */
import { AUTH_TOKEN_ENV } from "../comm/auth_token.ts";
import { tlsEnv } from "../comm/tls_files.ts";
import type { TlsOptions } from "../comm/tls_options.ts";
import { configArgs } from "./config.ts";
import { memoryFlags, type MemoryOptions } from "./memory_config.ts";

/**
 * How the nanny starts its worker process. The memory thresholds (MemoryOptions, fractions of
 * `memoryLimit`) go to the worker process as flags; they are checked there. The nanny itself
 * restarts the process past `memoryTerminate` (read from its RSS).
 */
export interface NannyOptions extends MemoryOptions {
  /** The scheduler's address. */
  scheduler: string;
  /** The worker's thread slots. */
  nthreads: number;
  /** The worker's name (default: its address). */
  name?: string;
  /** Bytes of memory the worker may use (0 or absent: no limit). */
  memoryLimit?: number;
  /** Host the worker listens on (default 127.0.0.1). */
  host?: string;
  /** The address the worker advertises to peers (see WorkerOptions.contactAddress). */
  contactAddress?: string;
  /** The token the scheduler requires, if any (passed in the environment, not the command line). */
  authToken?: string;
  /** The worker's TLS certificate, key and CA (passed in the environment, not the command line). */
  tls?: TlsOptions;
  /** Quiet the worker's log and what its tasks print. */
  silenceLogs?: boolean;
  /** What the worker offers to tasks that ask for resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /** Modules every thread of the worker imports. */
  preload?: string[];
  /**
   * Whether the worker process and the nanny's timers hold the program open (default true); a
   * LocalCluster's nannies say false (see SchedulerOptions.keepAlive).
   */
  keepAlive?: boolean;
  /** The worker process prints why it stopped when it did not choose to (the worker command's). */
  stopLines?: boolean;
  /** The deno.json the worker process runs with (default: the main module's; worker/config.ts). */
  config?: string | URL;
  /** Lines the worker prints (its log and what its tasks print). */
  log?: (line: string) => void;
  /**
   * How often the nanny reads its worker process's memory (ms; default 100), to restart it past
   * `memoryTerminate` of `memoryLimit`.
   */
  memoryMonitorInterval?: number;
  /** How often the worker sends heartbeats (ms). */
  heartbeatInterval?: number;
  /** How long the worker process may take to register (ms; default 60 s, or 30 s past deathTimeout). */
  startTimeout?: number;
  /** The worker process gives up when it cannot reach the scheduler for this long (ms). */
  deathTimeout?: number;
  /**
   * Called once the worker registered, with its address and a promise of how its process
   * ended ("exit code 1", "killed by signal SIGKILL"): the scheduler names it in KilledWorker.
   */
  onStarted?: (address: string, exited: Promise<string>) => void;
}

const PROCESS_ENTRY = new URL("./process.ts", import.meta.url);

/** The `Deno.Command` that starts the worker process `o` describes. */
export function workerCommand(o: NannyOptions): Deno.Command {
  // --expose-gc: the worker reclaims a large value's memory as soon as it drops it
  // (worker/collect_garbage.ts)
  const args = ["run", "-A", "-q", "--v8-flags=--expose-gc"];
  args.push(...configArgs(o.config));
  args.push(PROCESS_ENTRY.href, `--scheduler=${o.scheduler}`, `--nthreads=${o.nthreads}`);
  if (o.name !== undefined) args.push(`--name=${o.name}`);
  if (o.memoryLimit) args.push(`--memory-limit=${o.memoryLimit}`);
  args.push(...memoryFlags(o));
  if (o.host) args.push(`--host=${o.host}`);
  if (o.contactAddress) args.push(`--contact-address=${o.contactAddress}`);
  if (o.deathTimeout !== undefined) args.push(`--death-timeout=${Math.ceil(o.deathTimeout)}`);
  if (o.silenceLogs) args.push("--silence-logs");
  if (o.resources) args.push(`--resources=${JSON.stringify(o.resources)}`);
  for (const url of o.preload ?? []) args.push(`--preload=${url}`);
  if (o.heartbeatInterval) args.push(`--heartbeat-interval=${o.heartbeatInterval}`);
  if (o.onStarted) args.push("--nanny"); // someone reports how it ends
  if (o.stopLines) args.push("--stop-lines");
  const env: Record<string, string> = { ...mallocEnv() };
  if (o.authToken) env[AUTH_TOKEN_ENV] = o.authToken;
  Object.assign(env, tlsEnv(o.tls));
  return new Deno.Command(Deno.execPath(), {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  });
}

/** glibc's trim threshold for worker processes, as Dask's nanny sets it (pre-spawn-environ). */
const MALLOC_TRIM_THRESHOLD = "65536";

/**
 * `MALLOC_TRIM_THRESHOLD_` unless the user set it: glibc then hands freed memory back to the
 * system sooner, so that a worker's RSS falls when it drops large values.
 */
function mallocEnv(): Record<string, string> {
  let set = false;
  try {
    set = Deno.env.get("MALLOC_TRIM_THRESHOLD_") !== undefined;
  } catch { /* no permission to read the environment: set it */ }
  return set ? {} : { MALLOC_TRIM_THRESHOLD_: MALLOC_TRIM_THRESHOLD };
}
