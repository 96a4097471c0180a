/** The handshake every connection starts with: protocol version, role, name, auth token. */
import type { Transport } from "./transport.ts";
import { type Hello, PROTOCOL_VERSION, type Refused, type Welcome } from "./protocol/handshake.ts";
import { validateHello, validateMessage } from "./protocol/messages.ts";
import { describe } from "./protocol/fields.ts";
import { CommClosedError, ProtocolError, TimeoutError } from "../core/errors.ts";

/** Opens a transport to an address; injected so browser builds carry no Deno API. */
export type Dialer = (address: string) => Promise<Transport>;

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

/** Sends our hello and awaits the welcome; throws with the peer's reason if refused. */
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
    throw new ProtocolError(`${t.peer} refused the connection: ${reply.reason}`);
  }
  if (reply.op !== "welcome") throw new ProtocolError(`${t.peer} sent no welcome`);
  if (reply.version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `${t.peer} speaks protocol version ${reply.version}, this dtask speaks ${PROTOCOL_VERSION}: ` +
        `run the same dtask version on every machine`,
    );
  }
  return reply;
}

/**
 * Reads a peer's hello and answers it. `admit` returns a Welcome or a reason to refuse.
 * Returns the hello when admitted, null when refused or malformed (the transport is closed).
 */
export async function receiveHello(
  t: Transport,
  admit: (hello: Hello) => Welcome | string,
  timeoutMs: number,
): Promise<Hello | null> {
  let reason: string;
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
      const answer = admit(validateHello(hello));
      if (typeof answer !== "string") {
        await t.writeBatch([answer]);
        return hello as Hello;
      }
      reason = answer;
    }
  } catch (e) {
    reason = e instanceof Error ? e.message : `thrown: ${describe(e)}`;
  }
  try {
    await t.writeBatch([{ op: "refused", reason }]);
  } catch { /* the peer is gone */ }
  t.close();
  return null;
}
