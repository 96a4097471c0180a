/**
 * The WebSocket listener (Deno only): an HTTP server whose upgrade requests become
 * WebSocketTransports, handed to `onAccept` like the TCP listener's. What it accepts goes
 * through the same handshake (hello, auth token, role) as TCP. A plain HTTP request gets a 400
 * saying what the port is. With a certificate it serves TLS alone (wss://): a plaintext ws:// or
 * HTTP request gets no HTTP bytes back, only the end of the connection.
 *
 * @module
 */
import type { Listener, Transport } from "./transport.ts";
import { WebSocketTransport } from "./ws_transport.ts";
import { DEFAULT_MAX_FRAME } from "./limits.ts";
import { PendingHandshakes } from "./pending_handshakes.ts";

/** Options of a WebSocket listener. */
export interface WsListenOptions {
  /** The server does not hold the program open. */
  unref?: boolean;
  /** What this port is, the body of the 400 answer to a request that is no WebSocket upgrade. */
  describePort?: () => string;
  /** Largest frame accepted, in bytes (default 1 GiB). */
  maxFrame?: number;
  /** TLS: the certificate chain and key (PEM) it presents; then it speaks TLS alone (wss://). */
  tls?: { cert: string; key: string };
  /**
   * Most sockets kept that have not sent their first packet (the handshake) yet; over it, the
   * oldest is dropped (default 256, as the TCP listener's).
   */
  maxUnauthenticated?: number;
}

/**
 * A WebSocket listener. `close()` stops it taking new sockets (503) and leaves those it took
 * open, so that their owner can say goodbye on them; `shutdown()` then ends the HTTP server,
 * and with it every socket still open.
 */
export interface WsListener extends Listener {
  /** Ends the server and every socket it accepted; idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Listens for WebSockets on host:port (0 = any free port); `address` is `ws://host:port`, or
 * `wss://host:port` with `opts.tls`.
 */
export async function listenWs(
  host: string,
  port: number,
  onAccept: (t: Transport) => void,
  opts: WsListenOptions = {},
): Promise<WsListener> {
  let accepting = true;
  const pending = new PendingHandshakes<WebSocketTransport>(opts.maxUnauthenticated);
  const scheme = opts.tls ? "wss" : "ws";
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    hostname: host,
    port,
    ...(opts.tls && { cert: opts.tls.cert, key: opts.tls.key }),
    onListen: (addr) => listening.resolve(addr as Deno.NetAddr),
    onError: () => new Response("internal error", { status: 500 }),
  }, (req, info) => {
    if (!accepting) return new Response("this dtask scheduler is closing\n", { status: 503 });
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      const text = opts.describePort?.() ?? "this is a dtask WebSocket port";
      return new Response(`${text}\n`, { status: 400 });
    }
    const a = info.remoteAddr; // read before the upgrade, which takes the request over
    const { socket, response } = Deno.upgradeWebSocket(req);
    const peerHost = a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname;
    let settled = () => {};
    const t = new WebSocketTransport(
      socket,
      `${scheme}://${peerHost}:${a.port}`,
      opts.maxFrame ?? DEFAULT_MAX_FRAME,
      () => settled(),
    );
    settled = pending.admit(t);
    try {
      onAccept(t);
    } catch {
      t.close();
    }
    return response;
  });
  if (opts.unref) server.unref();
  let addr: Deno.NetAddr;
  try {
    addr = await Promise.race([listening.promise, server.finished.then(() => never())]);
  } catch (e) {
    await server.shutdown().catch(() => {});
    throw e;
  }
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let ending: Promise<void> | null = null;
  return {
    address: `${scheme}://${shown}:${addr.port}`,
    close() {
      accepting = false;
      return Promise.resolve();
    },
    shutdown() {
      accepting = false;
      ending ??= server.shutdown().catch(() => {});
      return ending;
    },
  };
}

function never(): never {
  throw new Error("the WebSocket listener stopped before it listened");
}
