/**
 * The warning every listener's owner prints when it listens beyond this machine with neither
 * TLS nor an auth token: anyone who can reach the port can then run code on the cluster.
 *
 * @module
 */
import { isLoopbackHost } from "./contact_address.ts";

/**
 * The warning for listening on `host` (null when there is nothing to warn about): `who` names
 * the listener ("the scheduler", "this worker"), `fix` says how to add a token.
 */
export function exposureWarning(
  host: string,
  o: { who: string; authToken?: string; tls?: unknown; fix: string },
): string | null {
  if (isLoopbackHost(host) || o.authToken || o.tls) return null;
  return `WARNING: ${o.who} listens on ${host || "every interface"} without TLS or an auth ` +
    `token: anyone who can reach it can run code on your workers and read their data. ` +
    `${o.fix}`;
}
