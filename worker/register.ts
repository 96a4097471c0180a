/**
 * A worker's registration with its scheduler: dial and handshake, retried with backoff while the
 * scheduler cannot be reached or does not answer in time, until the connect timeout (or, when
 * set, the death timeout) passes or the start is aborted. A refusal (wrong token, taken name,
 * other protocol version) is an answer, not an outage: it is not retried here.
 *
 * @module
 */
import { type Dialer, sendHello } from "../comm/handshake.ts";
import type { Hello, Welcome } from "../comm/protocol.ts";
import type { Transport } from "../comm/transport.ts";
import { ProtocolError, TimeoutError } from "../core/errors.ts";
import { Backoff, pause } from "../core/backoff.ts";

/** What `register` needs. */
export interface RegisterOptions {
  scheduler: string;
  dial: Dialer;
  hello: Omit<Hello, "op" | "version">;
  /** How long to keep retrying (ms); one attempt is always made. */
  retryFor: number;
  /** When set, retrying lasts this long instead, and running out of it says the scheduler is gone. */
  deathTimeout?: number;
  /** How long one dial plus handshake may take (ms). */
  handshakeTimeout: number;
  /** Aborting it ends the registration at once (rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Told once, when the first attempt failed and more will follow. */
  log?: (line: string) => void;
}

/** Says that the scheduler stayed unreachable past the death timeout (`setting` names it). */
export function schedulerGoneMessage(
  name: string,
  scheduler: string,
  ms: number,
  setting = "deathTimeout",
): string {
  return `Worker ${name}: the scheduler at ${scheduler} was gone for more than ` +
    `${Number((ms / 1000).toFixed(3))} s (${setting}); exiting`;
}

/** Dials the scheduler and says hello until it answers; see the module doc for when it gives up. */
export async function register(
  o: RegisterOptions,
): Promise<{ transport: Transport; welcome: Welcome }> {
  const budget = o.deathTimeout ?? o.retryFor;
  const deadline = Date.now() + budget;
  const backoff = new Backoff({ initial: 50, max: 1000 });
  let last: unknown;
  for (;;) {
    o.signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (backoff.attempts > 0 && left <= 0) break;
    const ms = o.deathTimeout === undefined
      ? o.handshakeTimeout
      : Math.max(1, Math.min(o.handshakeTimeout, left));
    try {
      return await attempt(o, ms);
    } catch (e) {
      o.signal?.throwIfAborted();
      if (e instanceof ProtocolError) throw e;
      last = e;
    }
    const wait = backoff.next();
    if (backoff.attempts === 1 && Date.now() + wait < deadline) {
      o.log?.(
        `[worker] ${o.hello.name}: cannot reach the scheduler at ${o.scheduler} yet ` +
          `(${(last as Error)?.message ?? last}); retrying for up to ${budget / 1000} s`,
      );
    }
    await pause(Math.min(wait, Math.max(0, deadline - Date.now())), o.signal);
  }
  if (o.deathTimeout === undefined) throw last;
  throw new TimeoutError(schedulerGoneMessage(o.hello.name, o.scheduler, o.deathTimeout), {
    cause: last,
  });
}

/** One dial and handshake within `ms`; closes whatever it opened when it fails. */
async function attempt(
  o: RegisterOptions,
  ms: number,
): Promise<{ transport: Transport; welcome: Welcome }> {
  const dialing = o.dial(o.scheduler);
  let t: Transport;
  try {
    t = await settle(dialing, ms, `connecting to ${o.scheduler}`, o.signal);
  } catch (e) {
    dialing.then((late) => late.close(), () => {}); // it may still connect: close it then
    throw e;
  }
  const onAbort = () => t.close(); // ends the handshake's read
  o.signal?.addEventListener("abort", onAbort);
  try {
    const welcome = await sendHello(t, o.hello, ms);
    o.signal?.throwIfAborted();
    return { transport: t, welcome };
  } catch (e) {
    t.close();
    throw e;
  } finally {
    o.signal?.removeEventListener("abort", onAbort);
  }
}

/** `p`, or a TimeoutError after `ms`, or the signal's reason when it aborts first. */
function settle<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      done();
      reject(new TimeoutError(`${what} timed out after ${ms} ms`));
    }, ms);
    signal?.addEventListener("abort", onAbort);
    p.then((v) => {
      done();
      resolve(v);
    }, (e) => {
      done();
      reject(e);
    });
  });
}
