/**
 * What Lock, MultiLock and Semaphore share on the client: the checks of their `client` and
 * acquire options (the rest are primitive_options.ts's), lease ids, and the acquire round trip. Each
 * acquire is a lease of its own (an id unique on its client), as Dask's leases are; an object
 * keeps the leases it holds and releases the oldest first. Browser-safe.
 *
 * @module
 */
import type { LeaseReply } from "../comm/protocol.ts";
import { CommClosedError, fromEnvelope } from "../core/errors.ts";
import type { Client } from "./client.ts";
import { resolveClient } from "./primitive_client.ts";
import { kind } from "./primitive_options.ts";

/** A lease this object holds, and the client it was taken through. */
export interface HeldLease {
  readonly lease: string;
  readonly client: Client;
}

let leaseSeq = 0;

/** A lease id, unique among this realm's (and so among its clients'). */
export function newLeaseId(): string {
  return (++leaseSeq).toString(36);
}

/**
 * Sends a release of a held lease. When the connection drops before the answer, it is sent once
 * more, through the connection that replaces it (the client keeps its id for a while, and the
 * scheduler its leases): a lease is not left held because a release met a reconnect.
 */
export async function releaseLease(client: Client, send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (e) {
    if (!(e instanceof CommClosedError) || client.status !== "running") throw e;
    await send();
  }
}

/** The `client` option of a constructor checked: absent, or a Client. */
export function checkClient(what: string, options: Record<string, unknown>): Client | undefined {
  const given = options.client;
  return given === undefined || given === null ? undefined : resolveClient(given, what);
}

/**
 * The `timeout` and `blocking` options of an acquire, as the ms to send: undefined waits until
 * granted, 0 tries once. A timeout must be a number of ms, at least 0 (Infinity: no limit);
 * `blocking: false` tries once and takes no timeout (as Dask's).
 */
export function acquireTimeout(
  what: string,
  options: Record<string, unknown>,
  blockingAllowed: boolean,
): number | undefined {
  const { timeout, blocking } = options;
  if (timeout !== undefined && timeout !== null) {
    if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
      throw new TypeError(
        `${what}: timeout must be a number of milliseconds, at least 0, got ${kind(timeout)}`,
      );
    }
  }
  if (blocking !== undefined) {
    if (!blockingAllowed) throw new TypeError(`${what}: there is no blocking option`);
    if (typeof blocking !== "boolean") {
      throw new TypeError(`${what}: blocking must be true or false, got ${kind(blocking)}`);
    }
    if (!blocking) {
      if (timeout !== undefined && timeout !== null) {
        throw new TypeError(
          `${what}: blocking: false tries once and takes no timeout; pass one or the other`,
        );
      }
      return 0;
    }
  }
  const ms = timeout as number | undefined | null;
  return ms === undefined || ms === null || ms === Infinity ? undefined : ms;
}

/**
 * Sends an acquire and resolves with whether the lease was granted. When the connection drops
 * before the answer, the lease is given back (the scheduler may have granted it meanwhile)
 * and the error is raised.
 */
export async function requestLease(
  client: Client,
  send: () => Promise<LeaseReply>,
  giveBack: () => Promise<unknown>,
): Promise<boolean> {
  let reply: LeaseReply;
  try {
    reply = await send();
  } catch (e) {
    if (e instanceof CommClosedError && client.status === "running") {
      giveBack().catch(() => {}); // through the reconnected connection, if it comes back
    }
    throw e;
  }
  if (reply.e !== undefined) throw fromEnvelope(reply.e);
  return reply.ok;
}
