/**
 * Values for task arguments and results: a msgpack header plus out-of-band frames.
 *
 * Sendable: JSON-like data, `undefined`, `-0`, NaN, strings with lone surrogates, Map (any
 * keys), Set, Date, RegExp, BigInt of any size, ArrayBuffer, DataView, typed arrays (each kind
 * keeps its type), Errors (rebuilt by {@link fromEnvelope}: name, message, stack, cause and
 * extra fields), apache-arrow Tables, and {@link Ref}s. Class instances arrive as plain objects
 * of their own enumerable fields; symbol keys and extra properties of arrays are dropped; array
 * holes come back as `undefined`. Functions, symbols, Promises and thenables, WeakMap/WeakSet/
 * WeakRef, cycles and other built-ins (streams, Blobs, URLs...) throw a SerializationError that
 * names the path. Shared (non-cyclic) references are sent as copies.
 *
 * Buffers of {@link FRAME_THRESHOLD} bytes or more are not copied into the header: they travel
 * as frames, views on the caller's memory (do not mutate them before the payload is sent).
 * Arrow Tables travel as Arrow IPC in a frame. apache-arrow is imported lazily, so the sync
 * {@link encodeValue}/{@link decodeValue} handle Tables once `await loadArrow()` has run;
 * {@link encodeValueAsync}/{@link decodeValueAsync} load it when a Table is met.
 *
 * Encoding is deterministic (same value, same bytes): pure task keys hash it. This file owns
 * msgpack extension types 0x60-0x6f (leaving 0x62, 0x65, 0x69 to msgpackr's built-ins);
 * msgpackr extensions are process-global, so they apply to every Packr once this is imported.
 * Browser-safe: no `Deno.*`, no `node:` imports; msgpackr through its browser-safe entry.
 * @module
 */
import { addExtension, Packr } from "msgpackr/pack";
import {
  DtaskError,
  fromEnvelope,
  isError,
  SerializationError,
  toEnvelope,
} from "../core/errors.ts";

/** Buffers of at least this many bytes travel as out-of-band frames, not inside the header. */
export const FRAME_THRESHOLD = 64 * 1024;

/** One encoded value: a msgpack header plus out-of-band binary frames. */
export class Payload {
  /** `header`: the msgpack bytes; `frames`: the large buffers, referenced from the header. */
  constructor(readonly header: Uint8Array, readonly frames: Uint8Array[]) {}
  /** Bytes of the header and every frame. */
  get nbytes(): number {
    let n = this.header.byteLength;
    for (const f of this.frames) n += f.byteLength;
    return n;
  }
}

/** A dependency marker: stands for the value stored under `key`. */
export class Ref {
  /** `key`: the key of the task or data this stands for. */
  constructor(readonly key: string) {}
}

/** Options of {@link encodeValue}. */
export interface EncodeOptions {
  /** Returns the key an object stands for (a Future), or undefined for ordinary data. */
  refKey?: (v: object) => string | undefined;
  /** Receives the key of every Ref in the value. */
  deps?: Set<string>;
  /** Names the value in error messages, e.g. "argument 1". */
  path?: string;
}

// ---- encoding: a walk that checks the value and swaps in boxes, copying only what changes ----

class MapBox { // a Map, as [k0, v0, k1, v1, ...]
  constructor(readonly flat: unknown[]) {}
}
class FrameRef { // a buffer of `kind` and `length` elements, in frames[index]
  constructor(readonly index: number, readonly kind: number, readonly length: number) {}
}
class ArrowRef { // an Arrow Table, as IPC stream bytes in frames[index]
  constructor(readonly index: number) {}
}
class Utf16 { // a string with lone surrogates, which UTF-8 cannot hold
  constructor(readonly s: string) {}
}
class NegZero {}
const NEG_ZERO = new NegZero();

class Fail { // an encoding failure; collects its path while the walk unwinds
  readonly segs: string[] = [];
  constructor(readonly what: string, readonly cause?: unknown) {}
}

interface Ctx {
  refKey?: (v: object) => string | undefined;
  deps?: Set<string>;
  frames: Uint8Array[];
  stack: object[];
  framed?: Map<object, FrameRef | ArrowRef>;
}

const MAX_DEPTH = 500;
const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Encodes one value; Futures (per `opts.refKey`) and Refs in it become dependencies. */
export function encodeValue(value: unknown, opts?: EncodeOptions): Payload {
  const frames: Uint8Array[] = [];
  let v = value;
  try {
    if (needsWalk(value)) {
      v = walk(value, { refKey: opts?.refKey, deps: opts?.deps, frames, stack: [] });
    }
    return new Payload(new Uint8Array(packr.pack(v)), frames);
  } catch (e) {
    throw failure(e, opts?.path ?? "value");
  }
}

/** Like {@link encodeValue}, importing apache-arrow first when the value holds a Table. */
export async function encodeValueAsync(value: unknown, opts?: EncodeOptions): Promise<Payload> {
  arrowWanted = false;
  try {
    return encodeValue(value, opts);
  } catch (e) {
    if (!arrowWanted || arrow) throw e;
    await loadArrow();
    return encodeValue(value, opts);
  }
}

function failure(e: unknown, root: string): SerializationError {
  const f = e instanceof Fail ? e : new Fail("cannot be encoded", e);
  const path = f.segs.reverse().join("");
  const why = f.cause === undefined ? "" : `: ${isError(f.cause) ? f.cause.message : f.cause}`;
  const err = new SerializationError(`${root}${path && " " + path} ${f.what}${why}`, {
    cause: f.cause,
  });
  Object.defineProperty(err, "path", { value: root + path, enumerable: true });
  return err;
}

function needsWalk(x: unknown): boolean {
  const t = typeof x;
  if (t === "string") return !(x as string).isWellFormed();
  return t === "object" ? x !== null : t === "function" || t === "symbol" || x === 0;
}

function walk(v: unknown, c: Ctx): unknown {
  switch (typeof v) {
    case "number":
      return v === 0 && 1 / v < 0 ? NEG_ZERO : v;
    case "string":
      return v.isWellFormed() ? v : new Utf16(v);
    case "object":
      return v === null ? v : walkObject(v, c);
    case "function":
      throw new Fail("is a function: functions cannot be sent as data");
    case "symbol":
      throw new Fail("is a symbol: symbols cannot be sent");
    default:
      return v;
  }
}

/** Walks one child; on failure adds its path segment: `how` 0 [i] or .key, 1 Map key, 2 item. */
function child(x: unknown, c: Ctx, at: string | number, how = 0): unknown {
  try {
    return walk(x, c);
  } catch (e) {
    const f = e instanceof Fail ? e : new Fail("cannot be encoded", e);
    f.segs.push(
      how === 1
        ? `.keys()[${at}]`
        : how === 2
        ? (typeof at === "string" ? `.get(${JSON.stringify(at)})` : `.values()[${at}]`)
        : typeof at === "number"
        ? `[${at}]`
        : IDENT.test(at)
        ? `.${at}`
        : `[${JSON.stringify(at)}]`,
    );
    throw f;
  }
}

function enter(o: object, c: Ctx): void {
  if (c.stack.includes(o)) {
    throw new Fail("is a circular reference: values must not contain themselves");
  }
  if (c.stack.length >= MAX_DEPTH) throw new Fail(`nests more than ${MAX_DEPTH} levels deep`);
  c.stack.push(o);
}

function walkObject(o: object, c: Ctx): unknown {
  const key = c.refKey?.(o);
  if (key !== undefined) {
    c.deps?.add(key);
    return new Ref(key);
  }
  const ctor = o.constructor;
  if (ctor === Array) return walkArray(o as unknown[], c);
  if (ctor === Object) return walkProps(o as Record<string, unknown>, c);
  if (o instanceof Ref) {
    c.deps?.add(o.key);
    return o;
  }
  if (o instanceof Map) return walkMap(o, c);
  if (o instanceof Set) return walkSet(o, c);
  if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || isShared(o)) {
    return (o as ArrayBuffer).byteLength >= FRAME_THRESHOLD ? toFrame(o, c) : o;
  }
  if (o instanceof Date || o instanceof RegExp || isError(o)) return o;
  if (Array.isArray(o)) return walkArray(o, c);
  const rec = o as Record<PropertyKey, unknown>;
  if (rec[ARROW_TABLE] === true) return toArrow(o, c);
  if (typeof rec.then === "function") {
    throw new Fail("is a Promise or thenable: await it first, or pass a Future");
  }
  const tag = Object.prototype.toString.call(o).slice(8, -1);
  if (tag === "Number" || tag === "String" || tag === "Boolean" || tag === "BigInt") {
    return walk(o.valueOf(), c);
  }
  if (tag !== "Object") throw new Fail(`is a ${tag}: it cannot be sent as data`);
  return walkProps(rec as Record<string, unknown>, c); // a class instance: its own fields
}

function walkArray(a: unknown[], c: Ctx): unknown[] {
  enter(a, c);
  let out: unknown[] | undefined;
  for (let i = 0, n = a.length; i < n; i++) {
    const x = a[i];
    if (!needsWalk(x)) {
      if (out !== undefined) out[i] = x;
      continue;
    }
    const y = child(x, c, i);
    if (out === undefined && y !== x) out = a.slice(0, i);
    if (out !== undefined) out[i] = y;
  }
  c.stack.pop();
  return out ?? a;
}

function walkProps(o: Record<string, unknown>, c: Ctx): unknown {
  enter(o, c);
  const keys = Object.keys(o);
  let out: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const x = o[keys[i]];
    if (!needsWalk(x)) {
      if (out !== undefined) setProp(out, keys[i], x);
      continue;
    }
    const y = child(x, c, keys[i]);
    if (out === undefined && y !== x) {
      out = {};
      for (let j = 0; j < i; j++) setProp(out, keys[j], o[keys[j]]);
    }
    if (out !== undefined) setProp(out, keys[i], y);
  }
  c.stack.pop();
  return out ?? o;
}

function setProp(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true });
  else o[k] = v;
}

function walkMap(m: Map<unknown, unknown>, c: Ctx): MapBox {
  enter(m, c);
  const flat: unknown[] = [];
  for (const [k, v] of m) {
    const n = flat.length / 2;
    flat.push(needsWalk(k) ? child(k, c, n, 1) : k);
    flat.push(needsWalk(v) ? child(v, c, typeof k === "string" ? k : n, 2) : v);
  }
  c.stack.pop();
  return new MapBox(flat);
}

function walkSet(s: Set<unknown>, c: Ctx): Set<unknown> {
  enter(s, c);
  const out: unknown[] = [];
  let changed = false;
  for (const x of s) {
    if (!needsWalk(x)) {
      out.push(x);
      continue;
    }
    const y = child(x, c, out.length, 2);
    changed ||= y !== x;
    out.push(y);
  }
  c.stack.pop();
  return changed ? new Set(out) : s;
}

function toFrame(o: object, c: Ctx): FrameRef | ArrowRef {
  const known = c.framed?.get(o);
  if (known) return known;
  const kind = kindOf(o);
  const bytes = bytesOf(o as ArrayBufferView);
  const ref = new FrameRef(c.frames.push(bytes) - 1, kind, bytes.byteLength / elementSize(kind));
  (c.framed ??= new Map()).set(o, ref);
  return ref;
}

// ---- buffers ---------------------------------------------------------------------------------

type Typed = { BYTES_PER_ELEMENT: number; new (b: ArrayBufferLike, o: number, n: number): object };
/** Kind codes (never renumber): 0 ArrayBuffer, 1 DataView, then each typed-array type. */
const KINDS: unknown[] =
  ("ArrayBuffer DataView Int8Array Uint8Array Uint8ClampedArray Int16Array " +
    "Uint16Array Int32Array Uint32Array Float32Array Float64Array BigInt64Array BigUint64Array " +
    "Float16Array").split(" ").map((name) => (globalThis as any)[name]); // Float16Array may be absent
const KIND_OF = new Map(KINDS.map((k, i) => [k, i] as const).filter(([k]) => k !== undefined));
const SAB: typeof SharedArrayBuffer | undefined = (globalThis as any).SharedArrayBuffer;

function isShared(o: object): boolean {
  return SAB !== undefined && o instanceof SAB;
}

function kindOf(o: object): number {
  if (o instanceof ArrayBuffer || isShared(o)) return 0;
  for (let p = Object.getPrototypeOf(o); p !== null; p = Object.getPrototypeOf(p)) {
    const k = KIND_OF.get(p.constructor);
    if (k !== undefined) return k;
  }
  throw new Fail("is an unknown kind of buffer");
}

function elementSize(kind: number): number {
  return kind < 2 ? 1 : (KINDS[kind] as Typed | undefined)?.BYTES_PER_ELEMENT ?? 0;
}

function bytesOf(o: ArrayBufferView | ArrayBufferLike): Uint8Array {
  return ArrayBuffer.isView(o)
    ? new Uint8Array(o.buffer, o.byteOffset, o.byteLength)
    : new Uint8Array(o);
}

/** A buffer of `kind` with `length` elements at byte `start` of `buf`: a view when aligned. */
function makeBuffer(kind: number, buf: ArrayBufferLike, start: number, length: number): unknown {
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
function packBytes(
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

function unpackBytes(data: Uint8Array): unknown {
  const kind = data[0], n = data.byteLength - 1, size = elementSize(kind);
  if (size === 0 || n % size !== 0) throw new SerializationError(`bad buffer of kind ${kind}`);
  const copy = new Uint8Array(n);
  copy.set(data.subarray(1));
  return makeBuffer(kind, copy.buffer, 0, n / size);
}

// ---- Arrow -----------------------------------------------------------------------------------

type ArrowIPC = {
  tableToIPC(t: any, type: "stream"): Uint8Array;
  tableFromIPC(b: Uint8Array): unknown;
};
const ARROW_TABLE = Symbol.for("apache-arrow/Table");
let arrow: ArrowIPC | undefined;
let arrowLoading: Promise<void> | undefined;
let arrowWanted = false;

/** Imports apache-arrow's IPC functions once; Arrow Tables can be encoded and decoded after. */
export function loadArrow(): Promise<void> {
  return arrowLoading ??= import("apache-arrow/ipc/serialization").then((m) => {
    arrow = m as unknown as ArrowIPC;
  });
}

function toArrow(t: object, c: Ctx): ArrowRef {
  if (!arrow) {
    arrowWanted = true;
    throw new Fail("is an Arrow Table and apache-arrow is not loaded: `await loadArrow()` first");
  }
  const known = c.framed?.get(t);
  if (known) return known;
  const ref = new ArrowRef(c.frames.push(arrow.tableToIPC(t, "stream")) - 1);
  (c.framed ??= new Map()).set(t, ref);
  return ref;
}

// ---- decoding --------------------------------------------------------------------------------

let frames: Uint8Array[] = [];
let resolver: ((key: string) => unknown) | undefined;
let resolverError: unknown;

/** Decodes a payload; each Ref becomes `resolveRef(key)` when given, else stays a Ref. */
export function decodeValue(p: Payload, resolveRef?: (key: string) => unknown): unknown {
  const savedFrames = frames, savedResolver = resolver;
  frames = p.frames;
  resolver = resolveRef;
  try {
    return packr.unpack(p.header);
  } catch (e) {
    if (e === resolverError || e instanceof DtaskError) throw e;
    throw new SerializationError(`cannot decode value: ${isError(e) ? e.message : e}`, {
      cause: e,
    });
  } finally {
    frames = savedFrames;
    resolver = savedResolver;
    resolverError = undefined;
  }
}

/** Like {@link decodeValue}, importing apache-arrow first when the value holds a Table. */
export async function decodeValueAsync(
  p: Payload,
  resolveRef?: (key: string) => unknown,
): Promise<unknown> {
  arrowWanted = false;
  try {
    return decodeValue(p, resolveRef);
  } catch (e) {
    if (!arrowWanted || arrow) throw e;
    await loadArrow();
    return decodeValue(p, resolveRef);
  }
}

function frameAt(index: unknown): Uint8Array {
  const f = typeof index === "number" ? frames[index] : undefined;
  if (f === undefined) throw new SerializationError(`the value refers to missing frame ${index}`);
  return f;
}

function readRef(key: unknown): unknown {
  if (typeof key !== "string") throw new SerializationError("a Ref key must be a string");
  if (resolver === undefined) return new Ref(key);
  try {
    return resolver(key);
  } catch (e) {
    resolverError = e;
    throw e;
  }
}

function readFrame([index, kind, offset, length]: number[]): unknown {
  const f = frameAt(index);
  if (!(offset >= 0 && length >= 0 && offset + length * elementSize(kind) <= f.byteLength)) {
    throw new SerializationError(`a buffer lies outside frame ${index}`);
  }
  return makeBuffer(kind, f.buffer, f.byteOffset + offset, length);
}

function readArrow(index: number): unknown {
  const bytes = frameAt(index);
  if (arrow) return arrow.tableFromIPC(bytes);
  arrowWanted = true;
  throw new SerializationError("the value holds an Arrow Table: `await loadArrow()` first");
}

function readUtf16(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i + 1 < data.length; i += 2) s += String.fromCharCode(data[i] | data[i + 1] << 8);
  return s;
}

function packUtf16(u: Utf16): Uint8Array {
  const out = new Uint8Array(u.s.length * 2);
  for (let i = 0; i < u.s.length; i++) {
    out[2 * i] = u.s.charCodeAt(i) & 0xff;
    out[2 * i + 1] = u.s.charCodeAt(i) >> 8;
  }
  return out;
}

// ---- msgpack extensions (0x60-0x6f), added from rarest to commonest: the last added is tried first

type Write = (v: any) => unknown;
const ext = (Class: unknown, type: number, write: Write, read: (v: any) => unknown) =>
  addExtension({ Class: Class as () => void, type, write, read });
const raw = (Class: unknown, type: number, pack: (...a: any[]) => unknown, unpack: Write) =>
  addExtension({ Class: Class as () => void, type, pack: pack as any, unpack });

ext(RegExp, 0x67, (r: RegExp) => [r.source, r.flags], (a) => new RegExp(a[0], a[1]));
ext(NegZero, 0x68, () => null, () => -0);
raw(Utf16, 0x6d, packUtf16, readUtf16);
ext(ArrowRef, 0x6c, (r: ArrowRef) => r.index, readArrow);
ext(Error, 0x64, toEnvelope, fromEnvelope);
ext(Set, 0x63, (s: Set<unknown>) => [...s], (a) => new Set(a));
for (const Class of [SAB, ArrayBuffer, DataView, Object.getPrototypeOf(Uint8Array)]) {
  if (Class) raw(Class, 0x6a, packBytes, unpackBytes);
}
ext(FrameRef, 0x6b, (r: FrameRef) => [r.index, r.kind, 0, r.length], readFrame);
ext(Date, 0x66, (d: Date) => d.getTime(), (t) => new Date(t));
ext(MapBox, 0x61, (b: MapBox) => b.flat, (flat: unknown[]) => {
  const m = new Map();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i], flat[i + 1]);
  return m;
});
ext(Ref, 0x60, (r: Ref) => r.key, readRef);

/** The one Packr for values: plain msgpack maps (not records), so output is deterministic. */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  useToJSON: false,
  useBigIntExtension: true,
  int64AsType: "bigint",
  copyBuffers: true,
});
