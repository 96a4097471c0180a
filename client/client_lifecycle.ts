/**
 * A Client's opening and closing, outside its public class. Opening (`Client.connect`) checks
 * the options, dials the scheduler (or starts a LocalCluster for no target), makes the client
 * and makes it the program's default client; a cluster started for it closes again when that
 * fails. Closing hands the default on, closes the client's parts, then the cluster it started.
 * Browser-safe (no Deno).
 *
 * @module
 */
import type { ClientParts, ClientStart } from "./client_parts.ts";
import { openedStart } from "./client_start.ts";
import { clientClosed, clientOpened, currentClient } from "./current_client.ts";
import { open } from "./dialers.ts";
import { rememberCluster } from "./display.ts";
import type { ClientOptions, ClusterLike } from "./options.ts";
import { checkClassInstances } from "./submit.ts";

/** How the Client class makes a client over `start` (its constructor is private). */
export type MakeClient<C> = (start: ClientStart) => C;

/**
 * `Client.connect`: connects to `target` (none: a new LocalCluster) and makes the client with
 * `make`; it is the default client from then on.
 */
export async function connectClient<C extends object>(
  target: ClusterLike | string | undefined,
  options: ClientOptions,
  make: MakeClient<C>,
): Promise<C> {
  checkClassInstances(options.classInstances);
  const o = await open(target, options);
  try {
    const client = make(openedStart(o, options));
    rememberCluster(client, o.own ?? target);
    clientOpened(client);
    return client;
  } catch (e) {
    await o.own?.close();
    throw e;
  }
}

/** `Client.current()`: the newest client connected and not closed; throws when none is open. */
export function requireCurrentClient(): object {
  const c = currentClient();
  if (c === undefined) {
    throw new TypeError("no client is open: connect one first with Client.connect(...)");
  }
  return c;
}

/** Closes `client`: it is no longer the default, its parts close, then the cluster it started. */
export async function closeClient(
  client: object,
  parts: ClientParts,
  own: ClusterLike | null,
): Promise<void> {
  clientClosed(client);
  await parts.close();
  await own?.close();
}
