/** What a Client sends of a submitted function: its hash, name and source, checked once. */
import type { FunctionDef } from "../comm/protocol.ts";
import { functionHash } from "../core/keys.ts";
import { checkFunctionSource } from "../core/function_source.ts";

/** A function as submitted: its FunctionDef and the prefix of its task keys. */
export interface FnInfo extends FunctionDef {
  prefix: string;
}

const fnInfos = new WeakMap<(...args: any[]) => unknown, FnInfo>();

/** The FnInfo of `fn` (computed once per function); TypeError if it is not one. */
export function fnInfo(fn: (...args: any[]) => unknown): FnInfo {
  let info = fnInfos.get(fn);
  if (!info) {
    if (typeof fn !== "function") {
      throw new TypeError(`the first argument must be a function, got ${typeof fn}`);
    }
    const { name, source } = checkFunctionSource(fn);
    info = { h: functionHash(source), n: name, s: source, prefix: name || "lambda" };
    fnInfos.set(fn, info);
  }
  return info;
}
