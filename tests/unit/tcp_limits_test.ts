// The TCP transport's limits (comm/limits.ts) against hostile peers, through real sockets: a
// listener from listenTcp reads each connection in a loop; the hostile side writes raw bytes.
import assert from "node:assert/strict";
import { connectTcp, type TcpTransport } from "../../comm/tcp.ts";
import { listenTcp, type TcpListenOptions } from "../../comm/tcp_listener.ts";
import { EAGER_REGION, FIRST_READ_BUFFER, READ_BUFFER } from "../../comm/limits.ts";
import { encodePacket, streamCodec } from "../../comm/wire.ts";
import { Payload } from "../../comm/serialize.ts";
import { ProtocolError } from "../../core/errors.ts";
import { sendHello } from "../../comm/handshake.ts";
import { type Message, PROTOCOL_VERSION } from "../../comm/protocol.ts";

const MiB = 1024 * 1024;

const u32 = (...xs: number[]): Uint8Array => {
  const b = new Uint8Array(4 * xs.length);
  const dv = new DataView(b.buffer);
  xs.forEach((x, i) => dv.setUint32(4 * i, x, true));
  return b;
};

const concat = (chunks: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) out.set(c, off), off += c.length;
  return out;
};

const hello: Message = { op: "hello", version: PROTOCOL_VERSION, role: "client", name: "h" };

/** A packet as a fresh stream's writer would encode it (the first packet of its stream). */
const firstPacket = (batch: Message[] = [hello]) => concat(encodePacket(streamCodec(), batch));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function writeAll(c: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await c.write(bytes.subarray(off));
}

/** Virtual memory of this process (Linux), or 0 elsewhere. */
function vmSize(): number {
  if (Deno.build.os !== "linux") return 0;
  const m = /VmSize:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  return Number(m![1]) * 1024;
}

/** One accepted connection as the server saw it. */
interface Seen {
  t: TcpTransport;
  batches: unknown[][];
  error: unknown;
  ended: boolean;
}

/** A listener whose every connection is read in a loop; it welcomes hellos, echoes on request. */
function server(opts: TcpListenOptions = {}, echo = false) {
  const seen: Seen[] = [];
  const loops: Promise<void>[] = [];
  const l = listenTcp("127.0.0.1", 0, (t) => {
    const s: Seen = { t, batches: [], error: undefined, ended: false };
    seen.push(s);
    loops.push((async () => {
      try {
        for (let b; (b = await t.readBatch()) !== null;) {
          s.batches.push(b);
          if ((b[0] as Message).op === "hello") {
            await t.writeBatch([{
              op: "welcome",
              version: PROTOCOL_VERSION,
              role: "scheduler",
              address: "tcp://x",
            }]);
          } else if (echo) await t.writeBatch(b as Message[]);
        }
      } catch (e) {
        s.error = e;
      }
      s.ended = true;
      t.close();
    })());
  }, opts);
  const port = Number(l.address.slice(l.address.lastIndexOf(":") + 1));
  /** Connects a raw socket and waits until the listener has accepted it. */
  const raw = async (bytes?: Uint8Array): Promise<Deno.TcpConn> => {
    const before = seen.length;
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await until(() => seen.length > before, "the listener to accept a connection");
    if (bytes) await writeAll(c, bytes);
    return c;
  };
  const close = async () => {
    for (const s of seen) s.t.close();
    await Promise.all(loops);
    await l.close();
  };
  return { seen, port, raw, close };
}

/** Waits for the server to end a connection with an error matching `re`; returns it. */
async function refused(s: Seen, re: RegExp): Promise<ProtocolError> {
  await until(() => s.ended, "the server to drop the connection");
  assert.ok(s.error instanceof ProtocolError, `a ProtocolError, got ${s.error}`);
  assert.match(s.error.message, re);
  return s.error;
}

/** Whether the other end has closed `c` (a read sees the end, or a reset). */
async function closedByPeer(c: Deno.Conn): Promise<boolean> {
  try {
    for (;;) if ((await c.read(new Uint8Array(1024))) === null) return true;
  } catch (e) {
    return e instanceof Deno.errors.ConnectionReset;
  }
}

Deno.test("tcp limits: a hostile first packet is refused from its 12-byte prefix", async (t) => {
  const srv = server();
  const cases: [string, Uint8Array, RegExp][] = [
    ["2^20 frames", u32(64 * 1024, 0, 2 ** 20), /first packet .* 1048576 frames/],
    ["a 4 GiB body", u32(2 ** 32 - 1, 16, 0), /first packet .* too large/],
    ["a header longer than the body", u32(100, 200, 0), /does not match/],
    ["frame lengths that cannot fit the body", u32(64, 0, 15), /does not match/],
    ["a frame region that is not 8-byte aligned", u32(8 + 4 + 16 + 3, 16, 1), /does not match/],
  ];
  const conns: Deno.Conn[] = [];
  for (const [what, prefix, re] of cases) {
    await t.step(what, async () => {
      const c = await srv.raw(prefix); // the bytes it declares never come
      conns.push(c);
      const s = srv.seen.at(-1)!;
      await refused(s, re);
      assert.equal(s.t.reservedBytes, FIRST_READ_BUFFER, "nothing but the first read buffer");
      assert.ok(await closedByPeer(c));
    });
  }
  for (const c of conns) c.close();
  await srv.close();
});

Deno.test("tcp limits: after the handshake, lengths are still checked before allocating", async () => {
  const srv = server();
  const c = await srv.raw(firstPacket());
  await until(() => srv.seen[0].batches.length === 1, "the first packet");
  await writeAll(c, u32(MiB, 0, 2 ** 20)); // 4 MiB of frame lengths cannot fit in 1 MiB
  await refused(srv.seen[0], /does not match/);
  c.close();
  await srv.close();
});

Deno.test("tcp limits: a declared 1 GiB frame reserves memory only as its bytes arrive", async () => {
  const srv = server();
  const c = await srv.raw(firstPacket());
  await until(() => srv.seen[0].batches.length === 1, "the first packet");
  const t = srv.seen[0].t;
  assert.equal(t.reservedBytes, READ_BUFFER);
  const vmBefore = vmSize();
  const GiB = 1024 * MiB;
  await writeAll(c, concat([u32(8 + 4 + GiB, 0, 1, GiB), new Uint8Array(4096)]));
  await until(() => t.reservedBytes > READ_BUFFER + 64, "the server to take the first bytes");
  assert.ok(
    t.reservedBytes <= READ_BUFFER + 64 + EAGER_REGION,
    `${t.reservedBytes} bytes reserved after 4 KiB of a 1 GiB frame`,
  );
  let sent = 4096;
  for (const mb of [4, 16]) {
    await writeAll(c, new Uint8Array(mb * MiB - sent));
    sent = mb * MiB;
    await until(
      () => t.reservedBytes >= sent / 2,
      `the server to take ${mb} MiB of the frame (reserved: ${t.reservedBytes})`,
    );
    assert.ok(
      t.reservedBytes <= READ_BUFFER + 64 + 2 * sent + EAGER_REGION,
      `${t.reservedBytes} bytes reserved after ${sent} bytes of a 1 GiB frame`,
    );
  }
  assert.ok(vmSize() - vmBefore < 256 * MiB, "no gigabyte of address space was reserved");
  c.close();
  await until(() => srv.seen[0].ended, "the server to see the end");
  await srv.close();
});

Deno.test("tcp limits: a connection stalled mid-packet is dropped; idle between packets is not", async (t) => {
  const stallTimeout = 300;
  const srv = server({ stallTimeout });
  const second = firstPacket([{ op: "close-client" }, { op: "release-keys", keys: ["a", "b"] }]);

  await t.step("stalled after part of a packet", async () => {
    const c = await srv.raw(concat([firstPacket(), second.subarray(0, 20)]));
    const s = srv.seen.at(-1)!;
    await refused(s, /stalled mid-packet: it sent nothing for 300 ms/);
    assert.equal(s.batches.length, 1);
    assert.ok(await closedByPeer(c));
    c.close();
  });

  await t.step("stalled inside the 12-byte prefix", async () => {
    const c = await srv.raw(concat([firstPacket(), second.subarray(0, 5)]));
    await refused(srv.seen.at(-1)!, /stalled mid-packet/);
    c.close();
  });

  await t.step("idle between packets, and a packet trickling in slowly, are fine", async () => {
    const c = await srv.raw(firstPacket());
    const s = srv.seen.at(-1)!;
    await until(() => s.batches.length === 1, "the first packet");
    // Deliberately quiet for three stall timeouts: there is no condition to poll for.
    await new Promise((r) => setTimeout(r, 3 * stallTimeout));
    // Then one packet in 8 pieces 100 ms apart: 700 ms in all, but never 300 ms without a byte.
    const step = Math.ceil(second.length / 8);
    for (let off = 0; off < second.length; off += step) {
      if (off > 0) await new Promise((r) => setTimeout(r, 100));
      await writeAll(c, second.subarray(off, off + step));
    }
    await until(() => s.batches.length === 2, "the trickled packet");
    assert.equal(s.ended, false);
    assert.deepEqual(s.batches[1], [{ op: "close-client" }, {
      op: "release-keys",
      keys: ["a", "b"],
    }]);
    c.close();
    await until(() => s.ended, "the end of the stream");
    assert.equal(s.error, undefined, "a clean end, no error");
  });
  await srv.close();
});

Deno.test("tcp limits: over maxUnauthenticated, the oldest pending connection is dropped", async () => {
  const srv = server({ maxUnauthenticated: 3 });
  const port = srv.port;
  // A real peer past its handshake does not count.
  const early = await connectTcp("127.0.0.1", port);
  await sendHello(early, { role: "client", name: "early" }, 5000);
  // Three that never finish their first packet: one silent, two with a prefix only.
  const hostile = [
    await srv.raw(),
    await srv.raw(u32(1000, 992, 0)),
    await srv.raw(u32(1000, 992, 0)),
  ];
  assert.ok(srv.seen.slice(1).every((s) => !s.ended));
  hostile.push(await srv.raw()); // the fourth pending one: the oldest goes
  await refused(srv.seen[1], /before its handshake: 3 connections were waiting/);
  assert.ok(await closedByPeer(hostile[0]));
  assert.ok(srv.seen.slice(2).every((s) => !s.ended), "only the oldest was dropped");

  // A later real handshake still works (it drops the next oldest pending one).
  const late = await connectTcp("127.0.0.1", port);
  const welcome = await sendHello(late, { role: "client", name: "late" }, 5000);
  assert.equal(welcome.op, "welcome");
  await refused(srv.seen[2], /before its handshake/);
  assert.ok(!srv.seen[3].ended && !srv.seen[4].ended);

  // The early peer is still served.
  await early.writeBatch([{ op: "close-client" }]);
  await until(() => srv.seen[0].batches.length === 2, "the early peer's second packet");
  assert.equal(srv.seen[0].ended, false);

  for (const c of hostile) c.close();
  early.close();
  late.close();
  await srv.close();
});

Deno.test("tcp limits: a 100 MB frame round-trips byte-exact, shared and aligned", async () => {
  const srv = server({}, true);
  const client = await connectTcp("127.0.0.1", srv.port);
  await sendHello(client, { role: "client", name: "big" }, 5000);
  const size = 100_000_000 + 3;
  const frame = new Uint8Array(size);
  for (let i = 0; i < size; i++) frame[i] = (i * 7 + (i >>> 13)) & 255;
  const v = new Payload(new Uint8Array([0x90]), [frame]);
  await client.writeBatch([{ op: "key-in-memory", k: "big", w: [], v }]);
  const back = await client.readBatch();
  const got = (back![0] as { v: Payload }).v.frames[0];
  assert.ok(got.buffer instanceof SharedArrayBuffer);
  assert.equal(got.byteOffset % 8, 0);
  assert.equal(got.length, size);
  let diff = -1;
  for (let i = 0; i < size && diff < 0; i++) if (got[i] !== frame[i]) diff = i;
  assert.equal(diff, -1, `the echoed frame differs at byte ${diff}`);
  assert.equal(srv.seen[0].t.reservedBytes, READ_BUFFER, "nothing held between packets");
  client.close();
  await srv.close();
});
