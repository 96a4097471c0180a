/**
 * Futures: a client's handle on a key, thenable so `await future` gives the value. The key's
 * record (KeyState) and what a Future asks of its client (FutureHost) are internal to client/:
 * `newFuture` and `keyStateOf` are how the client's modules make and look into Futures.
 */
import type { Payload } from "../comm/serialize.ts";
import type { TaskSpec } from "../comm/protocol.ts";
import { CancelledError, TimeoutError } from "../core/errors.ts";
import { activity } from "../comm/activity.ts";
import type { DisplayBundle } from "../core/display_html.ts";
import { futureDisplay, typeName } from "./display.ts";

/** Where a Future stands. */
export type FutureStatus = "pending" | "finished" | "error" | "cancelled" | "lost";

/** The client's record of one key, shared by every Future of that key. */
export class KeyState {
  status: FutureStatus = "pending";
  /** The encoded value, when it came with the result. */
  payload: Payload | null = null;
  /** Workers holding the value. */
  holders: string[] = [];
  /** The decoded value, once decoded. */
  value: unknown = undefined;
  decoded = false;
  error: Error | null = null;
  /** Live Futures of this key. */
  refs = 0;
  /** Futures held strongly until the key settles (so a Future awaited only through `then` lives). */
  strong: Future<unknown>[] | null = [];
  /**
   * The task as submitted, sent again after a reconnect to a scheduler that lost it. Kept while
   * the key is pending, while a Future of it lives (a task submitted later may take it as an
   * input), and while a kept spec depends on it: a replaced scheduler may have to compute it
   * again for a pending dependent. Dropped at once when it errs or is cancelled.
   */
  spec: TaskSpec | null = null;
  /** The keys its spec depends on (each counts this one in its `lineageRefs`). */
  lineage: KeyState[] | null = null;
  /** How many kept specs depend on this key. */
  lineageRefs = 0;
  #callbacks: (() => void)[] | null = null;
  /** Whether a client's key table holds it: held and pending, it holds the program open. */
  #held = false;

  constructor(readonly key: string) {}

  /** A client's table holds it now: while pending, it holds the program open. */
  attach(): void {
    if (!this.#held && !this.settled) activity.begin();
    this.#held = true;
  }

  /** The client no longer holds it: it stops holding the program open. */
  detach(): void {
    if (this.#held && !this.settled) activity.end();
    this.#held = false;
  }

  /** Whether the key has settled (finished, erred, cancelled or lost). */
  get settled(): boolean {
    return this.status !== "pending";
  }

  /** Runs `cb` once the key settles (at once if it has). */
  onSettled(cb: () => void): void {
    if (this.settled) cb();
    else (this.#callbacks ??= []).push(cb);
  }

  /** Removes a callback registered with onSettled (e.g. on timeout). */
  offSettled(cb: () => void): void {
    const cbs = this.#callbacks;
    if (!cbs) return;
    const i = cbs.indexOf(cb);
    if (i >= 0) cbs.splice(i, 1);
  }

  /** Settles the key and runs its callbacks. */
  settle(status: Exclude<FutureStatus, "pending">, error: Error | null = null): void {
    if (this.#held && !this.settled) activity.end();
    this.status = status;
    this.error = error;
    this.strong = null;
    this.dropSpec();
    const cbs = this.#callbacks;
    this.#callbacks = null;
    if (cbs) { for (const cb of cbs) cb(); }
  }

  /** Keeps `spec`, and the specs of `deps` while this one is kept. */
  keepSpec(spec: TaskSpec, deps: KeyState[]): void {
    this.spec = spec;
    this.lineage = deps.length ? deps : null;
    for (const d of deps) d.lineageRefs++;
  }

  /**
   * Drops the spec unless something may still need it (see `spec`), and so on down its
   * lineage. Called when the key settles and when its last Future is released.
   */
  dropSpec(): void {
    const todo: KeyState[] = [this];
    for (let ks = todo.pop(); ks !== undefined; ks = todo.pop()) {
      if (ks.spec === null || !ks.settled) continue;
      if (ks.status === "finished" && (ks.lineageRefs > 0 || ks.refs > 0)) continue;
      ks.spec = null;
      const deps = ks.lineage;
      ks.lineage = null;
      if (deps) {
        for (const d of deps) {
          d.lineageRefs--;
          todo.push(d);
        }
      }
    }
  }

  /** Back to pending (e.g. a retried or resubmitted key). */
  reset(): void {
    if (this.#held && this.settled) activity.begin();
    this.status = "pending";
    this.error = null;
    this.payload = null;
    this.value = undefined;
    this.decoded = false;
    this.strong ??= [];
  }
}

/**
 * The Client a Future belongs to, as the Future sees it: a Client (compare with `===`), declared
 * here so that futures need not import the client's module.
 */
export interface FutureOwner {
  /** The scheduler's address the client is connected to. */
  readonly schedulerAddress: string;
  /** The client's id at the scheduler. */
  readonly id: string;
}

/** What a Future needs from its client (a private object of the Client, not the Client). */
export interface FutureHost {
  /** Resolves with the key's value (fetching it if needed), or rejects with its error. */
  keyValue(ks: KeyState): Promise<unknown>;
  /** Drops one reference to the key. */
  releaseKey(ks: KeyState): void;
  /** Cancels the keys. */
  cancelKeys(states: KeyState[], force: boolean): Promise<void>;
  /** Runs the erred keys of these Futures again. */
  retryKeys(futures: Future<unknown>[]): Promise<void>;
}

interface Token {
  released: boolean;
  ks: KeyState;
  host: FutureHost;
}

const registry = new FinalizationRegistry<Token>((t) => {
  if (!t.released) {
    t.released = true;
    t.host.releaseKey(t.ks);
  }
});

let make: (ks: KeyState, host: FutureHost, client: FutureOwner) => Future<unknown>;
let stateOf: (future: Future<unknown>) => KeyState;

/**
 * A handle on a task's result, returned at once by `client.submit`, `map`, `scatter` and
 * `compute`. `await future` gives its value (or throws the task's error); the cluster keeps
 * the value while a Future of its key lives, and `release()` (or `using`) lets it go.
 *
 * @example Submit, await, and release
 * ```ts
 * import { Client, LocalCluster } from "@x/dtask";
 *
 * await using cluster = await LocalCluster.start({ nWorkers: 1 });
 * await using client = await Client.connect(cluster);
 * using future = client.submit((x: number) => x * 2, 21);
 * console.log(future.key, future.status); // "lambda-…" "pending"
 * console.log(await future); // 42
 * console.log(future.status); // "finished"
 * const late = client.submit((ms: number) => new Promise((r) => setTimeout(r, ms)), 60_000);
 * await late.result({ timeout: 100 }).catch((e) => console.log(e.name)); // "TimeoutError"
 * await late.cancel();
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  /** The Client that made this Future (`future.client === client`). */
  readonly client: FutureOwner;
  readonly #ks: KeyState;
  readonly #host: FutureHost;
  readonly #token: Token;

  /** Made by a Client (see `newFuture`); one Future holds one reference to its key. */
  private constructor(ks: KeyState, host: FutureHost, client: FutureOwner) {
    this.client = client;
    this.#ks = ks;
    this.#host = host;
    this.#token = { released: false, ks, host };
    ks.refs++;
    if (ks.strong) ks.strong.push(this as Future<unknown>);
    registry.register(this, this.#token, this.#token);
  }

  /** The task's key. */
  get key(): string {
    return this.#ks.key;
  }

  /** "pending", "finished", "error", "cancelled" or "lost". */
  get status(): FutureStatus {
    return this.#ks.status;
  }

  /** How `console.log` shows it: `Future { key: "inc-…", status: "pending" }`. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Future { key: ${JSON.stringify(this.key)}, status: ${JSON.stringify(this.status)} }`;
  }

  /** How `deno jupyter` shows it: its key, status, and its value's type once known. */
  [Symbol.for("Jupyter.display")](): DisplayBundle {
    const ks = this.#ks;
    const type = ks.decoded
      ? typeName(ks.value)
      : ks.status === "error" && ks.error
      ? ks.error.name
      : null;
    return futureDisplay(this.key, this.status, type);
  }

  /** Whether the Future has settled. */
  done(): boolean {
    return this.#ks.settled;
  }

  /** The value; rejects with the task's error, CancelledError, or TimeoutError after `timeout` ms. */
  result(options: { timeout?: number } = {}): Promise<T> {
    if (this.#token.released) {
      return Promise.reject(new CancelledError(`Future ${this.key} was released`));
    }
    const ks = this.#ks;
    if (ks.settled || options.timeout === undefined) return this.#host.keyValue(ks) as Promise<T>;
    return new Promise<T>((resolve, reject) => {
      const onSettled = () => {
        clearTimeout(timer);
        (this.#host.keyValue(ks) as Promise<T>).then(resolve, reject);
      };
      const timer = setTimeout(() => {
        ks.offSettled(onSettled);
        reject(new TimeoutError(`Future ${this.key} did not finish within ${options.timeout} ms`));
      }, options.timeout);
      ks.onSettled(onSettled);
    });
  }

  /** The task's error once settled (null if it finished fine). */
  async exception(options: { timeout?: number } = {}): Promise<Error | null> {
    try {
      await this.result(options);
      return null;
    } catch (e) {
      if (e instanceof TimeoutError && !this.#ks.settled) throw e;
      return e as Error;
    }
  }

  /** The remote stack of the task's error, or null. */
  async traceback(): Promise<string | null> {
    const e = await this.exception();
    return (e as { remoteStack?: string } | null)?.remoteStack ?? e?.stack ?? null;
  }

  /** Calls `cb(future)` once the Future settles. */
  addDoneCallback(cb: (f: Future<T>) => void): void {
    this.#ks.onSettled(() => cb(this));
  }

  /** Thenable: `await future` gives the value. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.result().then(onfulfilled, onrejected);
  }

  /**
   * Cancels the task: this Future (and every Future of its key on this client) settles
   * `cancelled`, and the scheduler drops it and the dependents only this client wants (with
   * `force`, even when other clients want them).
   */
  cancel(options: { force?: boolean } = {}): Promise<void> {
    return this.#host.cancelKeys([this.#ks], options.force === true);
  }

  /** Whether the Future was cancelled. */
  cancelled(): boolean {
    return this.#ks.status === "cancelled";
  }

  /** Runs an erred task again (and its erred dependencies): the Future goes back to pending. */
  retry(): Promise<void> {
    return this.#host.retryKeys([this as Future<unknown>]);
  }

  /** Drops this Future's hold on the key; the cluster forgets data nobody needs. Idempotent. */
  release(): void {
    if (this.#token.released) return;
    this.#token.released = true;
    registry.unregister(this.#token);
    this.#host.releaseKey(this.#ks);
  }

  /** Same as release(), for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Whether this Future was released. */
  get released(): boolean {
    return this.#token.released;
  }

  /** `<Future: status, key: key>`, as Dask prints a Future. */
  toString(): string {
    return `<Future: ${this.status}, key: ${this.key}>`;
  }

  static {
    make = (ks, host, client) => new Future(ks, host, client);
    stateOf = (future) => future.#ks;
  }
}

/** A new Future of `ks` for `client`, one more reference to the key (client/ only). */
export function newFuture<T = unknown>(
  ks: KeyState,
  host: FutureHost,
  client: FutureOwner,
): Future<T> {
  return make(ks, host, client) as Future<T>;
}

/** The client's record of a Future's key, shared by every Future of that key (client/ only). */
export function keyStateOf(future: Future<unknown>): KeyState {
  return stateOf(future);
}
