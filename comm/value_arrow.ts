/**
 * apache-arrow Tables in encoded values: imported lazily (`loadArrow`), a Table travels as
 * Arrow IPC stream bytes in a frame. Encoding or decoding one before apache-arrow is loaded
 * fails and notes it, so the async encode and decode can load it and try again. Browser-safe.
 *
 * @module
 */
import { SerializationError } from "../core/errors.ts";
import { ArrowRef, Fail, type WalkContext } from "./value_boxes.ts";

type ArrowIPC = {
  tableToIPC(t: any, type: "stream"): Uint8Array;
  tableFromIPC(b: Uint8Array): unknown;
};

/** The brand apache-arrow puts on its Tables. */
export const ARROW_TABLE: symbol = Symbol.for("apache-arrow/Table");

let arrow: ArrowIPC | undefined;
let arrowLoading: Promise<void> | undefined;
let arrowWanted = false;

/** Imports apache-arrow's IPC functions once; Arrow Tables can be encoded and decoded after. */
export function loadArrow(): Promise<void> {
  // a full npm: specifier: dtask loads under any project's deno.json (see worker/config.ts)
  // deno-lint-ignore no-import-prefix
  return arrowLoading ??= import("npm:apache-arrow@21.2.0/ipc/serialization").then((m) => {
    arrow = m as unknown as ArrowIPC;
  });
}

/** Forgets that a Table was met unloaded (before an encode or decode that may load it). */
export function resetArrowMissed(): void {
  arrowWanted = false;
}

/** Whether a Table was met while apache-arrow was not loaded, since the last reset. */
export function arrowMissed(): boolean {
  return arrowWanted && !arrow;
}

/** A Table's box: its IPC bytes in a frame (once per Table per value). */
export function toArrow(t: object, c: WalkContext): ArrowRef {
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

/** A Table from its IPC bytes. */
export function fromArrow(bytes: Uint8Array): unknown {
  if (arrow) return arrow.tableFromIPC(bytes);
  arrowWanted = true;
  throw new SerializationError("the value holds an Arrow Table: `await loadArrow()` first");
}
