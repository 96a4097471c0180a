/**
 * One packet in one buffer, as a WebSocket message carries it: the same bytes as on TCP
 * (wire.ts: `bodyLength | headerLength | frameCount | frameLength × frameCount | header |
 * frames`), joined for sending and split, every declared length checked, on arrival.
 * Browser-safe.
 *
 * @module
 */
import { ProtocolError } from "../core/errors.ts";
import { align8 } from "./wire.ts";
import {
  DEFAULT_MAX_FRAME,
  MAX_FIRST_FRAMES,
  MAX_FIRST_PACKET,
  MAX_FRAMES,
  MAX_HEADER,
} from "./limits.ts";

/** Joins the chunks `encodePacket` made into one message's bytes. */
export function joinChunks(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** A packet split into its msgpack header and its frames. */
export interface SplitPacket {
  header: Uint8Array;
  frames: Uint8Array[];
}

/**
 * Splits one message's bytes into header and frames; throws ProtocolError when a declared
 * length disagrees with the bytes or passes a limit (`first`: the handshake's tighter limits).
 * Frames are 8-byte aligned views (the frames region is copied once when it is not).
 */
export function splitPacket(
  data: ArrayBuffer,
  first: boolean,
  maxFrame = DEFAULT_MAX_FRAME,
): SplitPacket {
  const size = data.byteLength;
  if (size < 12) throw new ProtocolError(`a packet of ${size} bytes is shorter than its lengths`);
  if (first && size > MAX_FIRST_PACKET) {
    throw new ProtocolError(
      `a first packet (the handshake) of ${size} bytes is too large: the limit is ` +
        `${MAX_FIRST_PACKET}`,
    );
  }
  const dv = new DataView(data);
  const body = dv.getUint32(0, true), headerLength = dv.getUint32(4, true);
  const n = dv.getUint32(8, true);
  if (body !== size - 4) {
    throw new ProtocolError(`a packet declares ${body} bytes after its length but has ${size - 4}`);
  }
  if (n > (first ? MAX_FIRST_FRAMES : MAX_FRAMES)) {
    throw new ProtocolError(`a packet declares ${n} frames: too many`);
  }
  if (headerLength > MAX_HEADER) {
    throw new ProtocolError(`a packet header of ${headerLength} bytes is over ${MAX_HEADER}`);
  }
  const headerStart = 12 + 4 * n;
  const regionStart = headerStart + headerLength;
  if (regionStart > size) throw new ProtocolError("a packet is shorter than its header");
  const lengths: number[] = [];
  let region = 0;
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(12 + 4 * i, true);
    if (len > maxFrame) {
      throw new ProtocolError(`a frame of ${len} bytes is over the limit of ${maxFrame}`);
    }
    lengths.push(len);
    region += align8(len);
  }
  if (regionStart + region !== size) {
    throw new ProtocolError(
      `a packet's frames declare ${region} bytes but ${size - regionStart} came`,
    );
  }
  const header = new Uint8Array(data, headerStart, headerLength);
  // typed-array views on a frame need its start 8-byte aligned in its buffer
  const base = regionStart % 8 === 0
    ? new Uint8Array(data, regionStart, region)
    : new Uint8Array(data.slice(regionStart));
  const frames: Uint8Array[] = [];
  let off = 0;
  for (const len of lengths) {
    frames.push(base.subarray(off, off + len));
    off += align8(len);
  }
  return { header, frames };
}
