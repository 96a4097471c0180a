/**
 * Batch encoding: a batch of messages is one msgpack header plus out-of-band frames.
 *
 * Packet layout (little-endian u32s):
 *   bodyLength | headerLength | frameCount | frameLength × frameCount | header | frames
 * Each frame starts 8-byte aligned relative to the start of the frames region, so typed-array
 * views on a received frame work without a copy.
 */
// A full npm: specifier, not the import-map name: dtask loads under any project's deno.json
// (a program that imports it by path, and its worker processes; see worker/config.ts).
// deno-lint-ignore no-import-prefix
import { addExtension, Packr } from "npm:msgpackr@2.1.4/pack";
import { Payload } from "./serialize.ts";
import type { Message } from "./protocol.ts";

/** Values whose header is at most this many bytes (and have no frames) travel inline. */
const INLINE_MAX = 16 * 1024;

/** The frame and header limits (they live with the transport's other limits). */
export { DEFAULT_MAX_FRAME, MAX_HEADER } from "./limits.ts";

/** The frames of every inline Payload read (frozen: shared, so it must never change). */
const NO_FRAMES = Object.freeze([]) as unknown as Uint8Array[];

let outFrames: Uint8Array[] | null = null;
let inFrames: Uint8Array[] | null = null;

addExtension({
  Class: Payload,
  type: 0x70,
  write(p: Payload): Uint8Array | number[] {
    if (p.frames.length === 0 && p.header.length <= INLINE_MAX) return p.header;
    if (outFrames === null) throw new Error("a Payload with frames can only travel in a batch");
    const start = outFrames.length;
    outFrames.push(p.header);
    for (const f of p.frames) outFrames.push(f);
    return [start, p.frames.length + 1];
  },
  read(v: Uint8Array | number[]): Payload {
    if (v instanceof Uint8Array) return new Payload(v, NO_FRAMES);
    const [start, count] = v;
    const frames = inFrames;
    if (
      frames === null || !Number.isInteger(start) || !Number.isInteger(count) || count < 1 ||
      start < 0 || start + count > frames.length
    ) {
      throw new RangeError("payload refers to frames the packet does not have");
    }
    return new Payload(frames[start], frames.slice(start + 1, start + count));
  },
});

/** Creates the msgpack codec of one stream (records mode: both ends keep record definitions). */
export function streamCodec(): Packr {
  // plain maps (the handshake codec's) decode as objects, like records
  return new Packr(
    { sequential: true, mapsAsObjects: true } as ConstructorParameters<typeof Packr>[0],
  );
}

let handshake: Packr | null = null;

/**
 * The codec of what a stream writes before it has read anything (a hello, or the refusal of a
 * peer that never sent one): plain msgpack that any stream's decoder reads, shared, so a
 * connection refused before its handshake never costs a codec of its own.
 */
export function handshakeCodec(): Packr {
  return handshake ??= new Packr({ useRecords: false } as ConstructorParameters<typeof Packr>[0]);
}

/** Pads `n` up to a multiple of 8 (exact for any length below 2^53, not just below 2^31). */
export function align8(n: number): number {
  return n + (-n & 7);
}

/** Encodes a batch into the chunks to write, in order (frames are not copied). */
export function encodePacket(codec: Packr, batch: Message[]): Uint8Array[] {
  outFrames = [];
  let header: Uint8Array;
  let frames: Uint8Array[];
  try {
    // Copy out of msgpackr's shared output buffer: it is reused by the next pack.
    header = codec.pack(batch);
    frames = outFrames;
  } finally {
    outFrames = null;
  }
  const n = frames.length;
  const prelude = new Uint8Array(12 + 4 * n + header.length);
  const dv = new DataView(prelude.buffer);
  let framesBytes = 0;
  for (let i = 0; i < n; i++) {
    dv.setUint32(12 + 4 * i, frames[i].length, true);
    framesBytes += align8(frames[i].length);
  }
  dv.setUint32(0, 8 + 4 * n + header.length + framesBytes, true);
  dv.setUint32(4, header.length, true);
  dv.setUint32(8, n, true);
  prelude.set(header, 12 + 4 * n);
  if (n === 0) return [prelude];
  const chunks: Uint8Array[] = [prelude];
  for (const f of frames) {
    chunks.push(f);
    const pad = align8(f.length) - f.length;
    if (pad) chunks.push(new Uint8Array(pad));
  }
  return chunks;
}

/** Decodes a batch from its header and frames; throws on anything malformed. */
export function decodePacket(codec: Packr, header: Uint8Array, frames: Uint8Array[]): unknown {
  inFrames = frames;
  try {
    return codec.unpack(header);
  } finally {
    inFrames = null;
  }
}
