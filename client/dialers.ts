/**
 * How a Client reaches its scheduler: the transports it can dial, by address scheme (registered
 * from outside, so client/ stays browser-safe), what `Client.connect()` with no target starts,
 * and the dial-and-hello that opens a connection.
 */
import { type Dialer as WireDialer, sendHello, withTimeout } from "../comm/handshake.ts";
import { parseAddress, type Transport } from "../comm/transport.ts";
import { CommClosedError, TimeoutError, TlsError } from "../core/errors.ts";
import { dialTls, type TlsDialOptions } from "../comm/tls_options.ts";
import { Backoff, pause } from "../core/backoff.ts";
import { DEFAULT_CONNECT_TIMEOUT } from "../comm/timeouts.ts";
import type { ClientOptions, ClusterLike } from "./options.ts";
import type { Dialer } from "./transport.ts";
import type { Hello } from "../comm/protocol.ts";

/** What a client says in its hello, besides its role (and, reconnecting, its old id). */
export type ClientHello = Pick<Hello, "name" | "token" | "inWorker">;

const dialers = new Map<string, WireDialer>();
let defaultCluster: ((options: ClientOptions) => Promise<ClusterLike>) | null = null;

/**
 * Makes `scheme://` addresses reachable with `dialer` (mod.ts registers tcp and inproc; the
 * browser-safe client/mod.ts registers ws and wss). A later registration for a scheme replaces it.
 */
export function registerDialer(scheme: string, dialer: Dialer): void {
  dialers.set(scheme, dialer);
}

/** Sets what `Client.connect()` with no target starts (mod.ts: a LocalCluster). */
export function setDefaultCluster(f: (options: ClientOptions) => Promise<ClusterLike>): void {
  defaultCluster = f;
}

/** Whether a transport is registered for `address`'s scheme. */
export function canDial(address: string): boolean {
  try {
    return dialers.has(parseAddress(address).scheme);
  } catch {
    return false;
  }
}

/** How a client dials: for tls:// addresses, the CA certificates it trusts. */
export interface DialSettings {
  tls?: TlsDialOptions;
}

/** Dials `address` with the transport registered for its scheme. */
export function dialAny(address: string, settings: DialSettings = {}): ReturnType<WireDialer> {
  const scheme = parseAddress(address).scheme;
  const d = dialers.get(scheme);
  if (!d) {
    return Promise.reject(
      new CommClosedError(
        `no transport for ${scheme}:// here: import dtask's mod.ts for tcp://, or connect to ` +
          "the scheduler's ws:// address (its --ws-port, a LocalCluster's wsPort)",
      ),
    );
  }
  return settings.tls ? d(address, { tls: settings.tls }) : d(address);
}

/**
 * What a client with `options` connecting to `target` dials with: its own `tls`, else the CA of
 * the LocalCluster it connects to.
 */
export function dialSettings(
  options: ClientOptions,
  target?: ClusterLike | string,
): DialSettings {
  const tls = dialTls(options.tls) ??
    (typeof target === "object" && target.tls ? { caCerts: target.tls.caCerts } : undefined);
  return tls ? { tls } : {};
}

/** Delays between dials of a scheduler that is not up yet: 50 ms growing to 1 s. */
const DIAL_BACKOFF = { initial: 50, max: 1000, jitter: 0.2 };

/**
 * Dials `address` until it answers or `timeout` ms pass (as Dask's client waits for a
 * scheduler that is still starting), saying once that it waits. A scheme nobody registered
 * fails at once.
 */
export async function dialPatiently(
  address: string,
  timeout: number,
  settings: DialSettings = {},
): Promise<Transport> {
  const scheme = parseAddress(address).scheme;
  if (!dialers.has(scheme)) return dialAny(address, settings);
  const deadline = Date.now() + timeout;
  const backoff = new Backoff(DIAL_BACKOFF);
  let last = "";
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      return await withTimeout(dialAny(address, settings), left, `connecting to ${address}`);
    } catch (e) {
      // an untrusted certificate stays untrusted: say so now, not at the timeout
      if (e instanceof TimeoutError || e instanceof TlsError) throw e;
      if (!last) {
        console.warn(
          `Waiting for the scheduler at ${address} (${errorText(e)}); retrying for up to ` +
            `${Math.round(timeout / 100) / 10} s`,
        );
      }
      last = errorText(e);
    }
    await pause(Math.min(backoff.next(), Math.max(0, deadline - Date.now())));
  }
  throw new TimeoutError(
    `connecting to ${address} timed out after ${timeout} ms (last attempt: ${last}); is the ` +
      "scheduler running there? Start one (deno run -A jsr:@x/dtask/scheduler) or connect to " +
      "a LocalCluster",
  );
}

function errorText(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

/** A scheduler connection opened for `Client.connect`. */
export interface Opened {
  transport: Transport;
  /** The address the Client shows (the cluster's scheduler address). */
  shown: string;
  /** The address dialled (and dialled again to reconnect). */
  via: string;
  /** The client's id at the scheduler. */
  id: string;
  /** The scheduler's dashboard URL, if it serves one. */
  dashboard: string | null;
  /** The cluster started for this client, which closes with it. */
  own: ClusterLike | null;
  /** How it dials (again, and its peers): the CA certificates for tls:// addresses. */
  dialing: DialSettings;
}

/** Dials `target` (none: a new default cluster, closed again on failure) and says hello. */
export async function open(
  target: ClusterLike | string | undefined,
  options: ClientOptions,
): Promise<Opened> {
  let own: ClusterLike | null = null;
  if (target === undefined) {
    if (!defaultCluster) {
      throw new TypeError("Client.connect() needs an address here (no local cluster support)");
    }
    target = own = await defaultCluster(options);
  }
  const shown = typeof target === "string" ? target : target.schedulerAddress;
  const via = typeof target === "string"
    ? target
    : target.inprocAddress && dialers.has("inproc")
    ? target.inprocAddress
    : target.schedulerAddress;
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  const name = options.name ?? "client";
  const dialing = dialSettings(options, target);
  try {
    const started = Date.now();
    const t = await dialPatiently(via, timeout, dialing);
    let welcome;
    try {
      const left = Math.max(1000, timeout - (Date.now() - started));
      welcome = await sendHello(t, { role: "client", name, token: options.authToken }, left);
    } catch (e) {
      t.close();
      throw e;
    }
    const dashboard = welcome.dashboard ?? null;
    return { transport: t, shown, via, id: welcome.id ?? name, dashboard, own, dialing };
  } catch (e) {
    await own?.close();
    throw e;
  }
}

/**
 * Dials `address` and says `hello` (`Client.connectSoon`'s connection, opening meanwhile).
 */
export async function openSoon(
  address: string,
  options: ClientOptions,
  hello: ClientHello,
): Promise<Transport> {
  const timeout = options.timeout ?? DEFAULT_CONNECT_TIMEOUT;
  const dialing = dialSettings(options);
  const t = await withTimeout(dialAny(address, dialing), timeout, `connecting to ${address}`);
  try {
    await sendHello(t, { role: "client", ...hello }, timeout);
  } catch (e) {
    t.close();
    throw e;
  }
  return t;
}
