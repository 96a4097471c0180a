/**
 * What a Client sends of a submitted function: its hash, name and source, checked once, and
 * where it was submitted from (read from the stack once, when it is first sent).
 */
import type { FunctionDef } from "../comm/protocol.ts";
import { functionHash } from "../core/keys.ts";
import { checkFunctionSource, functionKind } from "../core/function_source.ts";
import { siteFromStack, stackHere } from "../core/task_frames.ts";

/** A function as submitted: its FunctionDef and the prefix of its task keys. */
export interface FnInfo extends FunctionDef {
  prefix: string;
  /** Its source is a class (submitted as an actor). */
  isClass: boolean;
  /** The stack where it was first submitted, until `fnDef` reads the place from it. */
  where?: Error;
}

const fnInfos = new WeakMap<(...args: any[]) => unknown, FnInfo>();
/**
 * FnInfos of recent sources: a new closure of the same function (an arrow written in the call,
 * `submit((x) => x + 1, i)` in a loop) is neither hashed nor has its stack taken again.
 */
const bySource = new Map<string, FnInfo>();
const BY_SOURCE_MAX = 256;

/** The FnInfo of `fn` (computed once per function and source); TypeError if it is not one. */
export function fnInfo(fn: (...args: any[]) => unknown): FnInfo {
  let info = fnInfos.get(fn);
  if (!info) {
    if (typeof fn !== "function") {
      throw new TypeError(
        `the first argument must be a function (or, for an actor, a class), got ${typeof fn}`,
      );
    }
    const { name, source } = checkFunctionSource(fn);
    info = bySource.get(source);
    if (info === undefined || info.n !== name) {
      info = {
        h: functionHash(source),
        n: name,
        s: source,
        prefix: name || "lambda",
        isClass: functionKind(source) === "class",
        where: stackHere(),
      };
      if (bySource.size >= BY_SOURCE_MAX) bySource.clear();
      bySource.set(source, info);
    }
    fnInfos.set(fn, info);
  }
  return info;
}

/** The FunctionDef to send for `info`, with the place it was submitted from when known. */
export function fnDef(info: FnInfo): FunctionDef {
  if (info.where !== undefined) {
    const site = siteFromStack(info.where.stack);
    if (site !== undefined) info.u = site;
    info.where = undefined;
  }
  return info.u === undefined
    ? { h: info.h, n: info.n, s: info.s }
    : { h: info.h, n: info.n, s: info.s, u: info.u };
}
