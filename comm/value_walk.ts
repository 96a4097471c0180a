/**
 * The encoding walk: it checks a value (what cannot be sent throws a Fail that collects the
 * path to it) and swaps in boxes for what msgpack cannot hold as it is, copying only what
 * changes. Futures (per `refKey`) and Refs become dependencies; large buffers go to frames.
 * Browser-safe.
 *
 * @module
 */
import { isError, SerializationError } from "../core/errors.ts";
import { FRAME_THRESHOLD, Ref } from "./payload.ts";
import {
  type ArrowRef,
  Fail,
  FrameRef,
  MapBox,
  NEG_ZERO,
  Utf16,
  type WalkContext,
} from "./value_boxes.ts";
import { bytesOf, elementSize, isShared, kindOf } from "./value_buffers.ts";
import { ARROW_TABLE, toArrow } from "./value_arrow.ts";
import { checkClassInstance } from "./value_classes.ts";
import { isTravelling, toHandleBox } from "./value_handles.ts";

const MAX_DEPTH = 500;
const IDENT = /^[A-Za-z_$][\w$]*$/;

/** The SerializationError of a failed walk of the value named `root`. */
export function failure(e: unknown, root: string): SerializationError {
  const f = e instanceof Fail ? e : new Fail("cannot be encoded", e);
  const path = f.segs.reverse().join("");
  const why = f.cause === undefined ? "" : `: ${isError(f.cause) ? f.cause.message : f.cause}`;
  const ErrorClass = f.ErrorClass ?? SerializationError;
  const err = new ErrorClass(`${root}${path && " " + path} ${f.what}${why}`, { cause: f.cause });
  Object.defineProperty(err, "path", { value: root + path, enumerable: true });
  return err;
}

/** Whether a value must be walked (checked, or swapped for a box) before msgpack packs it. */
export function needsWalk(x: unknown): boolean {
  const t = typeof x;
  if (t === "string") return !(x as string).isWellFormed();
  return t === "object" ? x !== null : t === "function" || t === "symbol" || x === 0;
}

/** `v` checked, with boxes in place of what msgpack cannot hold as it is (copied where changed). */
export function walk(v: unknown, c: WalkContext): unknown {
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
function child(x: unknown, c: WalkContext, at: string | number, how = 0): unknown {
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

function enter(o: object, c: WalkContext): void {
  if (c.stack.includes(o)) {
    throw new Fail("is a circular reference: values must not contain themselves");
  }
  if (c.stack.length >= MAX_DEPTH) throw new Fail(`nests more than ${MAX_DEPTH} levels deep`);
  c.stack.push(o);
}

function walkObject(o: object, c: WalkContext): unknown {
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
  if (isTravelling(o)) return toHandleBox(o);
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
  // a class instance (or an object without prototype): its own fields
  if (c.classInstances) checkClassInstance(o, c.classInstances, () => pathTo(o, c));
  return walkProps(rec as Record<string, unknown>, c);
}

/** The path from the walk's root to `o`, as `failure` names it (looked up in its containers). */
function pathTo(o: object, c: WalkContext): string {
  let path = "";
  const chain = [...c.stack, o];
  for (let i = 0; i + 1 < chain.length; i++) {
    const parent = chain[i], x = chain[i + 1];
    if (Array.isArray(parent)) path += `[${parent.indexOf(x)}]`;
    else if (parent instanceof Map) {
      const k = [...parent].find(([, v]) => v === x)?.[0];
      path += typeof k === "string" ? `.get(${JSON.stringify(k)})` : ".values()[...]";
    } else if (parent instanceof Set) path += `.values()[${[...parent].indexOf(x)}]`;
    else {
      const k = Object.keys(parent).find((k) => (parent as Record<string, unknown>)[k] === x);
      path += k === undefined ? "..." : IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
    }
  }
  return `${c.root ?? "value"}${path && " " + path}`;
}

function walkArray(a: unknown[], c: WalkContext): unknown[] {
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

function walkProps(o: Record<string, unknown>, c: WalkContext): unknown {
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

function walkMap(m: Map<unknown, unknown>, c: WalkContext): MapBox {
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

function walkSet(s: Set<unknown>, c: WalkContext): Set<unknown> {
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

function toFrame(o: object, c: WalkContext): FrameRef | ArrowRef {
  const known = c.framed?.get(o);
  if (known) return known;
  const kind = kindOf(o);
  const bytes = bytesOf(o as ArrayBufferView);
  const ref = new FrameRef(c.frames.push(bytes) - 1, kind, bytes.byteLength / elementSize(kind));
  (c.framed ??= new Map()).set(o, ref);
  return ref;
}
