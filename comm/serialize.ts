/**
 * Values for task arguments and results: a msgpack header plus out-of-band frames.
 *
 * Sendable: JSON-like data, `undefined`, `-0`, NaN, strings with lone surrogates, Map (any
 * keys), Set, Date, RegExp, BigInt of any size, ArrayBuffer, DataView, typed arrays (each kind
 * keeps its type), Errors (rebuilt by {@link fromEnvelope}: name, message, stack, cause and
 * extra fields), apache-arrow Tables, and {@link Ref}s. Class instances arrive as plain objects
 * of their own enumerable fields (task arguments of a class with methods are refused or warned
 * about: {@link EncodeOptions.classInstances}); symbol keys and extra properties of arrays are dropped; array
 * holes come back as `undefined`. Functions, symbols, Promises and thenables, WeakMap/WeakSet/
 * WeakRef, cycles and other built-ins (streams, Blobs, URLs...) throw a SerializationError that
 * names the path. Shared (non-cyclic) references are sent as copies.
 *
 * Buffers of {@link FRAME_THRESHOLD} bytes or more are not copied into the header: they travel
 * as frames, views on the caller's memory (do not mutate them before the payload is sent).
 * Arrow Tables travel as Arrow IPC in a frame. apache-arrow is imported lazily, the first time a
 * Table is met, so the sync {@link encodeValue}/{@link decodeValue} stay synchronous for every
 * other value: met before apache-arrow is loaded, a Table makes them throw with
 * {@link arrowMissed} true (then `await loadArrow()` and call again: {@link encodeValueAsync}/
 * {@link decodeValueAsync} do), or, given {@link EncodeOptions.lateTables}, it gets an empty frame
 * that {@link fillLateTables} writes once apache-arrow is in.
 *
 * Encoding is deterministic (same value, same bytes): pure task keys hash it. The parts:
 * payload.ts (Payload, Ref), value_walk.ts (checking a value and boxing what msgpack cannot
 * hold), value_buffers.ts (binary buffers), value_arrow.ts (Arrow Tables), value_reading.ts
 * (frames and Refs while decoding) and value_extensions.ts (the msgpack extension types
 * 0x60-0x6f and the Packr). Browser-safe: no `Deno.*`, no `node:` imports; msgpackr through
 * its browser-safe entry.
 * @module
 */
import { DtaskError, isError, SerializationError } from "../core/errors.ts";
import { Payload } from "./payload.ts";
import { packr } from "./value_extensions.ts";
import { failure, needsWalk, walk } from "./value_walk.ts";
import { reading } from "./value_reading.ts";
import { arrowMissed, type LateTable, loadArrow, resetArrowMissed } from "./value_arrow.ts";
import { resetHandleMissed } from "./value_handles.ts";

export { FRAME_THRESHOLD, Payload, Ref } from "./payload.ts";
export { arrowMissed, fillLateTables, type LateTable, loadArrow } from "./value_arrow.ts";
export { handleMissed } from "./value_handles.ts";

/** Options of {@link encodeValue}. */
export interface EncodeOptions {
  /** Returns the key an object stands for (a Future), or undefined for ordinary data. */
  refKey?: (v: object) => string | undefined;
  /** Receives the key of every Ref in the value. */
  deps?: Set<string>;
  /** Names the value in error messages, e.g. "argument 1". */
  path?: string;
  /**
   * Instances of classes with methods (which arrive as plain objects without them): refused
   * with a ClassInstanceError ("error") or sent with a warning once per class ("warn");
   * unset: sent as plain objects without a word.
   */
  classInstances?: "error" | "warn";
  /**
   * Receives the Arrow Tables met before apache-arrow is loaded, instead of failing: each has
   * an empty frame in the payload until `fillLateTables(payload.frames, lateTables)` writes it.
   */
  lateTables?: LateTable[];
}

/** Encodes one value; Futures (per `opts.refKey`) and Refs in it become dependencies. */
export function encodeValue(value: unknown, opts?: EncodeOptions): Payload {
  const frames: Uint8Array[] = [];
  let v = value;
  try {
    if (needsWalk(value)) {
      resetArrowMissed();
      v = walk(value, {
        refKey: opts?.refKey,
        deps: opts?.deps,
        frames,
        stack: [],
        classInstances: opts?.classInstances,
        root: opts?.path,
        late: opts?.lateTables,
      });
    }
    return new Payload(new Uint8Array(packr.pack(v)), frames);
  } catch (e) {
    throw failure(e, opts?.path ?? "value");
  }
}

/** Like {@link encodeValue}, importing apache-arrow first when the value holds a Table. */
export async function encodeValueAsync(value: unknown, opts?: EncodeOptions): Promise<Payload> {
  try {
    return encodeValue(value, opts);
  } catch (e) {
    if (!arrowMissed()) throw e;
    await loadArrow();
    return encodeValue(value, opts);
  }
}

/**
 * Like {@link encodeValueAsync}, but synchronous when it can be: the Payload itself, or a Promise
 * of it when the value holds a Table met before apache-arrow was loaded.
 */
export function encodeValueSoon(value: unknown, opts?: EncodeOptions): Payload | Promise<Payload> {
  try {
    return encodeValue(value, opts);
  } catch (e) {
    if (!arrowMissed()) throw e;
    return loadArrow().then(() => encodeValue(value, opts));
  }
}

/** Decodes a payload; each Ref becomes `resolveRef(key)` when given, else stays a Ref. */
export function decodeValue(p: Payload, resolveRef?: (key: string) => unknown): unknown {
  resetArrowMissed();
  resetHandleMissed();
  return reading(p.frames, resolveRef, (isResolverError) => {
    try {
      return packr.unpack(p.header);
    } catch (e) {
      if (isResolverError(e) || e instanceof DtaskError) throw e;
      throw new SerializationError(`cannot decode value: ${isError(e) ? e.message : e}`, {
        cause: e,
      });
    }
  });
}

/** Like {@link decodeValue}, importing apache-arrow first when the value holds a Table. */
export async function decodeValueAsync(
  p: Payload,
  resolveRef?: (key: string) => unknown,
): Promise<unknown> {
  try {
    return decodeValue(p, resolveRef);
  } catch (e) {
    if (!arrowMissed()) throw e;
    await loadArrow();
    return decodeValue(p, resolveRef);
  }
}
