/**
 * The dependencies of a worker's tasks, as its state machine tracks them: which local tasks use
 * each, which peers hold it, which one is asked now; the asks of one stimulus go out together,
 * one fetch per peer, and wait while the worker is paused (as Dask stops fetching then). Pure:
 * fetches go out through a callback.
 *
 * @module
 */
import type { WorkerTask } from "./worker_task.ts";

/** A dependency of local tasks: being fetched, fetched, or computed here. */
export interface Dep {
  /** Holders not tried yet. */
  holders: string[];
  /** The peer asked now, or null when not in flight. */
  asking: string | null;
  /** The last peer asked. */
  last: string;
  /** Local tasks waiting for it or running with it. */
  users: Set<WorkerTask>;
}

/** What DepFetches needs from the state machine around it. */
export interface DepFetchesHost {
  /** Ask peer `worker` for `keys`. */
  fetch(worker: string, keys: string[]): void;
  /** No holder of `key` is left to ask (`dep.last` was the last asked): its users cannot run. */
  noHolder(key: string, dep: Dep): void;
}

/** The dependencies of local tasks, and the fetches for them. */
export class DepFetches {
  readonly #deps = new Map<string, Dep>();
  /** Asks collected during the current stimulus, by peer. */
  #asks = new Map<string, string[]>();
  /** Asks held back while paused, by peer (a key asked again while parked is kept once). */
  #parked = new Map<string, Set<string>>();

  constructor(private readonly host: DepFetchesHost) {}

  /** Whether a local task uses `key` as a dependency. */
  has(key: string): boolean {
    return this.#deps.has(key);
  }

  /** `ts` uses `key`, held by `holders` (tracked even when computed here). */
  use(ts: WorkerTask, key: string, holders: readonly string[]): Dep {
    let dep = this.#deps.get(key);
    if (!dep) {
      dep = { holders: [...holders], asking: null, last: "", users: new Set() };
      this.#deps.set(key, dep);
    }
    dep.users.add(ts);
    return dep;
  }

  /** Asks the next holder of `key` (in the next `flush`), or reports that none is left. */
  ask(key: string, dep: Dep): void {
    const w = dep.holders.shift();
    if (w === undefined) {
      this.#deps.delete(key);
      this.host.noHolder(key, dep);
      return;
    }
    dep.asking = dep.last = w;
    const keys = this.#asks.get(w);
    if (keys) keys.push(key);
    else this.#asks.set(w, [key]);
  }

  /** `worker` answered for `key`: its Dep when that answer is the one awaited, else undefined. */
  answered(worker: string, key: string): Dep | undefined {
    const dep = this.#deps.get(key);
    if (!dep || dep.asking !== worker) return undefined;
    dep.asking = null;
    return dep;
  }

  /** `ts` no longer uses `key`: true when no local task does any more (it is forgotten). */
  release(ts: WorkerTask, key: string): boolean {
    const dep = this.#deps.get(key);
    if (!dep || !dep.users.delete(ts) || dep.users.size) return false;
    this.#deps.delete(key);
    return true;
  }

  /**
   * Sends the asks collected (minus keys no local task awaits from that peer any more); while
   * `paused` they are held back until `resume`.
   */
  flush(paused: boolean): void {
    if (this.#asks.size === 0) return;
    const asks = this.#asks;
    this.#asks = new Map();
    for (const [w, keys] of asks) {
      if (paused) {
        const parked = this.#parked.get(w);
        if (parked) { for (const k of keys) parked.add(k); }
        else this.#parked.set(w, new Set(keys));
        continue;
      }
      const live = keys.filter((k) => this.#deps.get(k)?.asking === w);
      if (live.length) this.host.fetch(w, live);
    }
  }

  /** The worker runs again: the asks held back go out. */
  resume(): void {
    for (const [w, keys] of this.#parked) {
      const asks = this.#asks.get(w);
      if (asks) asks.push(...keys);
      else this.#asks.set(w, [...keys]);
    }
    this.#parked = new Map();
    this.flush(false);
  }
}
