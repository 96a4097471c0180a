/**
 * apache-arrow Tables in encoded values: imported lazily (`loadArrow`), a Table travels as
 * Arrow IPC stream bytes in a frame. Encoding or decoding one before apache-arrow is loaded
 * fails and notes it (`arrowMissed`), so a caller can load it and try again; or, when the
 * encoder is given a list of late Tables, the Table gets an empty frame for now and joins the
 * list, its bytes written once apache-arrow is in (`fillLateTables`). Browser-safe.
 *
 * @module
 */
import { SerializationError } from "../core/errors.ts";
import { ArrowRef, Fail, type WalkContext } from "./value_boxes.ts";

type ArrowIPC = {
  tableToIPC(t: any, type: "stream"): Uint8Array;
  tableFromIPC(b: Uint8Array): unknown;
};

/** A Table encoded before apache-arrow was loaded: the index of its (still empty) frame. */
export type LateTable = [frame: number, table: object];

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
  }, (e) => {
    throw new SerializationError(
      `the value holds an Arrow Table and apache-arrow could not be imported: ${
        e instanceof Error ? e.message : e
      }; make npm:apache-arrow@21.2.0 importable here`,
      { cause: e },
    );
  });
}

/** Forgets that a Table was met unloaded (before an encode or decode that may load it). */
export function resetArrowMissed(): void {
  arrowWanted = false;
}

/**
 * Whether the last encode or decode met a Table while apache-arrow was not loaded: it failed
 * for that alone, and succeeds after `await loadArrow()`.
 */
export function arrowMissed(): boolean {
  return arrowWanted && !arrow;
}

/** A Table's box: its IPC bytes in a frame (once per Table per value). */
export function toArrow(t: object, c: WalkContext): ArrowRef {
  const known = c.framed?.get(t);
  if (known) return known;
  let bytes: Uint8Array;
  if (arrow) bytes = arrow.tableToIPC(t, "stream");
  else if (c.late) bytes = new Uint8Array(0);
  else {
    arrowWanted = true;
    throw new Fail(
      "is an Arrow Table and apache-arrow is not loaded here yet: it loads the first time a " +
        "Table goes through a task, scatter, gather, run or a dataset",
    );
  }
  const index = c.frames.push(bytes) - 1;
  if (!arrow) c.late!.push([index, t]);
  const ref = new ArrowRef(index);
  (c.framed ??= new Map()).set(t, ref);
  return ref;
}

/** Loads apache-arrow and writes each late Table's IPC bytes into its frame of `frames`. */
export async function fillLateTables(frames: Uint8Array[], late: LateTable[]): Promise<void> {
  await loadArrow();
  for (const [i, t] of late) frames[i] = arrow!.tableToIPC(t, "stream");
}

/** A Table from its IPC bytes. */
export function fromArrow(bytes: Uint8Array): unknown {
  if (arrow) return arrow.tableFromIPC(bytes);
  arrowWanted = true;
  throw new SerializationError("the value holds an Arrow Table and apache-arrow is not loaded yet");
}
