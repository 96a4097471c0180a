/**
 * What the encoding walk puts in place of values msgpack cannot hold as they are (each has its
 * own extension type), the failure it unwinds with, and its context. Browser-safe.
 *
 * @module
 */

/** A Map, as [k0, v0, k1, v1, ...]. */
export class MapBox {
  constructor(readonly flat: unknown[]) {}
}

/** A buffer of `kind` and `length` elements, in frames[index]. */
export class FrameRef {
  constructor(readonly index: number, readonly kind: number, readonly length: number) {}
}

/** An Arrow Table, as IPC stream bytes in frames[index]. */
export class ArrowRef {
  constructor(readonly index: number) {}
}

/** A string with lone surrogates, which UTF-8 cannot hold. */
export class Utf16 {
  constructor(readonly s: string) {}
}

/** -0, which msgpack would send as 0. */
export class NegZero {}

/** The one NegZero box. */
export const NEG_ZERO: NegZero = new NegZero();

/** An encoding failure; collects its path while the walk unwinds. */
export class Fail {
  readonly segs: string[] = [];
  constructor(
    readonly what: string,
    readonly cause?: unknown,
    /** The error class it becomes (SerializationError unless said). */
    readonly ErrorClass?: new (message: string, options?: ErrorOptions) => Error,
  ) {}
}

/** The state of one encoding walk. */
export interface WalkContext {
  refKey?: (v: object) => string | undefined;
  deps?: Set<string>;
  frames: Uint8Array[];
  stack: object[];
  framed?: Map<object, FrameRef | ArrowRef>;
  /** Instances of classes with methods: refused ("error") or sent with a warning ("warn"). */
  classInstances?: "error" | "warn";
  /** The value's name in messages (encodeValue's `path`). */
  root?: string;
  /** Tables met before apache-arrow was loaded, each with an empty frame for now. */
  late?: [frame: number, table: object][];
}

/** A Utf16 box's string as UTF-16LE bytes. */
export function packUtf16(u: Utf16): Uint8Array {
  const out = new Uint8Array(u.s.length * 2);
  for (let i = 0; i < u.s.length; i++) {
    out[2 * i] = u.s.charCodeAt(i) & 0xff;
    out[2 * i + 1] = u.s.charCodeAt(i) >> 8;
  }
  return out;
}

/** A string from UTF-16LE bytes. */
export function readUtf16(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i + 1 < data.length; i += 2) s += String.fromCharCode(data[i] | data[i + 1] << 8);
  return s;
}
