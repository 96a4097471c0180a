/**
 * Staging chunks for large receive regions, kept for reuse: their pages are already touched, and
 * on a VM a first write to fresh memory is what a large transfer costs most.
 */
import { EAGER_REGION, SPARE_STAGING } from "./limits.ts";

/** Staging chunks kept for reuse by size (their pages are warm), SPARE_STAGING bytes at most. */
const spareStaging = new Map<number, ArrayBuffer[]>();
let spareBytes = 0;

/** A staging chunk of `size` bytes: a spare one if there is one, else a fresh one. */
export function takeStaging(size: number): Uint8Array {
  const spare = spareStaging.get(size)?.pop();
  if (spare === undefined) return new Uint8Array(size);
  spareBytes -= size;
  return new Uint8Array(spare);
}

/** Keeps a staging chunk for reuse, or frees it now rather than at the next collection. */
export function returnStaging(chunk: ArrayBuffer): void {
  if (chunk.byteLength < EAGER_REGION || spareBytes + chunk.byteLength > SPARE_STAGING) {
    chunk.transfer(0);
    return;
  }
  spareBytes += chunk.byteLength;
  const list = spareStaging.get(chunk.byteLength);
  if (list) list.push(chunk);
  else spareStaging.set(chunk.byteLength, [chunk]);
}
