/**
 * The scheduler's lock table: which lease holds each named lock, and the requests waiting, as a
 * pure state machine (no I/O, no timers: what it decides comes back as data). A `Lock` is a
 * request for one name; a `MultiLock` asks for several at once, all of them or any `need` of
 * them, and gets them all-or-nothing. One table serves both, so `MultiLock(["a", "b"])` and
 * `Lock("a")` exclude each other.
 *
 * Waiters are served first come, first served: a waiter that cannot be granted reserves every
 * name it asked for, so a later request does not take one of them before it (no starvation of
 * a MultiLock by a stream of single Locks). A lease is named by its client and the id the client
 * chose; each lease holds (or waits for) one request.
 *
 * @module
 */
import { LeaseError } from "../core/errors.ts";

/** A request of the table: a lease of a client, for `need` of `names`. */
export interface LockRequest {
  /** The client session it came from. */
  readonly client: string;
  /** The lease id the client chose (one request per lease). */
  readonly lease: string;
  /** The names asked for (no duplicates). */
  readonly names: readonly string[];
  /** How many of them it needs (all of them for a Lock). */
  readonly need: number;
}

/** What an acquire did: granted at once, queued, or refused (it would have had to wait). */
export type AcquireOutcome = "granted" | "waiting" | "refused";

/** What a release did, and the waiters it let in. */
export interface ReleaseOutcome {
  /** "held": the lease held names, now free; "waiting": it was waiting, now dropped. */
  readonly was: "held" | "waiting" | "none";
  /** Waiters granted as a consequence, in the order they were served. */
  readonly granted: LockRequest[];
}

/** What a client's leaving did: its waiters dropped, and waiters granted as a consequence. */
export interface LeaveOutcome {
  readonly dropped: LockRequest[];
  readonly granted: LockRequest[];
}

/** A lease's key in the table: its client and its id. */
export function leaseKey(client: string, lease: string): string {
  return `${client}\n${lease}`;
}

/** Named locks: holders, FIFO waiters, and the leases of each client. */
export class LockTable {
  /** Name -> key of the lease holding it. */
  readonly #holder = new Map<string, string>();
  /** Held leases by key: the request and the names it took. */
  readonly #held = new Map<string, { req: LockRequest; names: string[] }>();
  /** Waiting requests by key, in arrival order (a Map keeps insertion order). */
  readonly #queue = new Map<string, LockRequest>();
  /** Name -> how many waiters asked for it (the names an arriving request may not take). */
  readonly #wanted = new Map<string, number>();
  /** Client -> keys of its leases, held or waiting. */
  readonly #byClient = new Map<string, Set<string>>();

  /**
   * A request arrives: granted when `need` of its names are free and no earlier waiter asked
   * for them; else queued (or, with `wait` false, refused). Throws on a malformed request or a
   * lease id the client already uses.
   */
  acquire(req: LockRequest, wait: boolean): AcquireOutcome {
    checkRequest(req);
    const key = leaseKey(req.client, req.lease);
    if (this.#held.has(key) || this.#queue.has(key)) {
      throw new LeaseError(`lease ${JSON.stringify(req.lease)} is already in use by this client`);
    }
    const free = req.names.filter((n) => !this.#holder.has(n) && !this.#wanted.has(n));
    if (free.length >= req.need) {
      this.#take(key, req, free);
      return "granted";
    }
    if (!wait) return "refused";
    this.#queue.set(key, req);
    for (const n of req.names) this.#wanted.set(n, (this.#wanted.get(n) ?? 0) + 1);
    this.#own(req.client, key);
    return "waiting";
  }

  /**
   * The lease gives back what it holds, or stops waiting (its acquire timed out, or its client
   * gave up). Waiters it let in are granted.
   */
  release(client: string, lease: string): ReleaseOutcome {
    const freed = this.#drop(leaseKey(client, lease));
    const was = freed === null ? "none" : freed.was;
    return { was, granted: freed === null ? [] : this.#serve(freed.names) };
  }

  /** A client left (for good, or its worker was removed): its leases go, its waiters drop. */
  clientGone(client: string): LeaveOutcome {
    const keys = this.#byClient.get(client);
    if (keys === undefined) return { dropped: [], granted: [] };
    const dropped: LockRequest[] = [], freed = new Set<string>();
    for (const key of [...keys]) {
      const waiting = this.#queue.get(key);
      if (waiting !== undefined) dropped.push(waiting);
      for (const n of this.#drop(key)?.names ?? []) freed.add(n);
    }
    return { dropped, granted: this.#serve(freed) };
  }

  /** How many of `names` are held now. */
  heldCount(names: readonly string[]): number {
    let n = 0;
    for (const name of names) if (this.#holder.has(name)) n++;
    return n;
  }

  /** Whether the lease holds names now. */
  holds(client: string, lease: string): boolean {
    return this.#held.has(leaseKey(client, lease));
  }

  /** Whether the lease is waiting. */
  isWaiting(client: string, lease: string): boolean {
    return this.#queue.has(leaseKey(client, lease));
  }

  /** The holder of `name` (client and lease), if any. */
  holderOf(name: string): { client: string; lease: string } | undefined {
    const key = this.#holder.get(name);
    const req = key === undefined ? undefined : this.#held.get(key)?.req;
    return req && { client: req.client, lease: req.lease };
  }

  /** Sizes, for tests and checks: names held, leases held, waiters. */
  get sizes(): { names: number; held: number; waiting: number; clients: number } {
    return {
      names: this.#holder.size,
      held: this.#held.size,
      waiting: this.#queue.size,
      clients: this.#byClient.size,
    };
  }

  #take(key: string, req: LockRequest, free: string[]): void {
    const names = free.slice(0, req.need);
    for (const n of names) this.#holder.set(n, key);
    this.#held.set(key, { req, names });
    this.#own(req.client, key);
  }

  #own(client: string, key: string): void {
    let keys = this.#byClient.get(client);
    if (keys === undefined) this.#byClient.set(client, keys = new Set());
    keys.add(key);
  }

  #disown(client: string, key: string): void {
    const keys = this.#byClient.get(client);
    keys?.delete(key);
    if (keys?.size === 0) this.#byClient.delete(client);
  }

  /**
   * Forgets lease `key`, held or waiting; says which it was and the names it freed (held) or
   * stopped reserving (waiting); null when the table did not know it.
   */
  #drop(key: string): { was: "held" | "waiting"; names: readonly string[] } | null {
    const held = this.#held.get(key);
    if (held !== undefined) {
      this.#held.delete(key);
      for (const n of held.names) this.#holder.delete(n);
      this.#disown(held.req.client, key);
      return { was: "held", names: held.names };
    }
    const waiting = this.#queue.get(key);
    if (waiting === undefined) return null;
    this.#unqueue(key, waiting);
    return { was: "waiting", names: waiting.names };
  }

  #unqueue(key: string, req: LockRequest): void {
    this.#queue.delete(key);
    for (const n of req.names) {
      const left = this.#wanted.get(n)! - 1;
      if (left === 0) this.#wanted.delete(n);
      else this.#wanted.set(n, left);
    }
    this.#disown(req.client, key);
  }

  /**
   * Grants the waiters that can go now that the names `freed` are free (or no longer reserved),
   * oldest first; a waiter that cannot go reserves its names for itself against the waiters
   * after it. No waiter could go before, so the walk ends once every freed name (and every name
   * a granted waiter asked for but did not take) is held or reserved again: the waiters after
   * that point see the table as they saw it before. A release of a lock with many waiters
   * grants the first and stops.
   */
  #serve(freed: Iterable<string>): LockRequest[] {
    const granted: LockRequest[] = [];
    if (this.#queue.size === 0) return granted;
    const open = new Set(freed);
    const reserved = new Set<string>();
    const closed = (n: string) => this.#holder.has(n) || reserved.has(n);
    for (const [key, req] of this.#queue) {
      for (const n of open) if (closed(n)) open.delete(n);
      if (open.size === 0) break;
      const free = req.names.filter((n) => !closed(n));
      if (free.length >= req.need) {
        this.#unqueue(key, req);
        this.#take(key, req, free);
        granted.push(req);
        for (const n of req.names) open.add(n); // those it did not take are open to others
      } else {
        for (const n of req.names) reserved.add(n);
      }
    }
    return granted;
  }
}

/** Throws a TypeError for a request the client should not have sent. */
function checkRequest(req: LockRequest): void {
  if (req.names.length === 0) throw new TypeError("a lock request needs at least one name");
  if (new Set(req.names).size !== req.names.length) {
    throw new TypeError("a lock request names each lock once");
  }
  if (!Number.isInteger(req.need) || req.need < 1 || req.need > req.names.length) {
    throw new TypeError(
      `a lock request needs between 1 and ${req.names.length} of its locks, not ${req.need}`,
    );
  }
}
