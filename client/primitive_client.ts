/**
 * The client a coordination primitive (Lock, Semaphore, Queue, Variable, Event) or an actor
 * handle talks through: the one it was given, else inside a task the worker thread's own
 * (`getClient()`), else the program's default client (`Client.current()`). Resolved when first
 * needed, so a handle revived from a task's arguments finds its thread's client. Browser-safe.
 *
 * @module
 */
import { threadHooks, waitOutsideSlot } from "../core/in_task.ts";
import { Client } from "./client.ts";
import { getClient } from "./task_client.ts";

/**
 * The client `what` uses: `given`, else the running task's client, else the default client.
 * Throws a clear error when `given` is not a Client or none is open.
 *
 * @example
 * ```ts ignore
 * const client = resolveClient(options.client, "Lock");
 * ```
 */
export function resolveClient(given: unknown, what: string): Client {
  if (given !== undefined && given !== null) {
    if (given instanceof Client) return given;
    throw new TypeError(`${what}: the client option must be a Client, got ${describe(given)}`);
  }
  if (threadHooks()?.current() !== undefined) return getClient();
  try {
    return Client.current();
  } catch {
    throw new TypeError(
      `${what} needs a client: pass { client }, connect one first with Client.connect(...), ` +
        `or use it inside a task (where the worker's own client is used)`,
    );
  }
}

/**
 * Runs a request that may wait (a lock's or semaphore's acquire, a get, a put on a bounded queue, an event's wait): inside a
 * task, the task gives its thread slot back while it waits, as `gather` does, so that tasks
 * queued behind it on its thread (or the one it waits for) can run; elsewhere it just runs.
 */
export function waiting<T>(mayWait: boolean, f: () => Promise<T>): Promise<T> {
  return mayWait ? waitOutsideSlot(f) : f();
}

function describe(v: unknown): string {
  if (typeof v !== "object") return typeof v;
  return (v as object).constructor?.name ?? "an object";
}
