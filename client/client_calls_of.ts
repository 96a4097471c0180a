/**
 * A Client's view for the cluster-wide calls (`CallsClient`: request, send, keyOf, adopt,
 * gather), looked up by the Client, for modules outside the class that talk to the scheduler
 * through a given client: coordination primitives and actor handles. Not public API.
 * Browser-safe.
 *
 * @module
 */
import type { CallsClient } from "./cluster_calls.ts";

const views = new WeakMap<object, CallsClient>();

/** Records a Client's calls view (once, as it is made). */
export function setCallsOf(client: object, calls: CallsClient): void {
  views.set(client, calls);
}

/**
 * The calls view of `client`.
 *
 * @example
 * ```ts ignore
 * const r = await callsOf(client).request({ op: "lock-acquire", id: 0, name: "x" });
 * ```
 */
export function callsOf(client: object): CallsClient {
  const calls = views.get(client);
  if (calls === undefined) throw new TypeError("not a dtask Client");
  return calls;
}
