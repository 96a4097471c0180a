/**
 * What the scheduler's extensions (coordination primitives, actors...) hear of the cluster
 * besides their own messages: a client's connection closing, a client leaving for good, a
 * worker leaving, the scheduler closing. Each extension registers once; the sessions tell them
 * all, inside the actor.
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";

/** The cluster events an extension may follow (each optional). */
export interface ClusterListener {
  /**
   * A client's connection closed (the client may come back on another within its grace
   * period): what waits for an answer on `conn` can stop waiting.
   */
  connectionClosed?(client: string, conn: Connection): void;
  /** A client left for good: it said goodbye, or its grace period to reconnect ended. */
  clientGone?(id: string): void;
  /** A worker left the cluster (it died, retired or was removed). */
  workerRemoved?(address: string): void;
  /** The scheduler is closing: pending waits end, nothing new is armed. */
  close?(): void;
}

/** The registered extensions, told of each event in the order they registered. */
export class ClusterListeners implements Required<ClusterListener> {
  readonly #all: ClusterListener[] = [];

  /**
   * Registers an extension.
   *
   * @example
   * ```ts ignore
   * listeners.add({ clientGone: (id) => locks.releaseHeldBy(id) });
   * ```
   */
  add(ext: ClusterListener): void {
    this.#all.push(ext);
  }

  connectionClosed(client: string, conn: Connection): void {
    for (const e of this.#all) e.connectionClosed?.(client, conn);
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
