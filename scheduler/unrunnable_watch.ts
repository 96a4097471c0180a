/**
 * Warnings about tasks no connected worker may run: restricted to workers that are not there,
 * or needing resources nobody has. Such a task waits in `no-worker` (Dask's `unrunnable`)
 * without a word; the scheduler's timer tick hands the set of those tasks here, and once a task
 * has stayed for `after` ms it is named in a warning, once, with the reason. Tasks with the same
 * reason share one line. Each check costs O(no-worker tasks), never O(all tasks). No I/O: the
 * actor logs the lines.
 *
 * @module
 */
import type { Resources } from "./placement.ts";
import type { TaskState, WorkerState } from "./task_state.ts";
import { allowed } from "./placement.ts";

/** Keys named in one warning line before "and N more". */
const KEYS_SHOWN = 3;

/** What the watch reads of the scheduler's state. */
export interface UnrunnableView {
  /** The tasks in no-worker. */
  readonly unrunnable: ReadonlySet<TaskState>;
  readonly workers: ReadonlyMap<string, WorkerState>;
  /** What the tasks that need resources need. */
  readonly resourceNeeds: ReadonlyMap<TaskState, Resources>;
}

/** One warning: a reason, and the tasks unrunnable for it (oldest first). */
export interface UnrunnableWarning {
  reason: string;
  keys: string[];
  /** How long they have been unrunnable (ms), at least. */
  for: number;
}

/** Why no connected worker may run `ts`. */
export function unrunnableReason(ts: TaskState, view: UnrunnableView): string {
  const r = ts.restrictions;
  if (r !== null && !ts.loose) {
    const named = `it is restricted to workers [${[...r].join(", ")}]`;
    let there = false;
    for (const ws of view.workers.values()) if (allowed(ts, ws)) there = true;
    return there
      ? `${named} and none of them is running (closing or paused)`
      : `${named} and no such worker is connected`;
  }
  const need = view.resourceNeeds.get(ts);
  if (need) return `it needs resources ${JSON.stringify(need)} and no connected worker has them`;
  return view.workers.size === 0
    ? "no worker is connected"
    : "no connected worker is running (they are closing or paused)";
}

/** The warning line of `w`, as the scheduler logs it. */
export function warningLine(w: UnrunnableWarning): string {
  const secs = Math.round(w.for / 100) / 10;
  if (w.keys.length === 1) {
    return `Task ${w.keys[0]} has been unrunnable for ${secs} s: ${w.reason}`;
  }
  const shown = w.keys.slice(0, KEYS_SHOWN).join(", ");
  const more = w.keys.length > KEYS_SHOWN ? ` and ${w.keys.length - KEYS_SHOWN} more` : "";
  return `${w.keys.length} tasks (${shown}${more}) have been unrunnable for ${secs} s: ${w.reason}`;
}

/** Remembers since when each no-worker task waits, and which ones were named already. */
export class UnrunnableWatch {
  /** When each task was first seen in no-worker (dropped once it left). */
  readonly #since = new Map<TaskState, number>();
  /** Tasks named in a warning: never again. */
  readonly #warned = new WeakSet<TaskState>();

  /** Warns about tasks in no-worker for at least `after` ms. */
  constructor(readonly after: number) {}

  /** Tasks being watched. */
  get size(): number {
    return this.#since.size;
  }

  /** A timer tick at `now` (ms): the warnings due, grouped by reason. */
  check(view: UnrunnableView, now: number): UnrunnableWarning[] {
    const since = this.#since, unrunnable = view.unrunnable;
    for (const ts of since.keys()) if (!unrunnable.has(ts)) since.delete(ts);
    const byReason = new Map<string, UnrunnableWarning>();
    for (const ts of unrunnable) {
      const t = since.get(ts);
      if (t === undefined) {
        if (!this.#warned.has(ts)) since.set(ts, now);
        continue;
      }
      if (now - t < this.after) continue;
      since.delete(ts);
      this.#warned.add(ts);
      const reason = unrunnableReason(ts, view);
      const w = byReason.get(reason);
      if (w) {
        w.keys.push(ts.key);
        w.for = Math.min(w.for, now - t);
      } else byReason.set(reason, { reason, keys: [ts.key], for: now - t });
    }
    return [...byReason.values()];
  }
}
