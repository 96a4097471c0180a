/**
 * The nanny (Dask's): starts one worker process, forwards its output, and reports when it dies
 * so that its supervisor can restart it. LocalCluster runs one per worker; the worker CLI runs
 * one per worker it keeps. The work is done by its actor (nanny_actor.ts).
 *
 * @module
 */
import { NannyActor } from "./nanny_actor.ts";
import type { NannyOptions } from "./nanny_command.ts";

export type { NannyOptions };

/**
 * Supervises one worker process (Dask's nanny): starts it, forwards its output, and reports when
 * it dies so that its supervisor can restart it.
 *
 * @example Start a worker process for a scheduler, then stop it
 * ```ts
 * import { Nanny, Scheduler } from "@x/dtask";
 *
 * const scheduler = await Scheduler.start({ dashboardAddress: null });
 * const nanny = new Nanny({ scheduler: scheduler.address, nthreads: 2 });
 * nanny.onFailure = (e) => console.error("worker died:", e);
 * await nanny.start();
 * console.log(nanny.workerAddress); // tcp://127.0.0.1:…
 * await nanny.stop();
 * await scheduler.close();
 * ```
 */
export class Nanny {
  /** Called when the worker process exits without being asked to. */
  onFailure: ((error: unknown) => void) | undefined;
  /** Called when the worker process ends on its own and wants no restart (retired). */
  onExit: (() => void) | undefined;
  readonly #actor: NannyActor;

  /** A nanny that starts its worker process on `start()`. */
  constructor(
    /** How it starts its worker process. */
    readonly options: NannyOptions,
  ) {
    this.#actor = new NannyActor(options, {
      failed: (e) => this.onFailure?.(e),
      exited: () => this.onExit?.(),
    });
  }

  /** The worker's address once started. */
  get workerAddress(): string {
    return this.#actor.workerAddress;
  }

  /** The worker process id once started. */
  get pid(): number {
    return this.#actor.pid;
  }

  /** Starts the worker process and resolves once it has registered with the scheduler. */
  start(): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#actor.receive({ kind: "start", done });
    return done.promise;
  }

  /** Stops the worker process (SIGTERM, then SIGKILL) and waits for it. Idempotent. */
  stop(): Promise<void> {
    const done = Promise.withResolvers<void>();
    this.#actor.receive({ kind: "stop", done });
    return done.promise;
  }

  /** Kills the worker process at once (for tests of failure). */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    this.#actor.kill(signal);
  }
}
