/**
 * The supervised children of a LocalCluster besides the nannies: a worker living in this
 * process (processes: false), and the scheduler, which a replacement takes over on the same
 * addresses when it fails.
 *
 * @module
 */
import type { Supervisable } from "../actor/supervisor.ts";
import { Scheduler, type SchedulerOptions } from "../scheduler/scheduler.ts";
import { parseAddress } from "../comm/transport.ts";
import { Worker, type WorkerOptions } from "../worker/worker.ts";
import { EXIT_DONE, EXIT_RESTART } from "../worker/exit_codes.ts";

/** A worker living in this process (processes: false), supervisable like a nanny. */
export class InprocessWorker implements Supervisable {
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
export class SchedulerChild implements Supervisable {
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
      port: parseAddress(s.address).port,
      inprocName: s.inprocAddress.slice("inproc://".length),
      ...(s.wsAddress !== null && { wsPort: parseAddress(s.wsAddress).port }),
      dashboardAddress: link ? `${link.hostname}:${link.port}` : null,
    };
  }
}
