/**
 * Pieces several channels share: functions shipped as source, tasks as a client submits them
 * (one by one, or as plain columns), what a worker says about itself, and the generic reply.
 */
import { Payload } from "../serialize.ts";
import type { ErrorEnvelope } from "../../core/errors.ts";
import {
  each,
  isIndex,
  isNat,
  isNum,
  isObj,
  isSize,
  isStr,
  optEnvelope,
  strs,
  values,
} from "./fields.ts";
import { message, type Spec } from "./spec.ts";

/** A function shipped as source text, compiled once per hash on a worker. */
export interface FunctionDef {
  /** Hash of the source. */
  h: string;
  /** The function's name (may be empty). */
  n: string;
  /** Its source text. */
  s: string;
  /**
   * Where it was submitted from, "url:line" (the first caller outside dtask): its stack frames
   * name it, and its relative `import()`s resolve against that file.
   */
  u?: string;
}

/** A task as a client submits it. */
export interface TaskSpec {
  /** Key. */
  k: string;
  /** Function hash (a FunctionDef sent earlier or in the same message). */
  f: string;
  /** Encoded argument array (Refs stand for dependencies). */
  a: Payload;
  /** Keys of dependencies. */
  d: string[];
  /** User priority (higher runs first); absent = 0. */
  p?: number;
  /** Retries left on error. */
  r?: number;
  /** Workers (addresses or names) it may run on. */
  w?: string[];
  /** Loose restriction: may run elsewhere when none of `w` is there. */
  lo?: boolean;
  /** Resources it needs on its worker while it runs, e.g. `{ GPU: 1 }`. */
  rs?: Record<string, number>;
  /** The key of the task that submitted it (from inside a task): it runs before its siblings. */
  ps?: string;
  /**
   * An actor: `f` is a class whose instance lives on one worker; the number is how many times
   * it is re-created on another worker when its worker dies (`actorRestarts`).
   */
  ac?: number;
}

/**
 * Tasks without options, column by column, each wanted by the client that sends them (what
 * `submit` and `map` make): the scheduler builds its records from these columns without
 * decoding an object, a string or a buffer view per task. Each task's dependencies come before
 * it, in this message or an earlier one.
 */
export interface PlainTasks {
  /** Keys. */
  k: string[];
  /** The function hashes used (each a FunctionDef sent earlier or in the same message). */
  f: string[];
  /** Per task, its function's index in `f`; absent: every task runs `f[0]`. */
  fi?: number[];
  /**
   * Every task's encoded arguments (msgpack, no frames), one after the other, as the header of
   * a Payload without frames: a big block travels as a frame, outside the msgpack header.
   */
  a: Payload;
  /** Per task, where its arguments end in `a` (they start where the previous task's end). */
  ae: number[];
  /** The dependency keys named, each once. */
  d: string[];
  /** Per task, how many dependencies it has; absent: none has any. */
  dc?: number[];
  /** The dependencies of every task in turn, as indices into `d`. */
  di?: number[];
}

/** What a worker tells the scheduler about itself in its handshake. */
export interface WorkerInfo {
  address: string;
  name: string;
  nthreads: number;
  memoryLimit: number;
  pid: number;
  resources?: Record<string, number>;
  /** A nanny watches its process and reports how it ended (`worker-exited`). */
  nanny?: boolean;
}

/** A generic reply: done, or failed with `e`. */
export interface Ack {
  op: "ack";
  id: number;
  e?: ErrorEnvelope;
}

/** The generic reply's declaration; every channel with requests answered by `ack` uses it. */
export const ACK: Spec<Ack, never> = message<Ack>((m) =>
  !isNum(m.id) ? "id" : optEnvelope(m.e) ? null : "e"
);

/** A FunctionDef. */
export const isFunctionDef = (v: unknown): boolean =>
  isObj(v) && isStr(v.h) && isStr(v.n) && isStr(v.s) && (v.u === undefined || isStr(v.u));

/** A TaskSpec that does not wait for itself. */
export function isTaskSpec(v: unknown): boolean {
  if (!isObj(v) || !isStr(v.k) || !isStr(v.f) || !(v.a instanceof Payload) || !strs(v.d)) {
    return false;
  }
  if (v.p !== undefined && !isNum(v.p)) return false;
  if (v.r !== undefined && !isNat(v.r)) return false;
  if (v.w !== undefined && !strs(v.w)) return false;
  if (v.lo !== undefined && typeof v.lo !== "boolean") return false;
  if (v.rs !== undefined && !values(v.rs, isSize)) return false;
  if (v.ps !== undefined && !isStr(v.ps)) return false;
  if (v.ac !== undefined && !isNat(v.ac)) return false;
  return !(v.d as string[]).includes(v.k); // a task cannot wait for itself
}

/** Columns of plain tasks: lengths agree, offsets ascend, indices are in range, no self-wait. */
export function isPlainTasks(v: unknown): boolean {
  if (!isObj(v) || !strs(v.k) || !strs(v.f)) return false;
  if (!(v.a instanceof Payload) || v.a.frames.length !== 0) return false;
  if (!Array.isArray(v.ae) || !strs(v.d)) return false;
  const k = v.k as string[], f = v.f as string[], ae = v.ae as unknown[], d = v.d as string[];
  const n = k.length;
  if (ae.length !== n || (n > 0 && f.length === 0)) return false;
  const fi = v.fi, dc = v.dc, di = v.di;
  if (fi !== undefined && (!Array.isArray(fi) || fi.length !== n)) return false;
  if (dc !== undefined && (!Array.isArray(dc) || dc.length !== n || !Array.isArray(di))) {
    return false;
  }
  if (dc === undefined && di !== undefined) return false;
  let end = 0, at = 0;
  for (let i = 0; i < n; i++) {
    const e = ae[i];
    if (!isIndex(e, v.a.header.length + 1) || (e as number) < end) return false;
    end = e as number;
    if (fi !== undefined && !isIndex(fi[i], f.length)) return false;
    if (dc === undefined) continue;
    const c = dc[i];
    if (!isIndex(c, Infinity) || at + c > (di as unknown[]).length) return false;
    for (const stop = at + c; at < stop; at++) {
      const j = (di as unknown[])[at];
      if (!isIndex(j, d.length) || d[j as number] === k[i]) return false; // no self-wait
    }
  }
  return dc === undefined || at === (di as unknown[]).length;
}

/** Whether `v` is a WorkerInfo a scheduler can rely on. */
export function isWorkerInfo(v: unknown): boolean {
  return isObj(v) && isStr(v.address) && v.address.length > 0 && isStr(v.name) &&
    isNat(v.nthreads) && v.nthreads >= 1 && isSize(v.memoryLimit) &&
    isNum(v.pid) && (v.resources === undefined || values(v.resources, isNum)) &&
    (v.nanny === undefined || typeof v.nanny === "boolean");
}

/** An array of FunctionDefs. */
export const isFunctionDefs = (v: unknown): boolean => each(v, isFunctionDef);
