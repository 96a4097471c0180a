/**
 * The msgpack extension types of values (0x60-0x6f, leaving 0x62, 0x65, 0x69 to msgpackr's
 * built-ins), registered when this module loads, and the one Packr that uses them. msgpackr
 * extensions are process-global, so they apply to every Packr once this is imported. They
 * are added from rarest to commonest: the last added is tried first. Browser-safe (msgpackr
 * through its browser-safe entry).
 *
 * @module
 */
// A full npm: specifier, not the import-map name: dtask loads under any project's deno.json
// (a program that imports it by path, and its worker processes; see worker/config.ts).
// deno-lint-ignore no-import-prefix
import { addExtension, Packr } from "npm:msgpackr@2.1.4/pack";
import { fromEnvelope, toEnvelope } from "../core/errors.ts";
import { Ref } from "./payload.ts";
import { HandleBox, reviveHandle } from "./value_handles.ts";
import { ArrowRef, FrameRef, MapBox, NegZero, packUtf16, readUtf16, Utf16 } from "./value_boxes.ts";
import { packBytes, SAB, unpackBytes } from "./value_buffers.ts";
import { readArrow, readFrame, readRef } from "./value_reading.ts";

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
ext(HandleBox, 0x6e, (b: HandleBox) => [b.tag, b.data], (a) => reviveHandle(a[0], a[1]));

/** The one Packr for values: plain msgpack maps (not records), so output is deterministic. */
export const packr: Packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  useToJSON: false,
  useBigIntExtension: true,
  int64AsType: "bigint",
  copyBuffers: true,
});
