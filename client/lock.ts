/**
 * `Lock`: a named lock held on the scheduler, for mutual exclusion across tasks, workers and
 * clients (Dask's `distributed.Lock`). Browser-safe.
 *
 * @module
 */
import { HANDLE, registerHandle } from "../comm/value_handles.ts";
import type { Client } from "./client.ts";
import { acquireTimeout, checkClient } from "./lease_calls.ts";
import { checkOptions, nameOption } from "./primitive_options.ts";
import { acquireLocks, Leases, lockKind, locksHeld } from "./leases.ts";

/** Options of `new Lock(name, options)`. */
export interface LockOptions {
  /** The client it talks through (default: inside a task the task's, else the current one). */
  client?: Client;
}

const ACQUIRE_OPTIONS = ["timeout", "blocking"];

/** Options of `lock.acquire()`. */
export interface LockAcquireOptions {
  /**
   * How long to wait for the lock, in ms (default: until it is free; 0: try once). When it
   * passes, `acquire` resolves false.
   */
  timeout?: number;
  /** false: try once, resolving false at once when the lock is held (takes no timeout). */
  blocking?: boolean;
}

/**
 * A lock named `name`, held on the scheduler: while one holder has it, every other `acquire`
 * of that name (from any task, worker or client) waits, first come, first served. `name`
 * defaults to a random one (then pass the Lock object itself to tasks). It is not reentrant:
 * each `acquire` takes it once more, and the object releases what it acquired, oldest first.
 * A lock held by a client that leaves for good, or by a task whose worker dies, is released.
 * Shares its names with `MultiLock`: `MultiLock(["a", "b"])` and `Lock("a")` exclude each
 * other. Inside a task a Lock needs no `client` (and no import). Passed to a task, a Lock
 * arrives as a new Lock of the same name (a holder of its own).
 *
 * @example Tasks that write to one place, one at a time
 * ```ts ignore
 * await using client = await Client.connect(cluster);
 * const work = async (i: number) => {
 *   const lock = new Lock("shared-file");
 *   await lock.acquire();
 *   try {
 *     return i; // one task at a time here, cluster-wide
 *   } finally {
 *     await lock.release();
 *   }
 * };
 * await client.gather(client.map(work, [1, 2, 3]));
 * const lock = new Lock("shared-file", { client });
 * console.log(await lock.acquire({ timeout: 100 })); // true: nobody holds it now
 * await lock.release();
 * ```
 */
export class Lock {
  /** The lock's name. */
  readonly name: string;
  readonly #leases: Leases;

  /** A Lock named `name` (default: a random name); TypeError on a name that is no string. */
  constructor(name?: string, options: LockOptions = {}) {
    this.name = nameOption("Lock", name, "lock");
    const client = checkClient("Lock", checkOptions("Lock", options, ["client"]));
    this.#leases = new Leases(lockKind("Lock", [this.name]), client);
  }

  /**
   * Takes the lock, waiting until it is free (or up to `timeout` ms; `blocking: false`: not at
   * all). Resolves true once held, false when the wait ended first.
   */
  acquire(options: LockAcquireOptions = {}): Promise<boolean> {
    try {
      const timeout = acquireTimeout(
        "Lock.acquire",
        checkOptions("Lock.acquire", options, ACQUIRE_OPTIONS),
        true,
      );
      return acquireLocks(this.#leases, [this.name], 1, timeout);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Gives the lock back; a LeaseError when this Lock object does not hold it. */
  release(): Promise<void> {
    return this.#leases.release();
  }

  /** Whether the lock is held now, by anyone. */
  async locked(): Promise<boolean> {
    return await locksHeld(this.#leases, [this.name]) > 0;
  }

  /** `await using lock = new Lock(...)`: what this object still holds is released. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#leases.releaseAll();
  }

  /** Travels by its name; the other end makes a Lock of its own (a new holder). */
  [HANDLE](): [string, unknown] {
    return ["lock", this.name];
  }
}

registerHandle("lock", (name) => new Lock(name as string));
