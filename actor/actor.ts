/**
 * The actor: a mailbox processed one message at a time, with lifecycle hooks.
 *
 * Hot path: `tell` pushes onto a plain array (consumed through a head index, never `shift()`);
 * the mailbox is drained in a microtask, synchronously for as long as `receive` returns
 * synchronously; an async `receive` is awaited before the next message starts. No timers.
 *
 * @module
 */

import type { Supervisable } from "./supervisor.ts";

/** A handle for sending messages to an actor; safe to keep after the actor stopped. */
export interface ActorRef<M> {
  /** Enqueue `msg`; never throws: once the actor is stopping the message is dropped and counted. */
  tell(msg: M): void;
  /** The actor's name. */
  readonly name: string;
  /** True once the actor is stopping or stopped (it accepts no more messages). */
  readonly stopped: boolean;
}

const NEW = 0;
const STARTING = 1;
const RUNNING = 2;
const STOPPING = 3;
const STOPPED = 4;

/** Messages handled synchronously in one microtask turn before yielding to other microtasks. */
const BATCH = 1024;
/** Consumed slots at the queue's front before the array is compacted (while never empty). */
const COMPACT_AT = 4096;

class Ref<M> implements ActorRef<M> {
  readonly #actor: { readonly stopped: boolean };
  constructor(readonly name: string, readonly tell: (msg: M) => void, actor: Actor<M>) {
    this.#actor = actor;
  }
  get stopped(): boolean {
    return this.#actor.stopped;
  }
}

type Thenable = { then(ok: () => void, err: (e: unknown) => void): unknown };

/**
 * Base class of every actor. Subclasses implement `receive`; they may override `preStart` and
 * `postStop`. Call `start()` once; `stop()` is idempotent. A `receive` that throws or rejects
 * stops the actor with that error as its failure, then calls `onFailure(error)`. A stop with no
 * failure calls `onExit()`. Inside `receive`, call `this.stop()` without awaiting it.
 */
export abstract class Actor<M> implements Supervisable {
  /** The actor's name (defaults to the class name). */
  readonly name: string;
  /** The actor's handle, the same object for its whole life. */
  readonly ref: ActorRef<M>;
  /** Set by the starter (a Supervisor): called once, after `postStop`, if the actor failed. */
  onFailure: ((error: unknown) => void) | undefined = undefined;
  /** Set by the starter (a Supervisor): called once, after `postStop`, if it stopped normally. */
  onExit: (() => void) | undefined = undefined;

  #queue: (M | undefined)[] = [];
  #head = 0;
  #state = NEW;
  #scheduled = false;
  #current: Promise<void> | undefined = undefined;
  #starting: Promise<void> | undefined = undefined;
  #startFailed = false;
  #stopping: Promise<void> | undefined = undefined;
  #failed = false;
  #failure: unknown = undefined;
  #dropped = 0;

  /** `name` defaults to the subclass's name. */
  constructor(name?: string) {
    this.name = name ?? new.target.name;
    this.ref = new Ref(this.name, (msg: M): void => this.#tell(msg), this);
  }

  /** Handle one message; the next one starts only once this returns (or its promise settles). */
  protected abstract receive(msg: M): void | Promise<void>;

  /** Runs in `start()` before any message; if it throws, `start()` rejects and nothing runs. */
  protected preStart(): void | Promise<void> {}

  /** Runs once when the actor stops (after the in-flight message); gets the failure or reason. */
  protected postStop(_reason?: unknown): void | Promise<void> {}

  /** True once the actor is stopping or stopped. */
  get stopped(): boolean {
    return this.#state >= STOPPING;
  }

  /** Messages never delivered: told after stop, or still queued when the actor stopped. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Messages waiting in the mailbox (the in-flight one excluded). */
  get mailboxSize(): number {
    return this.#queue.length - this.#head;
  }

  /** The error that stopped the actor, or undefined if it has not failed. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Whether the actor stopped (or is stopping) because of a failure. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Run `preStart`, then begin processing the mailbox (messages told before start included). */
  start(): Promise<void> {
    if (this.#state !== NEW) {
      return Promise.reject(new Error(`actor ${this.name} was already started`));
    }
    this.#state = STARTING;
    this.#starting = this.#doStart();
    return this.#starting;
  }

  /** Stop: drop queued messages, await the in-flight one, run `postStop`; idempotent. */
  stop(reason?: unknown): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#state === NEW || this.#state === STOPPED) {
      this.#state = STOPPED;
      this.#dropQueue();
      this.#stopping = Promise.resolve();
    } else {
      this.#stopping = this.#finish(reason);
    }
    return this.#stopping;
  }

  async #doStart(): Promise<void> {
    try {
      await this.preStart();
    } catch (error) {
      this.#startFailed = true;
      this.#state = STOPPED;
      this.#dropQueue();
      throw error;
    }
    if (this.#state !== STARTING) return; // stop() was called during preStart
    this.#state = RUNNING;
    this.#schedule();
  }

  #tell(msg: M): void {
    if (this.#state >= STOPPING) {
      this.#dropped++;
      return;
    }
    this.#queue.push(msg);
    this.#schedule();
  }

  #schedule(): void {
    if (
      this.#state === RUNNING && !this.#scheduled && this.#current === undefined &&
      this.#head < this.#queue.length
    ) {
      this.#scheduled = true;
      queueMicrotask(this.#kick);
    }
  }

  #kick = (): void => {
    this.#scheduled = false;
    this.#drain();
  };

  #onDone = (): void => {
    this.#current = undefined;
    this.#drain();
  };

  #onError = (error: unknown): void => {
    this.#current = undefined;
    this.#fail(error);
  };

  #drain(): void {
    const queue = this.#queue;
    let budget = BATCH;
    while (this.#state === RUNNING && this.#head < queue.length) {
      if (--budget < 0) return this.#schedule();
      const msg = queue[this.#head] as M;
      queue[this.#head++] = undefined;
      if (this.#head === queue.length) {
        queue.length = 0;
        this.#head = 0;
      } else if (this.#head >= COMPACT_AT && this.#head * 2 >= queue.length) {
        queue.copyWithin(0, this.#head);
        queue.length -= this.#head;
        this.#head = 0;
      }
      let result: void | Promise<void>;
      try {
        result = this.receive(msg);
      } catch (error) {
        return this.#fail(error);
      }
      if (result !== undefined && typeof (result as Thenable).then === "function") {
        this.#current = Promise.resolve(result).then(this.#onDone, this.#onError);
        return;
      }
    }
  }

  #fail(error: unknown): void {
    if (!this.#failed) {
      this.#failed = true;
      this.#failure = error;
    }
    this.#stopping ??= this.#finish(error);
  }

  #dropQueue(): void {
    this.#dropped += this.#queue.length - this.#head;
    this.#queue.length = 0;
    this.#head = 0;
  }

  async #finish(reason: unknown): Promise<void> {
    this.#state = STOPPING;
    this.#dropQueue();
    if (this.#starting) await this.#starting.catch(() => {});
    if (this.#startFailed) return; // never started: no postStop, no hooks (start() rejected)
    await null; // let a synchronous receive that called stop() return first
    while (this.#current) await this.#current;
    try {
      await this.postStop(this.#failed ? this.#failure : reason);
    } catch (error) {
      if (!this.#failed) {
        this.#failed = true;
        this.#failure = error;
      }
    }
    this.#state = STOPPED;
    const onFailure = this.onFailure;
    const onExit = this.onExit;
    this.onFailure = undefined;
    this.onExit = undefined;
    if (this.#failed) onFailure?.(this.#failure);
    else onExit?.();
  }
}
