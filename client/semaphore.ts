/**
 * `Semaphore`: a named count of leases held on the scheduler, to cap how many tasks use a
 * resource at once (Dask's `distributed.Semaphore`). Browser-safe.
 *
 * @module
 */
import { fromEnvelope } from "../core/errors.ts";
import { HANDLE, registerHandle } from "../comm/value_handles.ts";
import type { Client } from "./client.ts";
import { acquireTimeout, checkClient } from "./lease_calls.ts";
import { Leases } from "./leases.ts";
import { checkOptions, nameOption } from "./primitive_options.ts";

/** Options of `new Semaphore(maxLeases, name, options)`. */
export interface SemaphoreOptions {
  /** The client it talks through (default: inside a task the task's, else the current one). */
  client?: Client;
}

/** Options of `semaphore.acquire()`. */
export interface SemaphoreAcquireOptions {
  /** How long to wait for a lease, in ms (default: until one is free; 0: try once). */
  timeout?: number;
}

/**
 * A semaphore named `name` with `maxLeases` leases (default 1), held on the scheduler: at most
 * `maxLeases` acquires hold a lease at once, across tasks, workers and clients; the others wait,
 * first come, first served. `name` defaults to a random one (then pass the Semaphore object
 * itself to tasks). Every Semaphore of one name must give the same `maxLeases`. The leases of a
 * client that leaves for good, or of a task whose worker dies or stops heart-beating (the
 * scheduler removes it), come back at once. The scheduler's `/metrics` shows each semaphore
 * (`dtask_semaphore_*`). Passed to a task, it arrives as a new Semaphore of the same name and
 * `maxLeases` (a holder of its own).
 *
 * @example At most two tasks use the database at once
 * ```ts ignore
 * await using client = await Client.connect(cluster);
 * const query = async (sem: Semaphore, i: number) => {
 *   await sem.acquire();
 *   try {
 *     return i; // at most two tasks here at once
 *   } finally {
 *     await sem.release();
 *   }
 * };
 * const sem = new Semaphore(2, "database", { client });
 * await client.gather(client.map(query, Array(10).fill(sem), [...Array(10).keys()]));
 * console.log(await sem.getValue()); // 0: every lease came back
 * ```
 */
export class Semaphore {
  /** How many leases it gives at once. */
  readonly maxLeases: number;
  /** Its name. */
  readonly name: string;
  readonly #leases: Leases;

  /**
   * A semaphore of `maxLeases` leases (a whole number, at least 1: else a TypeError) named
   * `name` (default: a random name).
   */
  constructor(maxLeases: number = 1, name?: string, options: SemaphoreOptions = {}) {
    if (typeof maxLeases !== "number" || !Number.isSafeInteger(maxLeases) || maxLeases < 1) {
      throw new TypeError(
        `Semaphore: maxLeases must be a whole number of at least 1, got ${
          typeof maxLeases === "number" ? maxLeases : typeof maxLeases
        }`,
      );
    }
    this.maxLeases = maxLeases;
    this.name = nameOption("Semaphore", name, "semaphore");
    const label = JSON.stringify(this.name);
    this.#leases = new Leases({
      what: "Semaphore",
      release: (calls, lease) => calls.request({ op: "semaphore-release", id: 0, lease }),
      releasedTooOften: () =>
        `Semaphore ${label} released too often: this Semaphore object holds no lease (each ` +
        `object releases only the leases it acquired)`,
    }, checkClient("Semaphore", checkOptions("Semaphore", options, ["client"])));
  }

  /**
   * Takes a lease, waiting until one is free (or up to `timeout` ms). Resolves true once held,
   * false when the wait ended first.
   */
  async acquire(options: SemaphoreAcquireOptions = {}): Promise<boolean> {
    // blocking passes here to be refused with its own message: a semaphore always blocks
    const o = checkOptions("Semaphore.acquire", options, ["timeout", "blocking"]);
    const timeout = acquireTimeout("Semaphore.acquire", o, false);
    return await this.#leases.acquire(timeout, (calls, lease) =>
      calls.request({
        op: "semaphore-acquire",
        id: 0,
        name: this.name,
        max: this.maxLeases,
        lease,
        ...(timeout !== undefined && { timeout }),
      }));
  }

  /** Gives back this object's oldest lease; a LeaseError when it holds none. */
  release(): Promise<void> {
    return this.#leases.release();
  }

  /** How many of its leases are held now, by anyone. */
  async getValue(): Promise<number> {
    const reply = await this.#leases.calls().request({
      op: "semaphore-value",
      id: 0,
      name: this.name,
      max: this.maxLeases,
    });
    if (reply.e !== undefined) throw fromEnvelope(reply.e);
    return reply.value;
  }

  /** Travels by its maxLeases and name; the other end makes one of its own (a new holder). */
  [HANDLE](): [string, unknown] {
    return ["semaphore", [this.maxLeases, this.name]];
  }
}

registerHandle("semaphore", (data) => {
  const [maxLeases, name] = data as [number, string];
  return new Semaphore(maxLeases, name);
});
