/**
 * The leases one Lock or MultiLock object holds on its names, and the calls that take and give
 * them back: what both classes do, with their own checks and names in the errors. Browser-safe.
 *
 * @module
 */
import { LeaseError } from "../core/errors.ts";
import type { Client } from "./client.ts";
import { callsOf } from "./client_calls_of.ts";
import { type HeldLease, newLeaseId, releaseLease, requestLease } from "./lease_calls.ts";
import { resolveClient } from "./primitive_client.ts";

/** The leases of one Lock or MultiLock object on `names`. */
export class LockLeases {
  /** Held leases, oldest first. */
  readonly #held: HeldLease[] = [];

  /** `what` names the object in errors ("Lock", "MultiLock"). */
  constructor(
    readonly what: string,
    readonly names: readonly string[],
    readonly given: Client | undefined,
  ) {}

  /** How many leases this object holds. */
  get count(): number {
    return this.#held.length;
  }

  /** Takes `need` of the names (waiting up to `timeout` ms; undefined: until granted). */
  async acquire(need: number, timeout: number | undefined): Promise<boolean> {
    const client = resolveClient(this.given, this.what);
    const calls = callsOf(client), lease = newLeaseId();
    const names = this.names as string[];
    const ok = await requestLease(
      client,
      () =>
        calls.request({
          op: "lock-acquire",
          id: 0,
          lease,
          names,
          ...(need !== names.length && { n: need }),
          ...(timeout !== undefined && { timeout }),
        }),
      () => calls.request({ op: "lock-release", id: 0, lease }),
    );
    if (ok) this.#held.push({ lease, client });
    return ok;
  }

  /** Gives back the oldest lease; a LeaseError when this object holds none. */
  async release(): Promise<void> {
    const held = this.#held.shift();
    if (held === undefined) {
      throw new LeaseError(
        `${this.what} ${this.#label()} was released more often than it was acquired: this ` +
          `${this.what} object holds nothing (each object releases only what it acquired)`,
      );
    }
    const calls = callsOf(held.client);
    await releaseLease(
      held.client,
      () => calls.request({ op: "lock-release", id: 0, lease: held.lease }),
    );
  }

  /** How many of the names are held now, by anyone. */
  async heldCount(): Promise<number> {
    const calls = callsOf(resolveClient(this.given, this.what));
    const reply = await calls.request({ op: "lock-held", id: 0, names: this.names as string[] });
    return reply.held;
  }

  #label(): string {
    return this.names.length === 1
      ? JSON.stringify(this.names[0])
      : `[${this.names.map((n) => JSON.stringify(n)).join(", ")}]`;
  }
}
