/**
 * What the scheduler's extensions (coordination primitives, actors...) hear of the cluster
 * besides their own messages: a client leaving for good, a worker leaving, the scheduler
 * closing. Each extension registers once; the sessions tell them all.
 *
 * @module
 */

/** The cluster events an extension may follow (each optional). */
export interface SchedulerExtension {
  /** A client left for good: it said goodbye, or its grace period to reconnect ended. */
  clientGone?(id: string): void;
  /** A worker left the cluster (it died, retired or was removed). */
  workerRemoved?(address: string): void;
  /** The scheduler is closing: pending waits end, nothing new is armed. */
  close?(): void;
}

/** The registered extensions, told of each event in the order they registered. */
export class SchedulerExtensions implements Required<SchedulerExtension> {
  readonly #all: SchedulerExtension[] = [];

  /**
   * Registers an extension.
   *
   * @example
   * ```ts ignore
   * extensions.add({ clientGone: (id) => locks.releaseHeldBy(id) });
   * ```
   */
  add(ext: SchedulerExtension): void {
    this.#all.push(ext);
  }

  clientGone(id: string): void {
    for (const e of this.#all) e.clientGone?.(id);
  }

  workerRemoved(address: string): void {
    for (const e of this.#all) e.workerRemoved?.(address);
  }

  close(): void {
    for (const e of this.#all) e.close?.();
  }
}
