/**
 * The program's default client, as Dask's: the newest client connected and not yet closed. What
 * needs a client and is given none (`Client.current()`, `performanceReport`) uses it.
 *
 * @module
 */

/** The open clients, oldest first. */
const open: object[] = [];

/** A client connected: it is the default until it closes or a newer one connects. */
export function clientOpened(client: object): void {
  open.push(client);
}

/** A client closed: the newest one still open (if any) is the default again. */
export function clientClosed(client: object): void {
  const i = open.lastIndexOf(client);
  if (i >= 0) open.splice(i, 1);
}

/** The default client, or undefined when no client is open. */
export function currentClient(): object | undefined {
  return open.at(-1);
}
