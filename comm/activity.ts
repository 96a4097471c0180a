/**
 * What holds a program open while dtask works for it. The sockets, listeners, timers and child
 * processes of a program's own LocalCluster and Clients do not (they are unref'd), so a program
 * that forgot `close()` ends once it has nothing left to do, as Dask's finalizers close a
 * forgotten cluster at interpreter exit. While a client waits for a result or a reply, or a
 * cluster starts or closes, one timer holds the program open. Browser-safe (no Deno).
 *
 * @module
 */

/** Longest setInterval delay: the timer only has to exist, never to fire. */
const HOLD_INTERVAL = 2 ** 31 - 1;

function noop(): void {}

/** Counts work in progress; one timer holds the program open while there is some. */
export class Activity {
  #n = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Work in progress. */
  get busy(): boolean {
    return this.#n > 0;
  }

  /** Some work begins. */
  begin(): void {
    if (this.#n++ === 0) this.#timer = setInterval(noop, HOLD_INTERVAL);
  }

  /** Some work ended (one `end` per `begin`). */
  end(): void {
    if (this.#n === 0 || --this.#n > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Holds the program open until `p` settles; returns `p`. */
  during<T>(p: Promise<T>): Promise<T> {
    this.begin();
    p.then(() => this.end(), () => this.end());
    return p;
  }
}

/** The program's activity: every Client and LocalCluster of this program counts here. */
export const activity: Activity = new Activity();
