// Packet encoding (comm/wire.ts) and the TCP transport's packet reader (comm/tcp.ts) over
// in-memory connections whose reads return exactly the chunks a test chooses.
import assert from "node:assert/strict";
import {
  align8,
  decodePacket,
  DEFAULT_MAX_FRAME,
  encodePacket,
  MAX_HEADER,
  streamCodec,
} from "../../comm/wire.ts";
import { MAX_FIRST_PACKET, TcpTransport } from "../../comm/tcp.ts";
import { decodeValue, encodeValue, FRAME_THRESHOLD, Payload } from "../../comm/serialize.ts";
import { ProtocolError } from "../../core/errors.ts";
import type { Message } from "../../comm/protocol.ts";
import { concat } from "../fixtures/bytes.ts";

const u32 = (...xs: number[]): Uint8Array => {
  const b = new Uint8Array(4 * xs.length);
  const dv = new DataView(b.buffer);
  xs.forEach((x, i) => dv.setUint32(4 * i, x, true));
  return b;
};

/** Splits one encoded packet into its parts, checking the layout on the way. */
function parse(bytes: Uint8Array) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = dv.getUint32(0, true), hlen = dv.getUint32(4, true), n = dv.getUint32(8, true);
  assert.equal(body, bytes.length - 4, "the length prefix counts everything after itself");
  const lens = Array.from({ length: n }, (_, i) => dv.getUint32(12 + 4 * i, true));
  const hstart = 12 + 4 * n;
  const header = bytes.subarray(hstart, hstart + hlen);
  const regionStart = hstart + hlen;
  const frames: Uint8Array[] = [];
  const offsets: number[] = [];
  let off = 0;
  for (const l of lens) {
    offsets.push(off);
    frames.push(bytes.slice(regionStart + off, regionStart + off + l));
    for (let i = l; i < align8(l); i++) assert.equal(bytes[regionStart + off + i], 0, "padding");
    off += align8(l);
  }
  assert.equal(regionStart + off, bytes.length, "nothing after the last frame");
  return { header, frames, offsets, lens };
}

const roundTrip = (batch: Message[]) => {
  const p = parse(concat(encodePacket(streamCodec(), batch)));
  return { ...p, batch: decodePacket(streamCodec(), p.header, p.frames) as Message[] };
};

const pattern = (n: number, seed = 7): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * seed + (i >> 8)) & 255;
  return b;
};

Deno.test("align8 pads up to a multiple of 8", () => {
  assert.deepEqual([0, 1, 7, 8, 9, 15, 16, 65537].map(align8), [0, 8, 8, 8, 16, 16, 16, 65544]);
});

Deno.test("a batch of plain messages round-trips; the prefix counts header and lengths", () => {
  const batch: Message[] = [
    { op: "release-keys", keys: ["a", "b", "ü-😀"] },
    {
      op: "heartbeat",
      memory: 1.5,
      executing: 2,
      ready: 0,
      stored: 3,
      rss: 9,
      spilled: 0,
      spillBytes: 0,
      spillSeconds: 0,
    },
    { op: "close-client" },
  ];
  const r = roundTrip(batch);
  assert.equal(r.frames.length, 0);
  assert.deepEqual(r.batch, batch);
});

Deno.test("small Payloads travel inline, in the header, with no frames", () => {
  const v = encodeValue({ x: [1, 2, 3], s: "hello" });
  assert.equal(v.frames.length, 0);
  const r = roundTrip([{ op: "key-in-memory", k: "k", w: [], v }]);
  assert.equal(r.frames.length, 0);
  const got = (r.batch[0] as { v: Payload }).v;
  assert.ok(got instanceof Payload);
  assert.deepEqual(got.header, v.header);
  assert.deepEqual(decodeValue(got), { x: [1, 2, 3], s: "hello" });
});

Deno.test("a Payload header over 16 KiB goes out of band as a frame", () => {
  const v = encodeValue("x".repeat(20_000));
  assert.equal(v.frames.length, 0);
  const r = roundTrip([{ op: "key-in-memory", k: "k", w: [], v }]);
  assert.equal(r.frames.length, 1);
  assert.equal(decodeValue((r.batch[0] as { v: Payload }).v), "x".repeat(20_000));
});

Deno.test("frame Payloads (>= 64 KiB) are not copied and each frame starts 8-byte aligned", () => {
  const big = new Float64Array(FRAME_THRESHOLD / 8 + 3).map((_, i) => i * 0.5);
  const odd = pattern(FRAME_THRESHOLD + 1); // odd length: the next frame needs padding
  const v1 = encodeValue({ big, odd });
  assert.ok(v1.frames.length >= 2, "large buffers become frames");
  const v2 = encodeValue(pattern(3 * FRAME_THRESHOLD + 5, 13));
  const batch: Message[] = [
    { op: "key-in-memory", k: "a", w: ["w"], v: v1 },
    { op: "release-keys", keys: ["between"] },
    { op: "key-in-memory", k: "b", w: ["w"], v: v2 },
  ];
  const chunks = encodePacket(streamCodec(), batch);
  for (const f of [...v1.frames, ...v2.frames]) {
    assert.ok(chunks.includes(f), "a frame is written as the caller's own buffer");
  }
  const p = parse(concat(chunks));
  // Each Payload's header and its frames are frames of the packet.
  assert.equal(p.frames.length, v1.frames.length + 1 + v2.frames.length + 1);
  for (const o of p.offsets) assert.equal(o % 8, 0, `frame offset ${o} is 8-byte aligned`);
  const got = decodePacket(streamCodec(), p.header, p.frames) as Message[];
  assert.deepEqual(got[1], batch[1]);
  const g1 = decodeValue((got[0] as { v: Payload }).v) as { big: Float64Array; odd: Uint8Array };
  assert.deepEqual(g1.big, big);
  assert.deepEqual(g1.odd, odd);
  assert.deepEqual(decodeValue((got[2] as { v: Payload }).v), pattern(3 * FRAME_THRESHOLD + 5, 13));
});

Deno.test("a Payload with frames cannot be packed outside a batch", () => {
  const v = encodeValue(new Uint8Array(FRAME_THRESHOLD));
  assert.throws(() => streamCodec().pack({ v }), /only travel in a batch/);
});

Deno.test("a header referring to frames the packet lacks is refused, not trusted", () => {
  const v = encodeValue(new Uint8Array(FRAME_THRESHOLD));
  const p = parse(concat(encodePacket(streamCodec(), [{ op: "key-in-memory", k: "k", w: [], v }])));
  assert.throws(() => decodePacket(streamCodec(), p.header, p.frames.slice(0, 1)), RangeError);
  assert.throws(() => decodePacket(streamCodec(), p.header, []), RangeError);
});

Deno.test("one stream codec pair keeps its records across many packets", () => {
  const enc = streamCodec(), dec = streamCodec();
  for (let i = 0; i < 200; i++) {
    const batch: Message[] = [
      { op: "task-finished", k: `t-${i}`, nbytes: i, start: i, stop: i + 1 },
      { op: "missing-data", k: `t-${i}`, key: "d", worker: "w" },
    ];
    const p = parse(concat(encodePacket(enc, batch)));
    assert.deepEqual(decodePacket(dec, p.header, p.frames), batch);
  }
});

// ---- the TCP transport's reader, over a scripted in-memory connection ------------------------

/** A Deno.Conn stand-in: reads return `source` in pieces of at most `step` bytes. */
class ScriptedConn {
  readonly remoteAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  writes: Uint8Array[] = [];
  #off = 0;
  reads = 0;
  closed = false;
  constructor(private source: Uint8Array, private step = Infinity) {}
  read(buf: Uint8Array): Promise<number | null> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    this.reads++;
    if (this.#off >= this.source.length) return Promise.resolve(null);
    const n = Math.min(buf.length, this.step, this.source.length - this.#off);
    buf.set(this.source.subarray(this.#off, this.#off + n));
    this.#off += n;
    return Promise.resolve(n);
  }
  write(b: Uint8Array): Promise<number> {
    this.writes.push(b.slice());
    return Promise.resolve(b.length);
  }
  setNoDelay() {}
  close() {
    this.closed = true;
  }
}

const transportOver = (bytes: Uint8Array, step = Infinity, maxFrame?: number) => {
  const conn = new ScriptedConn(bytes, step);
  return { conn, t: new TcpTransport(conn as unknown as Deno.Conn, { maxFrame }) };
};

/** Encodes batches as one stream would (one codec, records carried over). */
const stream = (...batches: Message[][]) => {
  const enc = streamCodec();
  return concat(batches.flatMap((b) => encodePacket(enc, b)));
};

Deno.test("tcp reader: reads returning one byte at a time still yield whole batches", async () => {
  const v = encodeValue(pattern(FRAME_THRESHOLD + 9));
  const batches: Message[][] = [
    [{ op: "hello", version: 1, role: "client", name: "byte" }],
    [{ op: "release-keys", keys: ["a"] }, { op: "key-in-memory", k: "k", w: [], v }],
    [{ op: "close-client" }],
  ];
  const { conn, t } = transportOver(stream(...batches), 1);
  const got: unknown[][] = [];
  for (let b; (b = await t.readBatch()) !== null;) got.push(b);
  assert.equal(got.length, 3);
  assert.deepEqual(got[0], batches[0]);
  assert.deepEqual(got[2], batches[2]);
  assert.deepEqual(decodeValue((got[1][1] as { v: Payload }).v), pattern(FRAME_THRESHOLD + 9));
  assert.ok(conn.reads > 1000, "the data really came a byte at a time");
  t.close();
});

Deno.test("tcp reader: many packets in one read, crossing its 64 KiB buffer", async () => {
  const batches: Message[][] = [];
  for (let i = 0; i < 500; i++) {
    batches.push([{
      op: "release-keys",
      keys: Array.from({ length: i % 50 }, (_, j) => `key-${j}-${i}-${"x".repeat(20)}`),
    }]);
  }
  const bytes = stream(...batches);
  assert.ok(bytes.length > 128 * 1024);
  const { conn, t } = transportOver(bytes);
  for (const b of batches) assert.deepEqual(await t.readBatch(), b);
  assert.equal(await t.readBatch(), null);
  assert.ok(conn.reads < 50, `${conn.reads} reads for 500 packets`);
  t.close();
});

Deno.test("tcp reader: a large frame region lands in a SharedArrayBuffer, 8-byte aligned", async () => {
  const small = encodeValue(new Uint8Array(17));
  const big = encodeValue({ a: pattern(FRAME_THRESHOLD + 1), b: new Float64Array(9000).fill(2) });
  const { t } = transportOver(
    stream(
      [{ op: "hello", version: 1, role: "client", name: "x" }],
      [{ op: "key-in-memory", k: "s", w: [], v: small }],
      [{ op: "key-in-memory", k: "b", w: [], v: big }],
    ),
    10_000,
  );
  await t.readBatch();
  const s = (await t.readBatch())![0] as { v: Payload };
  assert.equal(s.v.frames.length, 0, "a small value stays inline");
  const b = (await t.readBatch())![0] as { v: Payload };
  assert.ok(b.v.frames.length >= 2);
  for (const f of [b.v.header, ...b.v.frames]) {
    assert.ok(f.buffer instanceof SharedArrayBuffer, "threads can see it without a copy");
    assert.equal(f.byteOffset % 8, 0);
  }
  const got = decodeValue(b.v) as { a: Uint8Array; b: Float64Array };
  assert.deepEqual(got.a, pattern(FRAME_THRESHOLD + 1));
  assert.deepEqual(got.b, new Float64Array(9000).fill(2));
  t.close();
});

Deno.test("tcp reader: a small frame region stays in an ordinary ArrayBuffer", async () => {
  const v = new Payload(new Uint8Array([0x90]), [new Uint8Array(100)]);
  const { t } = transportOver(
    stream([{ op: "close-client" }], [{ op: "key-in-memory", k: "k", w: [], v }]),
  );
  await t.readBatch();
  const got = (await t.readBatch())![0] as { v: Payload };
  assert.ok(got.v.frames[0].buffer instanceof ArrayBuffer);
  assert.equal(got.v.frames[0].length, 100);
  t.close();
});

/** A hand-made packet: the given prefix values, then `rest`. */
const packet = (body: number, hlen: number, lens: number[], rest = new Uint8Array()) =>
  concat([u32(body, hlen, lens.length, ...lens), rest]);

const first = stream([{ op: "close-client" }]); // the first packet of a stream is limited

async function rejects(bytes: Uint8Array, re: RegExp, opts: { maxFrame?: number } = {}) {
  const { t } = transportOver(concat([first, bytes]), Infinity, opts.maxFrame);
  await t.readBatch();
  await assert.rejects(
    () => t.readBatch(),
    (e) => e instanceof ProtocolError && re.test(e.message),
  );
  t.close();
}

Deno.test("tcp reader: malformed packets are refused with a ProtocolError", async (t) => {
  await t.step(
    "a frame over the limit",
    () =>
      rejects(packet(8 + 4 + align8(DEFAULT_MAX_FRAME + 1), 0, [DEFAULT_MAX_FRAME + 1]), /exceeds/),
  );
  await t.step(
    "a frame over a custom limit",
    () => rejects(packet(8 + 4 + 1024, 0, [1024]), /exceeds the limit of 1000/, { maxFrame: 1000 }),
  );
  await t.step("too many frames", () => rejects(packet(8, 0, []).fill(255, 8, 12), /frames/));
  await t.step("a header over the limit", () => rejects(packet(8, MAX_HEADER + 1, []), /header/));
  await t.step(
    "a length that does not match",
    () => rejects(packet(8 + 4 + 1 + 16, 1, [8], new Uint8Array(24)), /does not match/),
  );
  await t.step(
    "a header that is not a batch",
    () => rejects(packet(9, 1, [], new Uint8Array([0x05])), /not a batch/),
  );
  await t.step(
    "a packet cut short",
    () => rejects(packet(8 + 10, 10, [], new Uint8Array(4)), /middle of a packet/),
  );
  await t.step("a prefix cut short", () => rejects(new Uint8Array(7), /middle of a packet/));
});

Deno.test("tcp reader: the first packet (the handshake) is small or refused", async () => {
  const { t } = transportOver(packet(MAX_FIRST_PACKET + 8, MAX_FIRST_PACKET, []));
  await assert.rejects(() => t.readBatch(), /first packet/);
  t.close();
  // Anything up to the limit is fine.
  const hello: Message = { op: "hello", version: 1, role: "client", name: "n".repeat(100_000) };
  const ok = transportOver(stream([hello]));
  assert.deepEqual(await ok.t.readBatch(), [hello]);
  ok.t.close();
});

Deno.test("tcp reader: a clean end between packets is null; writes go out whole", async () => {
  const { conn, t } = transportOver(new Uint8Array());
  assert.equal(await t.readBatch(), null);
  const v = encodeValue(pattern(FRAME_THRESHOLD));
  await t.writeBatch([{ op: "key-in-memory", k: "k", w: [], v }]);
  const p = parse(concat(conn.writes));
  assert.equal(p.frames.length, 2);
  t.close();
  t.close(); // idempotent
  assert.ok(conn.closed);
});
