/**
 * The full package's msgpack decoding: msgpackr's Node entry, imported for its side effect, hands
 * its decoder the native string extractor (msgpackr-extract's prebuilt binary) when there is one.
 * Strings decoded that way are smaller in memory, which a scheduler holding 100,000 task keys
 * feels (about 250 B per waiting task here). The browser-safe client (client/mod.ts) does not
 * import this: the entry reads an environment variable (MSGPACKR_NATIVE_ACCELERATION_DISABLED),
 * and that client needs nothing but --allow-net.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix
import "npm:msgpackr@2.1.4";
