/**
 * The wss:// dialer of the full dtask (mod.ts registers it, replacing the browser-safe one):
 * Deno's WebSocket takes an HttpClient, so the CA certificates of `tls.caCerts` are trusted for
 * this connection alone, as tls:// dials trust them. A certificate it does not trust fails at
 * once with a TlsError saying what to give.
 *
 * @module
 */
import type { Transport } from "./transport.ts";
import { WebSocketTransport } from "./ws_transport.ts";
import { wsDialError } from "./tls_errors.ts";

/** Dials a wss:// (or ws://) address, trusting `options.tls.caCerts` besides the system's roots. */
export async function dialWss(
  address: string,
  options?: { tls?: { caCerts?: string[] } },
): Promise<Transport> {
  const caCerts = options?.tls?.caCerts ?? [];
  const open = (url: string): WebSocket => {
    if (caCerts.length === 0) return new WebSocket(url);
    const client = Deno.createHttpClient({ caCerts });
    try {
      const ws = new WebSocket(url, { client });
      ws.addEventListener("close", () => client.close());
      return ws;
    } catch (e) {
      client.close();
      throw e;
    }
  };
  try {
    return await WebSocketTransport.connect(address, open);
  } catch (e) {
    throw wsDialError(address, e, { perConnectionCa: true });
  }
}
