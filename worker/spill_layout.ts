/**
 * The layout of a spilled value's file: its header, then each frame, each part padded to a
 * multiple of 8 bytes (`header | pad | frame0 | pad | frame1 | pad …`), so that every frame read
 * back starts 8-aligned and typed arrays can view it in place. The part lengths are kept in memory
 * by the store, so the file has no prelude. Pure.
 *
 * @module
 */
import type { Payload } from "../comm/serialize.ts";

/** `n` rounded up to a multiple of 8, where each part of a spill file starts. */
export function alignSpill(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** The bytes the spill file of `p` takes: its header and each frame, each padded to 8 bytes. */
export function spillSize(p: Payload): number {
  let n = alignSpill(p.header.byteLength);
  for (const f of p.frames) n += alignSpill(f.byteLength);
  return n;
}
