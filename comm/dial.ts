/** Opens a transport to any address this process can reach (tcp:// or inproc://). */
import type { Transport } from "./transport.ts";
import { parseAddress } from "./transport.ts";
import { connectTcp } from "./tcp.ts";
import { connectInproc } from "./inproc.ts";
import { CommClosedError } from "../core/errors.ts";

/** Dials tcp:// and inproc:// addresses. */
export async function dial(address: string): Promise<Transport> {
  const a = parseAddress(address);
  if (a.scheme === "inproc") return connectInproc(address);
  if (a.scheme === "tcp") {
    try {
      return await connectTcp(a.host, a.port);
    } catch (e) {
      throw new CommClosedError(`cannot connect to ${address}: ${(e as Error).message}`);
    }
  }
  throw new CommClosedError(`${a.scheme}:// addresses are not supported here (${address})`);
}
