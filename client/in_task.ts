/**
 * Inside a task: `getWorker()`, `getClient()`, `secede()` and `rejoin()`. They work in code a
 * worker thread runs for a task (also after `await`s, and in modules the task imports) and
 * throw a clear error anywhere else. In a submitted function these names need no import: the
 * thread binds them when it compiles the function, as it binds `Queue`, `Variable` and `Event`
 * (re-exported here so that their handles revive in a task's thread).
 */
export { asCompleted, wait } from "./wait.ts";
export { getClient } from "./task_client.ts";
// coordination primitives: importing them here registers how their handles are revived in a
// worker thread, and lets a task function use them without importing them
export { Lock } from "./lock.ts";
export { MultiLock } from "./multi_lock.ts";
export { Semaphore } from "./semaphore.ts";
export { Queue } from "./queue.ts";
export { Variable } from "./variable.ts";
export { Event } from "./event.ts";

export {
  getWorker,
  rejoin,
  secede,
  type TaskWorker,
  type TaskWorkerInfo,
} from "../core/in_task.ts";
