/**
 * Field checkers the message validators share: a few `typeof`s each, no allocation, so that
 * checking every message at the edge of a stream stays cheap.
 */
import { Payload } from "../serialize.ts";

/** A decoded message before it is checked: a plain object with unknown fields. */
export type Obj = Record<string, unknown>;

/** A plain object (what msgpack maps and records decode to; not a Map, array or Payload). */
export function isObj(v: unknown): v is Obj {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A string. */
export const isStr = (v: unknown): v is string => typeof v === "string";
/** A number that is not NaN (priorities may be infinite). */
export const isNum = (v: unknown): v is number => typeof v === "number" && v === v;
/** A finite number, at least 0 (bytes, durations). */
export const isSize = (v: unknown): v is number => Number.isFinite(v) && (v as number) >= 0;
/** A safe integer, at least 0 (counts). */
export const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** A boolean. */
export const isBool = (v: unknown): v is boolean => typeof v === "boolean";
/** An encoded value. */
export const isPayload = (v: unknown): v is Payload => v instanceof Payload;
/** An error as plain data: at least a name and a message. */
export const envelope = (v: unknown): boolean => isObj(v) && isStr(v.name) && isStr(v.message);

/** `ok(v)` when `v` is present: absent optional fields are always fine. */
export const opt = (v: unknown, ok: (x: unknown) => boolean): boolean => v === undefined || ok(v);
/** An absent field or a string. */
export const optStr = (v: unknown): boolean => v === undefined || isStr(v);
/** An absent field or a boolean. */
export const optBool = (v: unknown): boolean => v === undefined || isBool(v);
/** An absent field or an encoded value. */
export const optPayload = (v: unknown): boolean => v === undefined || v instanceof Payload;
/** An absent field or an error envelope. */
export const optEnvelope = (v: unknown): boolean => v === undefined || envelope(v);

/** An array of strings. */
export function strs(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") return false;
  return true;
}

/** An array of numbers (none NaN). */
export function nums(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isNum(v[i])) return false;
  return true;
}

/** An array whose every item passes `ok`. */
export function each(v: unknown, ok: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!ok(v[i])) return false;
  return true;
}

/** A plain object whose every value passes `ok`. */
export function values(v: unknown, ok: (x: unknown) => boolean): boolean {
  if (!isObj(v)) return false;
  for (const k in v) if (!ok(v[k])) return false;
  return true;
}

/** An array of `n` items, each passing `ok` (parallel columns of one table). */
export const column = (v: unknown, n: number, ok: (x: unknown) => boolean): boolean =>
  each(v, ok) && (v as unknown[]).length === n;

/** An integer in [0, below). */
export const isIndex = (v: unknown, below: number): boolean =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 && v < below;

/** A short, safe description of any value for error messages. */
export function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.slice(0, 80));
  if (typeof v === "bigint") return `${v}n`;
  if (v === undefined) return "undefined";
  if (typeof v === "object" && v !== null) return Array.isArray(v) ? "an array" : "an object";
  return typeof v === "function" || typeof v === "symbol" ? typeof v : String(v);
}
