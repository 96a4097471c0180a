/**
 * How many tasks of each prefix (`slowinc` for `slowinc-<hash>`) are in each state, kept
 * beside the scheduler's global counts and updated by the same calls, O(1) per transition:
 * the dashboard's progress bars read them without walking the tasks. A prefix whose tasks are
 * all forgotten keeps its tally (its done count stays on the bars, as Dask keeps its task
 * prefixes), up to `EMPTY_PREFIXES_KEPT` such prefixes, the oldest emptied dropped first.
 *
 * @module
 */
import type { TaskStateName } from "./task_state.ts";

/** Prefixes with no task left whose tallies are kept (the rest are dropped, oldest first). */
export const EMPTY_PREFIXES_KEPT = 1000;

/** The tasks of one prefix, by state. */
export class PrefixTally {
  released = 0;
  waiting = 0;
  "no-worker" = 0;
  queued = 0;
  processing = 0;
  memory = 0;
  erred = 0;
  /** Never set: forgotten tasks are not counted (here so any state name indexes a field). */
  forgotten = 0;
  /** Tasks in state released that had finished (been in memory) before. */
  doneReleased = 0;
  /** Forgotten tasks that had finished: the part of the done count no state holds. */
  doneForgotten = 0;
  /** Tasks not forgotten. */
  live = 0;
  /** Bumped on every change, for readers that look for changes since they last looked. */
  version = 0;
}

/** Tallies by prefix. A task "had finished" when its `nbytes` is set (≥ 0). */
export class PrefixTallies {
  readonly byPrefix: Map<string, PrefixTally> = new Map();
  // prefixes with no task left, oldest emptied first
  readonly #empty: Set<string> = new Set();

  /** A new task of `prefix` is counted in `state`. */
  added(prefix: string, state: TaskStateName): void {
    let t = this.byPrefix.get(prefix);
    if (t === undefined) this.byPrefix.set(prefix, t = new PrefixTally());
    else if (t.live === 0) this.#empty.delete(prefix);
    t[state]++;
    t.live++;
    t.version++;
  }

  /** A task of `prefix` moved from `from` to `to`; `finished`: it had been in memory. */
  moved(prefix: string, from: TaskStateName, to: TaskStateName, finished: boolean): void {
    const t = this.byPrefix.get(prefix)!;
    t[from]--;
    t[to]++;
    if (finished) {
      if (to === "released") t.doneReleased++;
      if (from === "released") t.doneReleased--;
    }
    t.version++;
  }

  /** A task of `prefix` in `state` is forgotten. */
  forgotten(prefix: string, state: TaskStateName, finished: boolean): void {
    const t = this.byPrefix.get(prefix)!;
    t[state]--;
    if (finished && state === "released") {
      t.doneReleased--;
      t.doneForgotten++;
    }
    t.live--;
    t.version++;
    if (t.live > 0) return;
    this.#empty.add(prefix);
    if (this.#empty.size > EMPTY_PREFIXES_KEPT) {
      const oldest = this.#empty.values().next().value!;
      this.#empty.delete(oldest);
      this.byPrefix.delete(oldest);
    }
  }
}
