/**
 * The tls:// transport: dtask's TCP framing (tcp.ts) inside TLS. Dialling runs the handshake at
 * once, so a certificate the dialler does not trust fails at connect with a TlsError saying what
 * to give, not at the first read. Listening is `listenTcp` with a certificate (tcp_listener.ts).
 *
 * @module
 */
import { type TcpOptions, TcpTransport } from "./tcp.ts";
import type { TlsDialOptions } from "./tls_options.ts";
import { TlsError } from "../core/errors.ts";

/** Why a handshake with `address` failed, as a TlsError that says what to do. */
export function tlsHandshakeError(address: string, e: unknown): TlsError {
  const why = (e as Error)?.message ?? String(e);
  if (/UnknownIssuer|UnknownCA|BadSignature|certificate.*(expired|not valid yet)/i.test(why)) {
    return new TlsError(
      `the TLS certificate of ${address} is not trusted (${why}): give the CA that signed the ` +
        `cluster's certificate with tls.caCerts (or --tls-ca-file)`,
      { cause: e },
    );
  }
  if (/NotValidForName|not valid for/i.test(why)) {
    return new TlsError(
      `the TLS certificate of ${address} does not name that host (${why}): dial a host its ` +
        `certificate names, or issue one whose subjectAltName holds this host`,
      { cause: e },
    );
  }
  if (/alert: HandshakeFailure|InvalidContentType|corrupt message|unexpected eof/i.test(why)) {
    return new TlsError(
      `${address} did not complete a TLS handshake (${why}): is it a plain tcp:// port? Dial ` +
        `it with its tcp:// address, or start the cluster with TLS`,
      { cause: e },
    );
  }
  return new TlsError(`the TLS handshake with ${address} failed: ${why}`, { cause: e });
}

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
