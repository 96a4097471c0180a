/**
 * How a Client made inside a task (getClient()) waits and submits: its waits give the task's
 * thread slot back meanwhile, and its submissions name the task. A Client made elsewhere just
 * waits. Browser-safe (no Deno).
 *
 * @module
 */
import type { InTaskClientHooks } from "./options.ts";

/** A Client's in-task hooks, or none. */
export class TaskWaits {
  /** `hooks`: the running task's, for a Client made in a task; null elsewhere. */
  constructor(readonly hooks: InTaskClientHooks | null) {}

  /** The key of the task whose code runs now, if any. */
  taskKey(): string | undefined {
    return this.hooks?.key();
  }

  /** Runs a wait on Futures: inside a task, with its slot given back meanwhile. */
  wait<T>(f: () => Promise<T>): Promise<T> {
    return this.hooks ? this.hooks.wait(f) : f();
  }
}
