/**
 * The TCP listener (with a certificate: the TLS listener): accepts connections and bounds those
 * still before their handshake.
 */
import type { Listener } from "./transport.ts";
import { PendingHandshakes } from "./pending_handshakes.ts";
import { TcpTransport } from "./tcp.ts";
import { stallTimeoutOf, type TcpOptions } from "./tcp_options.ts";

/** Options of a TCP listener: those of the transports it accepts, and a cap on handshakes. */
export interface TcpListenOptions extends Omit<TcpOptions, "onFirstPacket"> {
  /**
   * Most accepted connections that have not yet sent their first packet (the handshake) whole
   * (default 256). Over it, the oldest of them is dropped.
   */
  maxUnauthenticated?: number;
  /**
   * Listen with TLS (a tls:// address): every connection's TLS handshake runs before its first
   * packet, within the same bounds; a peer that does not speak TLS gets no dtask byte.
   */
  tls?: { cert: string; key: string };
}

/**
 * Listens on host:port (0 = any free port) and hands each accepted transport to `onAccept`.
 * At most `maxUnauthenticated` of them may be waiting for their first packet at once: the
 * oldest is dropped to make room, so a flood of silent connections cannot lock out a peer
 * whose handshake takes milliseconds.
 */
export function listenTcp(
  host: string,
  port: number,
  onAccept: (t: TcpTransport) => void,
  opts: TcpListenOptions = {},
): Listener {
  const { maxUnauthenticated, tls, ...transportOpts } = opts;
  const pending = new PendingHandshakes<TcpTransport>(maxUnauthenticated);
  stallTimeoutOf(transportOpts);
  const l: Deno.Listener = tls
    ? Deno.listenTls({ hostname: host, port, transport: "tcp", cert: tls.cert, key: tls.key })
    : Deno.listen({ hostname: host, port, transport: "tcp" });
  const scheme = tls ? "tls" : "tcp";
  if (opts.unref) l.unref(); // and each connection it accepts (transportOpts.unref)
  const addr = l.addr as Deno.NetAddr;
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  let closing: Promise<void> | null = null;
  const loop = (async () => {
    while (closing === null) {
      let conn: Deno.Conn;
      try {
        conn = await l.accept();
      } catch (e) {
        if (closing !== null || e instanceof Deno.errors.BadResource) return;
        // A connection reset before it was accepted, or out of descriptors: keep listening.
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      let settled = () => {};
      const t: TcpTransport = new TcpTransport(conn, {
        ...transportOpts,
        scheme,
        onFirstPacket: () => settled(),
      });
      settled = pending.admit(t);
      try {
        onAccept(t);
      } catch {
        t.close();
      }
    }
  })();
  return {
    address: `${scheme}://${shown}:${addr.port}`,
    close() {
      closing ??= (async () => {
        try {
          l.close();
        } catch { /* already closed */ }
        await loop;
      })();
      return closing;
    },
  };
}
