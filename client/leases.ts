/**
 * The leases one Lock, MultiLock or Semaphore object holds, oldest first, and the calls that
 * take and give them back: what the three classes share, with their own messages and errors.
 * Browser-safe.
 *
 * @module
 */
import type { LeaseReply } from "../comm/protocol.ts";
import { LeaseError } from "../core/errors.ts";
import type { Client } from "./client.ts";
import { callsOf } from "./client_calls_of.ts";
import type { CallsClient } from "./cluster_calls.ts";
import { type HeldLease, newLeaseId, releaseLease, requestLease } from "./lease_calls.ts";
import { resolveClient, waiting } from "./primitive_client.ts";

/** How one kind of primitive gives a lease back, and what it says when it holds none. */
export interface LeaseKind {
  /** `what` names the object in errors ("Lock", "MultiLock", "Semaphore"). */
  readonly what: string;
  /** Sends the release of `lease`. */
  release(calls: CallsClient, lease: string): Promise<unknown>;
  /** The LeaseError's message when the object is released more often than acquired. */
  releasedTooOften(): string;
}

/** The leases of one object. */
export class Leases {
  /** Held leases, oldest first. */
  readonly #held: HeldLease[] = [];

  constructor(readonly kind: LeaseKind, readonly given: Client | undefined) {}

  /** How many leases this object holds. */
  get count(): number {
    return this.#held.length;
  }

  /** The calls view of the client the object talks through (resolved when first needed). */
  calls(): CallsClient {
    return callsOf(resolveClient(this.given, this.kind.what));
  }

  /**
   * Sends an acquire of a new lease (`send`) that waits up to `timeout` ms (undefined: until
   * granted); resolves whether it was granted. Inside a task, the task gives its thread slot
   * back while it waits.
   */
  async acquire(
    timeout: number | undefined,
    send: (calls: CallsClient, lease: string) => Promise<LeaseReply>,
  ): Promise<boolean> {
    const client = resolveClient(this.given, this.kind.what);
    const calls = callsOf(client), lease = newLeaseId();
    const ok = await waiting(timeout !== 0, () =>
      requestLease(
        client,
        () => send(calls, lease),
        () => this.kind.release(calls, lease),
      ));
    if (ok) this.#held.push({ lease, client });
    return ok;
  }

  /** Gives back the oldest lease; a LeaseError when this object holds none. */
  async release(): Promise<void> {
    const held = this.#held.shift();
    if (held === undefined) throw new LeaseError(this.kind.releasedTooOften());
    const calls = callsOf(held.client);
    await releaseLease(held.client, () => this.kind.release(calls, held.lease));
  }

  /** Gives back every lease it holds (`await using`). */
  async releaseAll(): Promise<void> {
    while (this.#held.length > 0) await this.release();
  }
}

/** The lock kind of lease, for a Lock or MultiLock of `names`. */
export function lockKind(what: string, names: readonly string[]): LeaseKind {
  const label = names.length === 1
    ? JSON.stringify(names[0])
    : `[${names.map((n) => JSON.stringify(n)).join(", ")}]`;
  return {
    what,
    release: (calls, lease) => calls.request({ op: "lock-release", id: 0, lease }),
    releasedTooOften: () =>
      `${what} ${label} was released more often than it was acquired: this ${what} object ` +
      `holds nothing (each object releases only what it acquired)`,
  };
}

/** Takes `need` of `names` (waiting up to `timeout` ms; undefined: until granted). */
export function acquireLocks(
  leases: Leases,
  names: readonly string[],
  need: number,
  timeout: number | undefined,
): Promise<boolean> {
  return leases.acquire(timeout, (calls, lease) =>
    calls.request({
      op: "lock-acquire",
      id: 0,
      lease,
      names: names as string[],
      ...(need !== names.length && { n: need }),
      ...(timeout !== undefined && { timeout }),
    }));
}

/** How many of `names` are held now, by anyone. */
export async function locksHeld(leases: Leases, names: readonly string[]): Promise<number> {
  const reply = await leases.calls().request({
    op: "lock-held",
    id: 0,
    names: names as string[],
  });
  return reply.held;
}
