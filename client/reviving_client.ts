/**
 * The client a value is being decoded for: handles revived while a Client decodes a value (a
 * Future's value, an actor call's result) belong to that Client, not to whichever client is
 * the default. Decoding is synchronous, so one slot does. Browser-safe.
 *
 * @module
 */

let reviving: unknown = undefined;

/**
 * Runs `decode` with `client` as the client that handles revived meanwhile belong to.
 *
 * @example
 * ```ts ignore
 * const value = decodeFor(client, () => decodeValue(payload));
 * ```
 */
export function decodeFor<T>(client: unknown, decode: () => T): T {
  const outer = reviving;
  reviving = client;
  try {
    return decode();
  } finally {
    reviving = outer;
  }
}

/** The client the value being decoded belongs to (undefined outside `decodeFor`). */
export function revivingClient(): unknown {
  return reviving;
}
