/**
 * The scheduler's semaphores, as a pure state machine (no I/O, no timers; the caller passes the
 * time): each named semaphore has `max` leases; a request gets one when fewer are held and no
 * earlier request waits, else it waits its turn (first come, first served). A lease is named by
 * its client and the id the client chose. A semaphore is registered with its `max` the first
 * time its name is used, and keeps it: the same name with another `max` is an error. It also
 * keeps Dask's metrics (acquires and releases ever, the average time a lease waited).
 *
 * @module
 */
import { LeaseError } from "../core/errors.ts";
import { type AcquireOutcome, leaseKey } from "./lock_table.ts";

/** A request for one lease of semaphore `name`. */
export interface LeaseRequest {
  /** The client session it came from. */
  readonly client: string;
  /** The lease id the client chose. */
  readonly lease: string;
  /** The semaphore's name. */
  readonly name: string;
}

/** What a release did, and the waiters it let in. */
export interface LeaseReleaseOutcome {
  /** "held": a lease came back; "waiting": a waiter was dropped; "none": neither. */
  readonly was: "held" | "waiting" | "none";
  /** Waiters granted as a consequence. */
  readonly granted: LeaseRequest[];
}

/** One semaphore as `/metrics` shows it (Dask's `semaphore_*` metrics). */
export interface SemaphoreMetrics {
  name: string;
  maxLeases: number;
  /** Leases held now. */
  activeLeases: number;
  /** Requests waiting now. */
  pendingLeases: number;
  /** Acquire calls, ever (granted or not). */
  acquireTotal: number;
  /** Leases given back, ever. */
  releaseTotal: number;
  /** Seconds a granted lease waited: Dask's running average, (average + latest) / 2. */
  averagePendingLeaseTime: number;
}

interface Semaphore {
  readonly max: number;
  /** Held leases: key -> request. */
  readonly held: Map<string, LeaseRequest>;
  /** Waiting requests by key, in arrival order, with when they arrived. */
  readonly queue: Map<string, { req: LeaseRequest; since: number }>;
  acquireTotal: number;
  releaseTotal: number;
  /** Seconds. */
  averageWait: number;
}

/** Named semaphores: their leases, FIFO waiters and metrics. */
export class SemaphoreTable {
  readonly #semaphores = new Map<string, Semaphore>();
  /** Lease key -> its semaphore's name (held or waiting). */
  readonly #leases = new Map<string, string>();
  /** Client -> keys of its leases, held or waiting. */
  readonly #byClient = new Map<string, Set<string>>();

  /**
   * Registers semaphore `name` with `max` leases (the first time its name is used); throws a
   * LeaseError when it exists with another `max`.
   */
  register(name: string, max: number): void {
    this.#get(name, max);
  }

  /**
   * A lease is asked for at time `now` (ms): granted when fewer than `max` are held and nobody
   * waits; else queued (or, with `wait` false, refused).
   */
  acquire(req: LeaseRequest, max: number, wait: boolean, now: number): AcquireOutcome {
    const s = this.#get(req.name, max);
    const key = leaseKey(req.client, req.lease);
    if (this.#leases.has(key)) {
      throw new LeaseError(`lease ${JSON.stringify(req.lease)} is already in use by this client`);
    }
    s.acquireTotal++;
    if (s.queue.size === 0 && s.held.size < s.max) {
      this.#grant(s, key, req, 0);
      return "granted";
    }
    if (!wait) return "refused";
    s.queue.set(key, { req, since: now });
    this.#own(req.client, key, req.name);
    return "waiting";
  }

  /** A lease comes back, or a waiter stops waiting (timed out, or given up), at time `now`. */
  release(client: string, lease: string, now: number): LeaseReleaseOutcome {
    const key = leaseKey(client, lease);
    const name = this.#leases.get(key);
    if (name === undefined) return { was: "none", granted: [] };
    const s = this.#semaphores.get(name)!;
    const was = this.#drop(s, key);
    return { was, granted: this.#serve(s, now) };
  }

  /** A client left (for good, or its worker was removed): its leases come back. */
  clientGone(client: string, now: number): { dropped: LeaseRequest[]; granted: LeaseRequest[] } {
    const keys = this.#byClient.get(client);
    if (keys === undefined) return { dropped: [], granted: [] };
    const dropped: LeaseRequest[] = [], touched = new Set<Semaphore>();
    for (const key of [...keys]) {
      const s = this.#semaphores.get(this.#leases.get(key)!)!;
      const waiting = s.queue.get(key);
      if (waiting !== undefined) dropped.push(waiting.req);
      this.#drop(s, key);
      touched.add(s);
    }
    const granted = [...touched].flatMap((s) => this.#serve(s, now));
    return { dropped, granted };
  }

  /** Leases of `name` held now (registering it with `max` if new). */
  value(name: string, max: number): number {
    return this.#get(name, max).held.size;
  }

  /** Whether the lease is held now. */
  holds(client: string, lease: string): boolean {
    const key = leaseKey(client, lease);
    const name = this.#leases.get(key);
    return name !== undefined && this.#semaphores.get(name)!.held.has(key);
  }

  /** Every semaphore's metrics, by name. */
  metrics(): SemaphoreMetrics[] {
    return Array.from(this.#semaphores, ([name, s]) => ({
      name,
      maxLeases: s.max,
      activeLeases: s.held.size,
      pendingLeases: s.queue.size,
      acquireTotal: s.acquireTotal,
      releaseTotal: s.releaseTotal,
      averagePendingLeaseTime: s.averageWait,
    }));
  }

  /** Sizes, for tests and checks: leases known (held or waiting) and clients holding them. */
  get sizes(): { leases: number; clients: number } {
    return { leases: this.#leases.size, clients: this.#byClient.size };
  }

  #get(name: string, max: number): Semaphore {
    const s = this.#semaphores.get(name);
    if (s !== undefined) {
      if (s.max !== max) {
        throw new LeaseError(
          `semaphore ${JSON.stringify(name)} exists with maxLeases ${s.max}, not ${max}: ` +
            `give every Semaphore of one name the same maxLeases`,
        );
      }
      return s;
    }
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new TypeError(`maxLeases must be a whole number of at least 1, not ${max}`);
    }
    const made: Semaphore = {
      max,
      held: new Map(),
      queue: new Map(),
      acquireTotal: 0,
      releaseTotal: 0,
      averageWait: 0,
    };
    this.#semaphores.set(name, made);
    return made;
  }

  #grant(s: Semaphore, key: string, req: LeaseRequest, waitedMs: number): void {
    s.held.set(key, req);
    s.averageWait = (s.averageWait + waitedMs / 1000) / 2;
    this.#own(req.client, key, req.name);
  }

  #own(client: string, key: string, name: string): void {
    this.#leases.set(key, name);
    let keys = this.#byClient.get(client);
    if (keys === undefined) this.#byClient.set(client, keys = new Set());
    keys.add(key);
  }

  #drop(s: Semaphore, key: string): LeaseReleaseOutcome["was"] {
    const held = s.held.get(key);
    const waiting = s.queue.get(key);
    const client = held?.client ?? waiting?.req.client;
    if (client === undefined) return "none";
    this.#leases.delete(key);
    const keys = this.#byClient.get(client)!;
    keys.delete(key);
    if (keys.size === 0) this.#byClient.delete(client);
    if (held !== undefined) {
      s.held.delete(key);
      s.releaseTotal++;
      return "held";
    }
    s.queue.delete(key);
    return "waiting";
  }

  /** Grants waiters, oldest first, while leases are free. */
  #serve(s: Semaphore, now: number): LeaseRequest[] {
    const granted: LeaseRequest[] = [];
    for (const [key, { req, since }] of s.queue) {
      if (s.held.size >= s.max) break;
      s.queue.delete(key);
      s.held.set(key, req);
      s.averageWait = (s.averageWait + (now - since) / 1000) / 2;
      granted.push(req);
    }
    return granted;
  }
}
