/**
 * The tls:// transport: dtask's TCP framing (tcp.ts) inside TLS. Dialling runs the handshake at
 * once, so a certificate the dialler does not trust fails at connect with a TlsError saying what
 * to give, not at the first read. Listening is `listenTcp` with a certificate (tcp_listener.ts).
 *
 * @module
 */
import { TcpTransport } from "./tcp.ts";
import type { TcpOptions } from "./tcp_options.ts";
import type { TlsDialOptions } from "./tls_options.ts";
import { tlsHandshakeError } from "./tls_errors.ts";

/**
 * Opens a TLS transport to host:port, trusting `tls.caCerts` besides the system's roots; the
 * handshake is done when it resolves. A failed handshake rejects with a TlsError; a connection
 * that cannot be made, with the Deno error.
 */
export async function connectTls(
  host: string,
  port: number,
  tls: TlsDialOptions = {},
  opts: TcpOptions = {},
): Promise<TcpTransport> {
  const conn = await Deno.connectTls({
    hostname: host,
    port,
    ...(tls.caCerts?.length ? { caCerts: tls.caCerts } : {}),
  });
  try {
    await conn.handshake();
  } catch (e) {
    try {
      conn.close();
    } catch { /* already closed */ }
    const shown = host.includes(":") ? `[${host}]` : host;
    throw tlsHandshakeError(`tls://${shown}:${port}`, e);
  }
  return new TcpTransport(conn, { ...opts, scheme: "tls" });
}
