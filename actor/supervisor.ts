/**
 * A one-for-one supervisor: when a child fails only that child is replaced, by a new instance
 * from its factory, within a restart-intensity limit (at most `maxRestarts` restarts within
 * `withinMs`, per child). Past the limit it gives up on that child: `onGiveUp(name, lastError)`
 * is called, a "gave-up" event is recorded, and the failure is escalated to the supervisor's
 * own `onFailure` (set when the supervisor is itself supervised). No timers are used.
 *
 * @module
 */

/** Anything a Supervisor can run: an Actor, a process nanny, a nested Supervisor. */
export interface Supervisable {
  /** Start the child; a rejection means it did not start. */
  start(): void | Promise<void>;
  /** Stop the child and release what it holds; must be idempotent. */
  stop(reason?: unknown): void | Promise<void>;
  /** Set by the supervisor: the child calls it once when it fails on its own. */
  onFailure?: ((error: unknown) => void) | undefined;
  /** Set by the supervisor: the child calls it once when it ends normally on its own. */
  onExit?: (() => void) | undefined;
}

/** permanent: always restarted; transient: only after a failure; temporary: never. */
export type RestartPolicy = "permanent" | "transient" | "temporary";

/** Per-child options of `Supervisor.supervise`. */
export interface ChildOptions {
  /** When to restart the child (default "permanent"). */
  restart?: RestartPolicy;
}

/** Options of a Supervisor. */
export interface SupervisorOptions {
  /** Restarts allowed per child within `withinMs` (default 5). */
  maxRestarts?: number;
  /** The intensity window in milliseconds (default 60000). */
  withinMs?: number;
  /** Clock in milliseconds (default `performance.now`); inject one to test without sleeping. */
  now?: () => number;
  /** Called when the supervisor stops restarting a child, with the child's last error. */
  onGiveUp?: (name: string, lastError: unknown) => void;
  /** Called with each event as it is recorded in `events`. */
  onEvent?: (event: SupervisorEvent) => void;
  /** How many events `events` keeps, the oldest dropped first (default 1000). */
  maxEvents?: number;
}

/** What happened to a child: see `SupervisorEvent`. */
export type SupervisorEventType =
  | "started"
  | "failed"
  | "exited"
  | "restarted"
  | "gave-up"
  | "stopped"
  | "stop-error";

/** One record of `Supervisor.events`; `error` is set for "failed", "gave-up", "stop-error". */
export interface SupervisorEvent {
  /** What happened. */
  type: SupervisorEventType;
  /** The child's name. */
  name: string;
  /** When, by the supervisor's clock. */
  time: number;
  /** The error involved, if any. */
  error?: unknown;
}

/** running | restarting | exited (ended, not restarted) | failed (not restarted) | gave-up | stopped. */
export type ChildStatus = "running" | "restarting" | "exited" | "failed" | "gave-up" | "stopped";

interface Child {
  name: string;
  factory: () => Supervisable | Promise<Supervisable>;
  restart: RestartPolicy;
  instance: Supervisable | undefined;
  status: ChildStatus;
  restarts: number[];
  pending: Promise<void> | undefined;
  stopping: boolean;
}

const noop = (): void => {};

function detach(child: Supervisable): void {
  child.onFailure = undefined;
  child.onExit = undefined;
}

async function stopQuietly(child: Supervisable): Promise<void> {
  detach(child);
  try {
    await child.stop();
  } catch {
    // it did not start, or is already broken: nothing more to release here
  }
}

/** A one-for-one supervisor of named children; itself Supervisable, so trees nest. */
export class Supervisor implements Supervisable {
  /** Recent events, oldest first (bounded by `maxEvents`). */
  readonly events: SupervisorEvent[] = [];
  /** Set by a parent supervisor: called when this supervisor gives up on a child. */
  onFailure: ((error: unknown) => void) | undefined = undefined;
  /** Set by a parent supervisor; a Supervisor never ends on its own, so it is never called. */
  onExit: (() => void) | undefined = undefined;

  readonly #maxRestarts: number;
  readonly #withinMs: number;
  readonly #now: () => number;
  readonly #onGiveUp: ((name: string, lastError: unknown) => void) | undefined;
  readonly #onEvent: ((event: SupervisorEvent) => void) | undefined;
  readonly #maxEvents: number;
  readonly #children = new Map<string, Child>();
  #stopping: Promise<void> | undefined = undefined;

  /** See `SupervisorOptions` for the defaults. */
  constructor(options: SupervisorOptions = {}) {
    this.#maxRestarts = options.maxRestarts ?? 5;
    this.#withinMs = options.withinMs ?? 60_000;
    this.#now = options.now ?? (() => performance.now());
    this.#onGiveUp = options.onGiveUp;
    this.#onEvent = options.onEvent;
    this.#maxEvents = options.maxEvents ?? 1000;
  }

  /** Start the child `name` from `factory` and supervise it; rejects if it could not start. */
  async supervise<T extends Supervisable>(
    name: string,
    factory: () => T | Promise<T>,
    options: ChildOptions = {},
  ): Promise<T> {
    if (this.#stopping) throw new Error(`supervisor is stopped; cannot start ${name}`);
    const old = this.#children.get(name);
    if (old && (old.instance || old.pending)) {
      throw new Error(`child ${name} is already supervised`);
    }
    this.#children.delete(name); // a new child goes last in start order
    const child: Child = {
      name,
      factory,
      restart: options.restart ?? "permanent",
      instance: undefined,
      status: "restarting",
      restarts: [],
      pending: undefined,
      stopping: false,
    };
    this.#children.set(name, child);
    const work = this.#spawn(child);
    this.#track(child, work);
    try {
      return (await work) as T;
    } catch (error) {
      if (this.#children.get(name) === child) this.#children.delete(name);
      throw error;
    }
  }

  /** Nothing to do: children start in `supervise`. Present so a Supervisor can be supervised. */
  start(): void {}

  /** Stop every child in reverse start order, each awaited; idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  /** Stop one child without restarting it (its status becomes "stopped"). */
  async stopChild(name: string): Promise<void> {
    const child = this.#children.get(name);
    if (child) await this.#stopOne(child);
  }

  /** The child's current running instance, if any. */
  child(name: string): Supervisable | undefined {
    return this.#children.get(name)?.instance;
  }

  /** The child's status, or undefined for an unknown name. */
  status(name: string): ChildStatus | undefined {
    return this.#children.get(name)?.status;
  }

  /** Names of the children, in start order. */
  names(): string[] {
    return [...this.#children.keys()];
  }

  async #spawn(child: Child): Promise<Supervisable> {
    const instance = await child.factory();
    if (this.#stopping || child.stopping) {
      await stopQuietly(instance);
      throw new Error(`supervisor stopped while starting ${child.name}`);
    }
    child.instance = instance;
    instance.onFailure = (error) => this.#down(child, instance, true, error);
    instance.onExit = () => this.#down(child, instance, false, undefined);
    try {
      await instance.start();
    } catch (error) {
      if (child.instance === instance) child.instance = undefined;
      await stopQuietly(instance);
      throw error;
    }
    if (child.instance === instance) {
      child.status = "running";
      this.#record("started", child.name);
    }
    return instance;
  }

  #down(child: Child, instance: Supervisable, failed: boolean, error: unknown): void {
    if (child.instance !== instance || this.#stopping || child.stopping) return;
    detach(instance);
    child.instance = undefined;
    this.#record(failed ? "failed" : "exited", child.name, failed ? error : undefined);
    const restart = child.restart === "permanent" || (child.restart === "transient" && failed);
    if (!restart) {
      child.status = failed ? "failed" : "exited";
      return;
    }
    child.status = "restarting";
    this.#track(child, this.#restart(child, instance, error));
  }

  async #restart(child: Child, old: Supervisable, lastError: unknown): Promise<void> {
    await stopQuietly(old);
    for (;;) {
      if (this.#stopping || child.stopping) return;
      if (!this.#allowRestart(child)) return this.#giveUp(child, lastError);
      try {
        const instance = await this.#spawn(child);
        if (child.instance === instance) this.#record("restarted", child.name);
        return;
      } catch (error) {
        lastError = error;
        this.#record("failed", child.name, error);
      }
    }
  }

  #allowRestart(child: Child): boolean {
    const now = this.#now();
    const since = now - this.#withinMs;
    const restarts = child.restarts;
    while (restarts.length > 0 && restarts[0] <= since) restarts.shift();
    if (restarts.length >= this.#maxRestarts) return false;
    restarts.push(now);
    return true;
  }

  #giveUp(child: Child, lastError: unknown): void {
    child.status = "gave-up";
    this.#record("gave-up", child.name, lastError);
    this.#onGiveUp?.(child.name, lastError);
    this.onFailure?.(lastError);
  }

  #track(child: Child, work: Promise<unknown>): void {
    const pending: Promise<void> = work.then(noop, noop).then(() => {
      if (child.pending === pending) child.pending = undefined;
    });
    child.pending = pending;
  }

  async #stopOne(child: Child): Promise<void> {
    child.stopping = true;
    while (child.pending) await child.pending;
    if (child.status === "restarting") child.status = "stopped"; // a restart was cut short
    const instance = child.instance;
    if (!instance) return;
    child.instance = undefined;
    detach(instance);
    try {
      await instance.stop();
      this.#record("stopped", child.name);
    } catch (error) {
      this.#record("stop-error", child.name, error);
    }
    child.status = "stopped";
  }

  async #stopAll(): Promise<void> {
    const children = [...this.#children.values()].reverse();
    for (const child of children) await this.#stopOne(child);
  }

  #record(type: SupervisorEventType, name: string, error?: unknown): void {
    const event: SupervisorEvent = error === undefined
      ? { type, name, time: this.#now() }
      : { type, name, time: this.#now(), error };
    this.events.push(event);
    if (this.events.length > this.#maxEvents) this.events.shift();
    this.#onEvent?.(event);
  }
}
