/** The handshake every connection starts with: protocol version, role, name, auth token. */
import type { Transport } from "./transport.ts";
import {
  ANSWERED_BY,
  type Hello,
  type ListenerRole,
  PROTOCOL_VERSION,
  type Refused,
  type Role,
  type Welcome,
} from "./protocol/handshake.ts";
import { validateHello, validateMessage } from "./protocol/messages.ts";
import { describe } from "./protocol/fields.ts";
import { CommClosedError, ProtocolError, TimeoutError, WrongRoleError } from "../core/errors.ts";

/** Opens a transport to an address; injected so browser builds carry no Deno API. */
export type Dialer = (
  address: string,
  options?: { tls?: { caCerts?: string[] } },
) => Promise<Transport>;

/** What a listener answers a hello whose token is missing or wrong. */
export const AUTH_FAILED = "authentication failed: the auth token is missing or wrong; give " +
  "the cluster's token (authToken option, --auth-token-file or DTASK_AUTH_TOKEN)";

/**
 * Whether `given` is the `expected` auth token (always true when no token is required),
 * compared in time independent of where they differ.
 */
export function tokenMatches(given: string | undefined, expected: string | undefined): boolean {
  if (expected === undefined) return true;
  if (typeof given !== "string") return false;
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (given.charCodeAt(i % (given.length || 1)) || 0) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}

/** What a listener is: the handshake checks a hello's token and role against it first. */
export interface ListenerIdentity {
  /** What answers: the scheduler, or a worker's peer port. */
  readonly role: ListenerRole;
  /** The token every hello must carry, if any (checked first: no one else learns anything). */
  readonly token: string | undefined;
  /** The scheduler's address as this listener knows it (a worker: the one it registers with). */
  schedulerAddress(): string | undefined;
}

/** Why `listener` refuses a hello of `role`, or null when it serves that role. */
export function wrongRole(listener: ListenerIdentity, role: Role): Refused | null {
  if (ANSWERED_BY[role] === listener.role) return null;
  if (listener.role === "scheduler") {
    return {
      op: "refused",
      wrongRole: "scheduler",
      reason: "this is the scheduler, not a worker's peer port; a peer fetches values from, " +
        "or scatters them to, the worker addresses the scheduler names",
    };
  }
  const use = listener.schedulerAddress();
  const scheduler = use === undefined ? "the scheduler's address" : `the scheduler at ${use}`;
  const what = role === "client" ? "connect the client to" : "point the worker at";
  return {
    op: "refused",
    wrongRole: "worker",
    ...(use !== undefined && { use }),
    reason: `this is a worker's peer port, not the scheduler; ${what} ${scheduler}`,
  };
}

/** Resolves `p`, or rejects with TimeoutError after `ms`; always clears its timer. */
export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends our hello and awaits the welcome; throws with the peer's reason if refused, a
 * WrongRoleError if the peer is not the role our hello is meant for.
 */
export async function sendHello(
  t: Transport,
  hello: Omit<Hello, "op" | "version">,
  timeoutMs: number,
): Promise<Welcome> {
  const mine: Hello = { op: "hello", version: PROTOCOL_VERSION, ...hello };
  await t.writeBatch([mine]);
  const batch = await withTimeout(t.readBatch(), timeoutMs, `handshake with ${t.peer}`);
  if (batch === null) throw new CommClosedError(`${t.peer} closed the connection at the handshake`);
  let reply: Welcome | Refused;
  try {
    reply = validateMessage(batch[0]) as Welcome | Refused;
  } catch (e) {
    throw new ProtocolError(`${t.peer} sent no welcome: ${(e as Error).message}`);
  }
  if (reply.op === "refused") {
    if (reply.wrongRole !== undefined) {
      const message = `${t.peer} refused the ${hello.role}: ${reply.reason}`;
      throw new WrongRoleError(message, reply.wrongRole, reply.use);
    }
    throw new ProtocolError(`${t.peer} refused the connection: ${reply.reason}`);
  }
  if (reply.op !== "welcome") throw new ProtocolError(`${t.peer} sent no welcome`);
  if (reply.version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `${t.peer} speaks protocol version ${reply.version}, this dtask speaks ${PROTOCOL_VERSION}: ` +
        `run the same dtask version on every machine`,
    );
  }
  const expected = ANSWERED_BY[hello.role];
  if (reply.role !== expected) {
    throw new WrongRoleError(
      `${t.peer} answered as a ${reply.role}, not as the ${expected} a ${hello.role} connects to`,
      reply.role,
    );
  }
  return reply;
}

/**
 * Reads a peer's hello and answers it: a hello without `listener`'s token, or of a role it does
 * not serve, is refused here; then `admit` returns a Welcome or a reason to refuse.
 * Returns the hello when admitted, null when refused or malformed (the transport is closed).
 */
export async function receiveHello(
  t: Transport,
  listener: ListenerIdentity,
  admit: (hello: Hello) => Welcome | string,
  timeoutMs: number,
): Promise<Hello | null> {
  let refusal: Refused | null = null;
  let reason = "";
  try {
    const batch = await withTimeout(t.readBatch(), timeoutMs, `handshake from ${t.peer}`);
    const hello = batch?.[0] as Partial<Hello> | undefined;
    if (batch === null) reason = "closed before its handshake";
    else if (typeof hello !== "object" || hello === null || hello.op !== "hello") {
      reason = "the first message was not a hello";
    } else if (hello.version !== PROTOCOL_VERSION) {
      reason = `protocol version ${describe(hello.version)} is not supported: this dtask ` +
        `speaks protocol version ${PROTOCOL_VERSION}; run the same dtask version everywhere`;
    } else if (batch.length !== 1) {
      reason = "the handshake packet must hold the hello alone";
    } else {
      const h = validateHello(hello);
      if (!tokenMatches(h.token, listener.token)) reason = AUTH_FAILED;
      else if ((refusal = wrongRole(listener, h.role)) === null) {
        const answer = admit(h);
        if (typeof answer !== "string") {
          await t.writeBatch([answer]);
          return h;
        }
        reason = answer;
      }
    }
  } catch (e) {
    reason = e instanceof Error ? e.message : `thrown: ${describe(e)}`;
  }
  try {
    await t.writeBatch([refusal ?? { op: "refused", reason }]);
  } catch { /* the peer is gone */ }
  t.close();
  return null;
}
