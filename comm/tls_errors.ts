/**
 * What a failed TLS dial means, as a TlsError that says what to do: for tls:// (comm/tls.ts) and
 * for wss:// (the WebSocket dialers). Browser-safe: it reads error messages only.
 *
 * @module
 */
import { CommClosedError, TlsError } from "../core/errors.ts";

const UNTRUSTED = /UnknownIssuer|UnknownCA|BadSignature|certificate.*(expired|not valid yet)/i;
const WRONG_NAME = /NotValidForName|not valid for/i;
const NOT_TLS =
  /alert: HandshakeFailure|InvalidContentType|corrupt message|unexpected eof|InvalidMessage/i;

/** Why a handshake with `address` (tls:// or wss://) failed, as a TlsError that says what to do. */
export function tlsHandshakeError(address: string, e: unknown): TlsError {
  const why = (e as Error)?.message ?? String(e);
  const plain = address.startsWith("wss:") ? "ws" : "tcp";
  if (UNTRUSTED.test(why)) {
    return new TlsError(
      `the TLS certificate of ${address} is not trusted (${why}): give the CA that signed the ` +
        `cluster's certificate with tls.caCerts (or --tls-ca-file)`,
      { cause: e },
    );
  }
  if (WRONG_NAME.test(why)) {
    return new TlsError(
      `the TLS certificate of ${address} does not name that host (${why}): dial a host its ` +
        `certificate names, or issue one whose subjectAltName holds this host`,
      { cause: e },
    );
  }
  if (NOT_TLS.test(why)) {
    return new TlsError(
      `${address} did not complete a TLS handshake (${why}): is it a plain ${plain}:// port? ` +
        `Dial it with its ${plain}:// address, or start the cluster with TLS`,
      { cause: e },
    );
  }
  return new TlsError(`the TLS handshake with ${address} failed: ${why}`, { cause: e });
}

/** What a WebSocket dialer can do with `tls.caCerts`. */
export interface WsDialContext {
  /**
   * Whether this dial used `tls.caCerts` for its own connection (Deno's WebSocket with an
   * HttpClient, mod.ts). The standard WebSocket cannot: it trusts only what its runtime trusts.
   */
  perConnectionCa: boolean;
}

/**
 * What a WebSocket dial of `address` that failed with `e` means: a TlsError that says what to do
 * when the runtime told why (Deno does, browsers do not), else `e` with a hint added.
 */
export function wsDialError(address: string, e: unknown, how: WsDialContext): Error {
  const why = (e as Error)?.message ?? String(e);
  const secure = address.startsWith("wss:");
  if (secure && UNTRUSTED.test(why) && !how.perConnectionCa) {
    return new TlsError(
      `the TLS certificate of ${address} is not trusted (${why}), and this client's WebSocket ` +
        `cannot take tls.caCerts for one connection (the browser-safe client uses the standard ` +
        `WebSocket, which trusts what its runtime trusts): in Deno run with DENO_CERT=ca.pem or ` +
        `--cert ca.pem (the cluster's CA file), or import dtask's mod.ts, whose wss:// dialer ` +
        `uses tls.caCerts; in a browser, install the CA in the system's or browser's trust store`,
      { cause: e },
    );
  }
  if (secure && (UNTRUSTED.test(why) || WRONG_NAME.test(why) || NOT_TLS.test(why))) {
    return tlsHandshakeError(address, e);
  }
  if (!secure && /invalid HTTP version/i.test(why)) {
    // dialling again gets the same answer: say so now rather than at the timeout
    return new TlsError(
      `${address} gave no HTTP answer (${why}): is it a wss:// port? A cluster with TLS serves ` +
        `wss:// alone: dial its wss:// address (a tcp:// or tls:// port is no WebSocket port)`,
      { cause: e },
    );
  }
  if (!(e instanceof CommClosedError)) return e instanceof Error ? e : new Error(why);
  if (secure && / failed$/.test(why)) {
    // a browser says no more than that, also when it does not trust the certificate
    return new CommClosedError(
      `${why} (a certificate this runtime does not trust fails this way too: install the ` +
        `cluster's CA in the system's or browser's trust store)`,
      { cause: e },
    );
  }
  return e;
}
