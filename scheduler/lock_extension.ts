/**
 * The scheduler's side of Lock, MultiLock and Semaphore: a thin shell around the lock table and
 * the semaphore table (pure state machines). It answers each request on its connection, arms a
 * deadline for each acquire that waits with a timeout (and cancels it when the lease is granted
 * first), and gives back what a client held when it leaves for good, or when the worker a
 * client made inside a task runs in is removed (Dask keeps those until a lease timeout; dtask
 * frees them at once). A grant whose connection closed meanwhile is given back at once: nobody
 * waits for it (the client's acquire failed with the connection).
 *
 * @module
 */
import type { Connection } from "../comm/connection.ts";
import type { LockRequestMessage } from "../comm/protocol.ts";
import { LeaseError, toEnvelope } from "../core/errors.ts";
import type { Deadlines } from "./deadlines.ts";
import type { ClusterListener } from "./cluster_listeners.ts";
import { type AcquireOutcome, leaseKey, LockTable } from "./lock_table.ts";
import { type SemaphoreMetrics, SemaphoreTable } from "./semaphore_table.ts";

/** What the lock extension needs from the scheduler actor. */
export interface LockHost {
  /** Deadlines that fire inside the actor. */
  readonly deadlines: Deadlines;
  /** The clients made inside tasks on the worker at `address`. */
  clientsIn(address: string): Iterable<string>;
  /** The time for the semaphores' metrics (ms). */
  now(): number;
}

/** A lease that waits: where its answer goes, and its deadline (0: none). */
interface Waiting {
  conn: Connection;
  id: number;
  deadline: number;
}

type Kind = "lock" | "semaphore";

/** A granted or dropped request, as both tables give them. */
interface Lease {
  readonly client: string;
  readonly lease: string;
}

/** Locks and semaphores, their waits, and what leaving clients and workers give back. */
export class LockExtension implements ClusterListener {
  /** Lock and MultiLock holders and waiters. */
  readonly locks: LockTable = new LockTable();
  /** Semaphores. */
  readonly semaphores: SemaphoreTable = new SemaphoreTable();
  /** Waiting leases by kind and key. */
  readonly #waiting = new Map<string, Waiting>();

  constructor(readonly host: LockHost) {}

  /** A request of client `client`, answered on `conn`. */
  handle(client: string, m: LockRequestMessage, conn: Connection): void {
    const reply = (ok: boolean) => conn.send({ op: "lease-reply", id: m.id, ok });
    try {
      switch (m.op) {
        case "lock-acquire": {
          const req = { client, lease: m.lease, names: m.names, need: m.n ?? m.names.length };
          const outcome = this.locks.acquire(req, m.timeout !== 0);
          return this.#acquired("lock", client, m.lease, outcome, conn, m.id, m.timeout);
        }
        case "lock-release": {
          const out = this.locks.release(client, m.lease);
          this.#stopWaiting("lock", client, m.lease, out.was);
          reply(out.was !== "none");
          return this.#grant("lock", out.granted);
        }
        case "lock-held":
          conn.send({ op: "lock-held-reply", id: m.id, held: this.locks.heldCount(m.names) });
          return;
        case "semaphore-acquire": {
          const req = { client, lease: m.lease, name: m.name };
          const wait = m.timeout !== 0;
          const outcome = this.semaphores.acquire(req, m.max, wait, this.host.now());
          return this.#acquired("semaphore", client, m.lease, outcome, conn, m.id, m.timeout);
        }
        case "semaphore-release": {
          const out = this.semaphores.release(client, m.lease, this.host.now());
          this.#stopWaiting("semaphore", client, m.lease, out.was);
          reply(out.was !== "none");
          return this.#grant("semaphore", out.granted);
        }
        case "semaphore-value":
          conn.send({
            op: "semaphore-value-reply",
            id: m.id,
            value: this.semaphores.value(m.name, m.max),
          });
          return;
        default: {
          const never: never = m;
          throw new Error(`unhandled lock request ${JSON.stringify(never)}`);
        }
      }
    } catch (e) {
      // a request the tables refuse (a lease id reused, another maxLeases): its caller hears why
      if (m.op === "lock-held") throw e;
      const envelope = toEnvelope(e);
      if (m.op === "semaphore-value") {
        conn.send({ op: "semaphore-value-reply", id: m.id, value: 0, e: envelope });
      } else conn.send({ op: "lease-reply", id: m.id, ok: false, e: envelope });
    }
  }

  /** Every semaphore's metrics. */
  semaphoreMetrics(): SemaphoreMetrics[] {
    return this.semaphores.metrics();
  }

  /** A client left for good: what it held comes back, its waits end. */
  clientGone(id: string): void {
    this.#leave(id, "its client left");
  }

  /** A worker was removed: what the clients made in its tasks held comes back. */
  workerRemoved(address: string): void {
    for (const id of [...this.host.clientsIn(address)]) {
      this.#leave(id, `the worker it ran in (${address}) was removed from the cluster`);
    }
  }

  /** The scheduler is closing: no deadline fires; the connections close anyway. */
  close(): void {
    for (const w of this.#waiting.values()) this.host.deadlines.cancel(w.deadline);
    this.#waiting.clear();
  }

  #acquired(
    kind: Kind,
    client: string,
    lease: string,
    outcome: AcquireOutcome,
    conn: Connection,
    id: number,
    timeout: number | undefined,
  ): void {
    if (outcome !== "waiting") {
      conn.send({ op: "lease-reply", id, ok: outcome === "granted" });
      return;
    }
    const key = kind + leaseKey(client, lease);
    const deadline = timeout === undefined
      ? 0
      : this.host.deadlines.after(timeout, () => this.#expire(kind, client, lease));
    this.#waiting.set(key, { conn, id, deadline });
  }

  /** A wait's timeout passed: it ends with `ok: false`; waiters behind it may go. */
  #expire(kind: Kind, client: string, lease: string): void {
    const w = this.#take(kind, client, lease);
    if (w === undefined) return; // granted or dropped meanwhile (its deadline was cancelled)
    w.conn.send({ op: "lease-reply", id: w.id, ok: false });
    this.#grant(kind, this.#release(kind, client, lease));
  }

  /** Gives lease `lease` back (or drops its wait); returns the waiters that go now. */
  #release(kind: Kind, client: string, lease: string): Lease[] {
    return kind === "lock"
      ? this.locks.release(client, lease).granted
      : this.semaphores.release(client, lease, this.host.now()).granted;
  }

  /** A release that dropped a waiting lease (its client gave up): its acquire ends unanswered. */
  #stopWaiting(kind: Kind, client: string, lease: string, was: string): void {
    if (was === "waiting") this.#take(kind, client, lease);
  }

  #take(kind: Kind, client: string, lease: string): Waiting | undefined {
    const key = kind + leaseKey(client, lease);
    const w = this.#waiting.get(key);
    if (w === undefined) return undefined;
    this.#waiting.delete(key);
    this.host.deadlines.cancel(w.deadline);
    return w;
  }

  /** Tells granted waiters; one whose connection closed gives its lease back at once. */
  #grant(kind: Kind, granted: Lease[]): void {
    const todo = [...granted];
    for (let i = 0; i < todo.length; i++) {
      const g = todo[i], w = this.#take(kind, g.client, g.lease);
      if (w !== undefined && w.conn.closeReason === null) {
        w.conn.send({ op: "lease-reply", id: w.id, ok: true });
      } else {
        todo.push(...this.#release(kind, g.client, g.lease));
      }
    }
  }

  /** Client `id` holds nothing any more: its leases come back, its waits fail with `why`. */
  #leave(id: string, why: string): void {
    const locks = this.locks.clientGone(id);
    const sems = this.semaphores.clientGone(id, this.host.now());
    const fail = (kind: Kind, dropped: Lease[]) => {
      for (const d of dropped) {
        const w = this.#take(kind, d.client, d.lease);
        const e = toEnvelope(new LeaseError(`the ${kind} acquire ended unanswered: ${why}`));
        w?.conn.send({ op: "lease-reply", id: w.id, ok: false, e });
      }
    };
    fail("lock", locks.dropped);
    fail("semaphore", sems.dropped);
    this.#grant("lock", locks.granted);
    this.#grant("semaphore", sems.granted);
  }
}
