/**
 * Inside a task: `getWorker()`, `getClient()`, `secede()` and `rejoin()`. They work in code a
 * worker thread runs for a task (also after `await`s, and in modules the task imports) and
 * throw a clear error anywhere else. In a submitted function these names need no import: the
 * thread binds them when it compiles the function.
 */
import { inTask, waitOutsideSlot } from "../core/in_task.ts";
export { asCompleted, wait } from "./wait.ts";
// shared values revive in a task's thread once these modules are loaded there
export { Queue } from "./queue.ts";
export { Variable } from "./variable.ts";
export { Event } from "./event.ts";
import { Client, connectInTask } from "./client.ts";
import type { ClientOptions } from "./options.ts";

export {
  getWorker,
  rejoin,
  secede,
  type TaskWorker,
  type TaskWorkerInfo,
} from "../core/in_task.ts";

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
