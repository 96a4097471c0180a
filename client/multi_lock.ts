/**
 * `MultiLock`: several named locks taken at once, all-or-nothing (Dask's
 * `distributed.MultiLock`). Browser-safe.
 *
 * @module
 */
import { HANDLE, registerHandle } from "../comm/value_handles.ts";
import { acquireTimeout, checkClient } from "./lease_calls.ts";
import { checkOptions } from "./primitive_options.ts";
import type { LockOptions } from "./lock.ts";
import { acquireLocks, Leases, lockKind, locksHeld } from "./leases.ts";

/** Options of `multiLock.acquire()`. */
export interface MultiLockAcquireOptions {
  /** How long to wait, in ms (default: until granted; 0: try once); then it resolves false. */
  timeout?: number;
  /** false: try once, resolving false at once when they cannot be had (takes no timeout). */
  blocking?: boolean;
  /** How many of the names to take: any `numLocks` of them (default: all). */
  numLocks?: number;
}

/**
 * The locks `names`, taken together: `acquire` resolves once it holds all of them (or any
 * `numLocks`), and never holds some while it waits for the rest. Waiters are served first come,
 * first served: a waiting MultiLock keeps later requests off the names it waits for. The names
 * are those of `Lock`: `MultiLock(["a", "b"])` and `Lock("a")` exclude each other. Passed to a
 * task, it arrives as a new MultiLock of the same names (a holder of its own).
 *
 * @example Two resources at once
 * ```ts ignore
 * await using client = await Client.connect(cluster);
 * const both = new MultiLock(["disk", "network"], { client });
 * if (await both.acquire({ timeout: 1000 })) {
 *   try {
 *     // holds "disk" and "network"
 *   } finally {
 *     await both.release();
 *   }
 * }
 * ```
 */
export class MultiLock {
  /** The names of its locks. */
  readonly names: readonly string[];
  readonly #leases: Leases;

  /** The locks `names` (at least one; repeated names count once). */
  constructor(names: readonly string[], options: LockOptions = {}) {
    if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) {
      throw new TypeError("MultiLock: names must be an array of strings");
    }
    if (names.length === 0) throw new TypeError("MultiLock: names must hold at least one name");
    this.names = Object.freeze([...new Set(names)]);
    const client = checkClient("MultiLock", checkOptions("MultiLock", options, ["client"]));
    this.#leases = new Leases(lockKind("MultiLock", this.names), client);
  }

  /**
   * Takes all its locks (or any `numLocks` of them) at once, waiting until they are free (or
   * up to `timeout` ms; `blocking: false`: not at all). Resolves true once held, false when the
   * wait ended first.
   */
  acquire(options: MultiLockAcquireOptions = {}): Promise<boolean> {
    try {
      const o = checkOptions("MultiLock.acquire", options, ["timeout", "blocking", "numLocks"]);
      const timeout = acquireTimeout("MultiLock.acquire", o, true);
      const n = this.names.length, need = o.numLocks ?? n;
      if (!Number.isInteger(need) || (need as number) < 1 || (need as number) > n) {
        throw new TypeError(
          `MultiLock.acquire: numLocks must be a whole number from 1 to ${n} (its names), ` +
            `got ${typeof need === "number" ? need : typeof need}`,
        );
      }
      return acquireLocks(this.#leases, this.names, need as number, timeout);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Gives its locks back; a LeaseError when this MultiLock object holds none. */
  release(): Promise<void> {
    return this.#leases.release();
  }

  /**
   * Whether any of its names is held now, by anyone (an `acquire` of all of them would wait).
   */
  async locked(): Promise<boolean> {
    return await locksHeld(this.#leases, this.names) > 0;
  }

  /** `await using`: what this object still holds is released. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#leases.releaseAll();
  }

  /** Travels by its names; the other end makes a MultiLock of its own (a new holder). */
  [HANDLE](): [string, unknown] {
    return ["multi-lock", this.names];
  }
}

registerHandle("multi-lock", (names) => new MultiLock(names as string[]));
