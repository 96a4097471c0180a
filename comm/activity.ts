/**
 * What holds a program open while dtask works for it. The sockets, listeners, timers and child
 * processes of a program's own LocalCluster and Clients do not (they are unref'd), so a program
 * that forgot `close()` ends once it has nothing left to do, as Dask's finalizers close a
 * forgotten cluster at interpreter exit. While a client waits for a result or a reply, or a
 * cluster starts or closes, one timer holds the program open. Browser-safe (no Deno).
 *
 * @module
 */

/**
 * How often the holding timer looks whether the work is over. Between bursts of work the timer
 * stays: a client that submits and awaits one task at a time would otherwise make and clear a
 * timer per task (two ops on the round trip); the program may end this much later at most.
 */
const CHECK_INTERVAL = 200;

/** Counts work in progress; one timer holds the program open while there is some. */
export class Activity {
  #n = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #check = (): void => {
    if (this.#n > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  };

  /** Work in progress. */
  get busy(): boolean {
    return this.#n > 0;
  }

  /** Some work begins. */
  begin(): void {
    this.#n++;
    if (this.#timer !== undefined) return;
    // Deno loads its timers lazily on first use, and that load may run other work that begins
    // too: keep the first timer made, never two.
    const timer = setInterval(this.#check, CHECK_INTERVAL);
    if (this.#timer === undefined) this.#timer = timer;
    else clearInterval(timer);
  }

  /** Some work ended (one `end` per `begin`). */
  end(): void {
    if (this.#n > 0) this.#n--;
  }

  /**
   * Holds the program open until `p` settles; returns `p`. A failure lets go at once (nothing is
   * left running that a later check would wait for).
   */
  during<T>(p: Promise<T>): Promise<T> {
    this.begin();
    p.then(() => this.end(), () => {
      this.end();
      if (this.#n === 0) this.#check();
    });
    return p;
  }

  /**
   * Holds the program open until `p` (a close) settles, and lets it go at once then if nothing
   * else is under way, rather than at the next check. Returns `p`.
   */
  closing<T>(p: Promise<T>): Promise<T> {
    this.begin();
    const done = () => {
      this.end();
      if (this.#n === 0) this.#check();
    };
    p.then(done, done);
    return p;
  }
}

/** The program's activity: every Client and LocalCluster of this program counts here. */
export const activity: Activity = new Activity();
