/** The transition engine's pending recommendations. */
import type { TaskState, TaskStateName } from "./task_state.ts";

/**
 * Pending recommendations, a stack of (task, target state) pairs kept in two parallel arrays:
 * a pair array per recommendation would be garbage on every transition of every task.
 */
export class RecStack {
  #tasks: TaskState[] = [];
  #to: TaskStateName[] = [];

  /** How many are pending. */
  get length(): number {
    return this.#tasks.length;
  }

  /** Recommends moving `ts` to state `to`. */
  push(ts: TaskState, to: TaskStateName): void {
    this.#tasks.push(ts);
    this.#to.push(to);
  }

  /** The target state of the top pair (call before `pop`). */
  peekTo(): TaskStateName {
    return this.#to[this.#to.length - 1];
  }

  /** Removes the top pair and returns its task. */
  pop(): TaskState {
    this.#to.pop();
    return this.#tasks.pop()!;
  }
}
