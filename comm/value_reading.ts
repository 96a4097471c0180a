/**
 * What decoding one value reads besides its header: its frames, and how its Refs resolve.
 * msgpackr's extension readers take no context, so the value being decoded is module state,
 * saved and restored around each decode (a resolver may decode another value). Browser-safe.
 *
 * @module
 */
import { SerializationError } from "../core/errors.ts";
import { Ref } from "./payload.ts";
import { elementSize, makeBuffer } from "./value_buffers.ts";
import { fromArrow } from "./value_arrow.ts";

let frames: Uint8Array[] = [];
let resolver: ((key: string) => unknown) | undefined;
let resolverError: unknown;

/**
 * Runs `decode` with `valueFrames` and `resolveRef` in place; restores the previous ones
 * after. An error it throws is the resolver's own when `isResolverError` says so.
 */
export function reading<T>(
  valueFrames: Uint8Array[],
  resolveRef: ((key: string) => unknown) | undefined,
  decode: (isResolverError: (e: unknown) => boolean) => T,
): T {
  const savedFrames = frames, savedResolver = resolver;
  frames = valueFrames;
  resolver = resolveRef;
  try {
    return decode((e) => e === resolverError);
  } finally {
    frames = savedFrames;
    resolver = savedResolver;
    resolverError = undefined;
  }
}

function frameAt(index: unknown): Uint8Array {
  const f = typeof index === "number" ? frames[index] : undefined;
  if (f === undefined) throw new SerializationError(`the value refers to missing frame ${index}`);
  return f;
}

/** A Ref's value: the resolver's, else the Ref itself. */
export function readRef(key: unknown): unknown {
  if (typeof key !== "string") throw new SerializationError("a Ref key must be a string");
  if (resolver === undefined) return new Ref(key);
  try {
    return resolver(key);
  } catch (e) {
    resolverError = e;
    throw e;
  }
}

/** A buffer in a frame: [frame index, kind, byte offset, length in elements]. */
export function readFrame([index, kind, offset, length]: number[]): unknown {
  const f = frameAt(index);
  if (!(offset >= 0 && length >= 0 && offset + length * elementSize(kind) <= f.byteLength)) {
    throw new SerializationError(`a buffer lies outside frame ${index}`);
  }
  return makeBuffer(kind, f.buffer, f.byteOffset + offset, length);
}

/** An Arrow Table in a frame. */
export function readArrow(index: number): unknown {
  return fromArrow(frameAt(index));
}
