/**
 * The context of the task running on this thread, kept in a global slot (`Symbol.for`) so that
 * every copy of dtask loaded in the thread (e.g. one a task imports by URL) sees the same one.
 * A thread runs one task at a time, so the slot is the running task's until it settles.
 */

/** What a running task can learn about itself (getWorker()/getClient() hook in here later). */
export interface TaskContext {
  /** The task's key. */
  readonly key: string;
  /** Index of the executor thread running it. */
  readonly thread: number;
}

import { threadHooks } from "../core/in_task.ts";

const SLOT = Symbol.for("dtask.taskContext");
const g = globalThis as { [SLOT]?: TaskContext };

/** The context of the task running on this thread (its code, across awaits), or undefined. */
export function currentTask(): TaskContext | undefined {
  return threadHooks()?.current() ?? g[SLOT];
}

/** The key of the task running on this thread, or undefined outside a task. */
export function currentTaskKey(): string | undefined {
  return currentTask()?.key;
}

/** Sets the running task's context (undefined clears it); called by the thread script. */
export function setCurrentTask(ctx: TaskContext | undefined): void {
  g[SLOT] = ctx;
}
