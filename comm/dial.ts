/** Opens a transport to any address this process can reach (tcp://, tls:// or inproc://). */
import type { Transport } from "./transport.ts";
import { parseAddress } from "./transport.ts";
import { connectTcp } from "./tcp.ts";
import { connectTls } from "./tls.ts";
import { connectInproc } from "./inproc.ts";
import type { TlsDialOptions } from "./tls_options.ts";
import { CommClosedError, TlsError } from "../core/errors.ts";

/** How a dial reaches its peer: for tls://, the CA certificates it trusts. */
export interface DialOptions {
  tls?: TlsDialOptions;
}

/**
 * Dials tcp://, tls:// and inproc:// addresses. A connection that cannot be made rejects with a
 * CommClosedError (worth retrying); a TLS handshake that fails, with a TlsError (permanent).
 */
export async function dial(address: string, options: DialOptions = {}): Promise<Transport> {
  const a = parseAddress(address);
  if (a.scheme === "inproc") return connectInproc(address);
  if (a.scheme === "tcp" || a.scheme === "tls") {
    try {
      return a.scheme === "tls"
        ? await connectTls(a.host, a.port, options.tls)
        : await connectTcp(a.host, a.port);
    } catch (e) {
      if (e instanceof TlsError) throw e;
      throw new CommClosedError(`cannot connect to ${address}: ${(e as Error).message}`);
    }
  }
  throw new CommClosedError(`${a.scheme}:// addresses are not supported here (${address})`);
}
