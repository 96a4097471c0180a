/**
 * The nanny: an actor in the cluster's (or worker CLI's) process that starts one worker
 * process, forwards its output, and reports when it dies so its supervisor can restart it.
 * The auth token reaches the process in its environment: a command line is public (`ps`).
 */
import { withTimeout } from "../comm/handshake.ts";
import { NANNY_START_PAST_DEATH, NANNY_START_TIMEOUT, STOP_GRACE } from "../comm/timeouts.ts";
import { AUTH_TOKEN_ENV } from "../comm/auth_token.ts";
import { TextLineStream } from "./lines.ts";
import { describeExit, EXIT_DONE, EXIT_LOST, EXIT_RESTART } from "./exit_codes.ts";
import { configArgs } from "./config.ts";

/** How the nanny starts its worker process. */
export interface NannyOptions {
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
  /** Quiet the worker's log and what its tasks print. */
  silenceLogs?: boolean;
  /** What the worker offers to tasks that ask for resources, e.g. `{ GPU: 1 }`. */
  resources?: Record<string, number>;
  /** Modules every thread of the worker imports. */
  preload?: string[];
  /** The deno.json the worker process runs with (default: the main module's; worker/config.ts). */
  config?: string | URL;
  /** Lines the worker prints (its log and what its tasks print). */
  log?: (line: string) => void;
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

/**
 * Supervises one worker process (Dask's nanny): starts it, forwards its output, and reports when
 * it dies so that its supervisor can restart it. LocalCluster runs one per worker.
 */
export class Nanny {
  /** The worker's address once started. */
  workerAddress = "";
  /** The worker process id once started. */
  pid = 0;
  /** Called when the worker process exits without being asked to. */
  onFailure: ((error: unknown) => void) | undefined;
  /** Called when the worker process ends on its own and wants no restart (retired). */
  onExit: (() => void) | undefined;
  #child: Deno.ChildProcess | null = null;
  #pump: Promise<void> | null = null;
  #stopping = false;

  /** A nanny that starts its worker process on `start()`. */
  constructor(
    /** How it starts its worker process. */
    readonly options: NannyOptions,
  ) {}

  /** Starts the worker process and resolves once it has registered with the scheduler. */
  async start(): Promise<void> {
    const o = this.options;
    this.#stopping = false;
    this.workerAddress = ""; // a restarted process listens elsewhere
    // --expose-gc: the worker reclaims a large value's memory as soon as it drops it
    // (worker/collect_garbage.ts)
    const args = ["run", "-A", "-q", "--v8-flags=--expose-gc"];
    args.push(...configArgs(o.config));
    args.push(PROCESS_ENTRY.href, `--scheduler=${o.scheduler}`, `--nthreads=${o.nthreads}`);
    if (o.name !== undefined) args.push(`--name=${o.name}`);
    if (o.memoryLimit) args.push(`--memory-limit=${o.memoryLimit}`);
    if (o.host) args.push(`--host=${o.host}`);
    if (o.contactAddress) args.push(`--contact-address=${o.contactAddress}`);
    if (o.deathTimeout !== undefined) args.push(`--death-timeout=${Math.ceil(o.deathTimeout)}`);
    if (o.silenceLogs) args.push("--silence-logs");
    if (o.resources) args.push(`--resources=${JSON.stringify(o.resources)}`);
    for (const url of o.preload ?? []) args.push(`--preload=${url}`);
    if (o.heartbeatInterval) args.push(`--heartbeat-interval=${o.heartbeatInterval}`);
    if (o.onStarted) args.push("--nanny"); // someone reports how it ends
    const child = new Deno.Command(Deno.execPath(), {
      args,
      ...(o.authToken && { env: { [AUTH_TOKEN_ENV]: o.authToken } }),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#child = child;
    this.pid = child.pid;
    const ready = Promise.withResolvers<void>();
    const log = o.log ?? ((l: string) => console.log(l));
    this.#pump = (async () => {
      let first = true;
      const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
        new TextLineStream(),
      );
      for await (const line of lines) {
        if (first) {
          first = false;
          try {
            const hello = JSON.parse(line) as { address: string };
            if (this.#child === child) this.workerAddress = hello.address; // not a late line
            ready.resolve();
            continue;
          } catch {
            ready.reject(new Error(`worker process printed ${JSON.stringify(line)} at start`));
          }
        }
        if (!o.silenceLogs) log(line);
      }
    })();
    // Reported only once start() succeeded: an exit during start() is start()'s failure, which
    // the supervisor handles; reporting it too would make it start a second nanny.
    let started = false;
    let exited: Deno.CommandStatus | null = null;
    const pump = this.#pump;
    const report = (s: Deno.CommandStatus) => {
      if (this.#stopping) return;
      // exit 0: it was told to stop for good (retired, scheduler closing): no restart
      if (s.code === EXIT_DONE && !s.signal) {
        void this.stop(); // releases its pipes; the supervisor will not stop an exited child
        this.onExit?.();
      } else if (s.code === EXIT_RESTART && !s.signal) {
        void this.#renew(child, pump); // asked to restart: not a failure
      } else {
        const what = s.code === EXIT_LOST && !s.signal ? "lost its scheduler" : "died";
        this.onFailure?.(new Error(`worker process ${child.pid} ${what} (${describeExit(s)})`));
      }
    };
    const status = child.status.then((s) => {
      exited = s;
      // asked to restart right after it registered (before its first line reached us): it did
      // start; report() below starts the next one
      if (s.code === EXIT_RESTART && !s.signal) ready.resolve();
      else ready.reject(new Error(`worker process exited at start (${describeExit(s)})`));
      if (started) report(s);
      return s;
    });
    try {
      const startTimeout = o.startTimeout ??
        Math.max(NANNY_START_TIMEOUT, (o.deathTimeout ?? 0) + NANNY_START_PAST_DEATH);
      await withTimeout(ready.promise, startTimeout, "starting the worker process");
      if (this.workerAddress) {
        o.onStarted?.(
          this.workerAddress,
          status.then((s) => describeExit(s)),
        );
      }
    } catch (e) {
      await this.stop();
      await status;
      throw e;
    }
    started = true;
    // it ended between its registration and now: reported once the supervisor has it running
    const early = exited as Deno.CommandStatus | null;
    if (early) queueMicrotask(() => report(early));
  }

  /**
   * Starts a new worker process in place of `old`, which exited asking for it (`client.restart()`):
   * no failure is reported, so it does not count towards the supervisor's restart intensity.
   */
  async #renew(old: Deno.ChildProcess, oldPump: Promise<void> | null): Promise<void> {
    try {
      await old.stdin.close();
    } catch { /* closed */ }
    await oldPump;
    if (this.#stopping || this.#child !== old) return; // stopped meanwhile
    try {
      await this.start();
    } catch (e) {
      if (!this.#stopping) this.onFailure?.(e);
    }
  }

  /** Stops the worker process (SIGTERM, then SIGKILL) and waits for it. Idempotent. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#stopping = true;
    this.#child = null;
    try {
      await child.stdin.close();
    } catch { /* already closed */ }
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
        resolve();
      }, STOP_GRACE);
    });
    await Promise.race([child.status, killed]);
    clearTimeout(timer);
    await child.status;
    await this.#pump;
  }

  /** Kills the worker process at once (for tests of failure). */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    this.#child?.kill(signal);
  }
}
