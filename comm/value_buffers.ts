/**
 * Binary buffers in encoded values: the kind codes of ArrayBuffer, DataView and each typed
 * array (so each arrives as its own type), small buffers written into the msgpack header, and
 * buffers rebuilt from bytes (views when aligned). Browser-safe.
 *
 * @module
 */
import { SerializationError } from "../core/errors.ts";
import { Fail } from "./value_boxes.ts";

type Typed = { BYTES_PER_ELEMENT: number; new (b: ArrayBufferLike, o: number, n: number): object };
/** Kind codes (never renumber): 0 ArrayBuffer, 1 DataView, then each typed-array type. */
const KINDS: unknown[] =
  ("ArrayBuffer DataView Int8Array Uint8Array Uint8ClampedArray Int16Array " +
    "Uint16Array Int32Array Uint32Array Float32Array Float64Array BigInt64Array BigUint64Array " +
    "Float16Array").split(" ").map((name) => (globalThis as any)[name]); // Float16Array may be absent
const KIND_OF = new Map(KINDS.map((k, i) => [k, i] as const).filter(([k]) => k !== undefined));
/** SharedArrayBuffer, where the runtime has it. */
export const SAB: typeof SharedArrayBuffer | undefined = (globalThis as any).SharedArrayBuffer;

/** Whether `o` is a SharedArrayBuffer. */
export function isShared(o: object): boolean {
  return SAB !== undefined && o instanceof SAB;
}

/** The kind code of a buffer. */
export function kindOf(o: object): number {
  if (o instanceof ArrayBuffer || isShared(o)) return 0;
  for (let p = Object.getPrototypeOf(o); p !== null; p = Object.getPrototypeOf(p)) {
    const k = KIND_OF.get(p.constructor);
    if (k !== undefined) return k;
  }
  throw new Fail("is an unknown kind of buffer");
}

/** Bytes per element of a kind (0: no such kind). */
export function elementSize(kind: number): number {
  return kind < 2 ? 1 : (KINDS[kind] as Typed | undefined)?.BYTES_PER_ELEMENT ?? 0;
}

/** A buffer's bytes, as a view (no copy). */
export function bytesOf(o: ArrayBufferView | ArrayBufferLike): Uint8Array {
  return ArrayBuffer.isView(o)
    ? new Uint8Array(o.buffer, o.byteOffset, o.byteLength)
    : new Uint8Array(o);
}

/** A buffer of `kind` with `length` elements at byte `start` of `buf`: a view when aligned. */
export function makeBuffer(
  kind: number,
  buf: ArrayBufferLike,
  start: number,
  length: number,
): unknown {
  const size = elementSize(kind);
  if (size === 0 || kind < 0) throw new SerializationError(`unknown buffer kind ${kind}`);
  if (kind === 0) {
    return buf instanceof ArrayBuffer && start === 0 && length === buf.byteLength
      ? buf
      : new Uint8Array(buf, start, length).slice().buffer;
  }
  if (kind === 1) return new DataView(buf, start, length);
  const K = KINDS[kind] as Typed;
  if (start % size === 0) return new K(buf, start, length);
  return new K(new Uint8Array(buf, start, length * size).slice().buffer, 0, length);
}

/** Writes a small buffer into the header: a plain Uint8Array as msgpack bin, else kind + bytes. */
export function packBytes(
  o: ArrayBufferView,
  alloc: (n: number) => { target: Uint8Array; position: number },
) {
  const src = bytesOf(o);
  if (o.constructor !== Uint8Array) {
    const out = new Uint8Array(src.byteLength + 1);
    out[0] = kindOf(o);
    out.set(src, 1);
    return out;
  }
  const n = src.byteLength, head = n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
  const { target, position } = alloc(head + n);
  target[position] = head === 2 ? 0xc4 : head === 3 ? 0xc5 : 0xc6;
  for (let i = 1, shift = 8 * (head - 2); i < head; i++, shift -= 8) {
    target[position + i] = (n >>> shift) & 0xff;
  }
  target.set(src, position + head);
}

/** A buffer from the header's kind + bytes (copied). */
export function unpackBytes(data: Uint8Array): unknown {
  const kind = data[0], n = data.byteLength - 1, size = elementSize(kind);
  if (size === 0 || n % size !== 0) throw new SerializationError(`bad buffer of kind ${kind}`);
  const copy = new Uint8Array(n);
  copy.set(data.subarray(1));
  return makeBuffer(kind, copy.buffer, 0, n / size);
}
