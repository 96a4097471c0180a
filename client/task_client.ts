/**
 * `getClient()`: the Client of the task a worker thread runs, one per thread. Its own module so
 * that what resolves a client for a primitive (primitive_client.ts) does not import the classes
 * that client/in_task.ts re-exports. Browser-safe.
 *
 * @module
 */
import { inTask, waitOutsideSlot } from "../core/in_task.ts";
import { Client, connectInTask } from "./client.ts";
import type { ClientOptions } from "./options.ts";

/**
 * A Client connected to the scheduler of the worker the calling task runs on; one per thread,
 * made by the first call and reused while connected (one cut off is replaced). It is usable
 * at once (it connects in the background). Awaiting its Futures or `gather` inside a task
 * gives the task's thread slot back while it waits (as Dask's `worker_client` does), so a task
 * on a one-thread worker can wait for the tasks it submitted; tasks it submits run before its
 * siblings that are still waiting.
 * (`wait` does the same; `asCompleted` does not: call `secede()` before iterating.)
 */
export function getClient(options: Pick<ClientOptions, "timeout"> = {}): Client {
  const { hooks } = inTask("getClient()");
  if (hooks.client instanceof Client) {
    if (hooks.client.status === "running") return hooks.client;
    void hooks.client.close(); // cut off (e.g. its connection timed out): make a new one
  }
  const w = hooks.worker;
  const client = connectInTask(w.schedulerAddress, {
    timeout: options.timeout,
    authToken: hooks.authToken,
    ...(hooks.tlsCaCerts && { tls: { caCerts: hooks.tlsCaCerts } }),
    name: `${w.name}-thread-${w.thread}`,
  }, {
    key: () => hooks.current()?.key,
    wait: waitOutsideSlot,
  });
  hooks.client = client;
  return client;
}
