/**
 * The client a value is being decoded for: handles revived while a Client decodes a value (a
 * Future's value, an actor call's result) belong to that Client, not to whichever client is
 * the default, and may hold their keys through it. Decoding is synchronous, so one slot does.
 * Browser-safe.
 *
 * @module
 */

let reviving: unknown = undefined;
let holds = 0;

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

/**
 * A revived handle holds its key through the decoding client: a value holding it must not be
 * cached where the hold would keep itself alive (a Future's value kept with its key).
 */
export function handleHolds(): void {
  holds++;
}

/** How many holding handles were revived so far (compare before and after a decode). */
export function holdingHandles(): number {
  return holds;
}
