// Nothing a peer sends can crash the scheduler or a worker: raw TCP connections send garbage
// (random bytes, lying packets, malformed messages, bad handshakes) to a real scheduler and a
// real worker; after each, a real client still gets its answer and the bad connection is closed.
import "../../mod.ts";
import assert from "node:assert/strict";
import { Client } from "../../client/client.ts";
import { Scheduler } from "../../scheduler/scheduler.ts";
import { Worker } from "../../worker/worker.ts";
import { Connection } from "../../comm/connection.ts";
import { receiveHello } from "../../comm/handshake.ts";
import { TcpTransport } from "../../comm/tcp.ts";
import { listenTcp } from "../../comm/tcp_listener.ts";
import { PeerPool } from "../../comm/peer_pool.ts";
import { dial } from "../../comm/dial.ts";
import { align8, decodePacket, encodePacket, streamCodec } from "../../comm/wire.ts";
import { encodeValue, Ref } from "../../comm/serialize.ts";
import {
  type Hello,
  type Message,
  PROTOCOL_VERSION,
  type WorkerInfo,
} from "../../comm/protocol.ts";
import { until } from "./helpers.ts";
import { concat, prng } from "../fixtures/bytes.ts";

// ---- bytes -----------------------------------------------------------------------------------

const randomBytes = (rand: () => number, n: number) =>
  Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));

const u32 = (...xs: number[]) => {
  const b = new Uint8Array(4 * xs.length);
  const dv = new DataView(b.buffer);
  xs.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true));
  return b;
};

/** A packet with the given header bytes and frames, and an honest length prefix. */
function packet(header: Uint8Array, frames: Uint8Array[] = []): Uint8Array {
  const region = frames.reduce((n, f) => n + align8(f.length), 0);
  const body = 8 + 4 * frames.length + header.length + region;
  const parts = [u32(body, header.length, frames.length, ...frames.map((f) => f.length)), header];
  for (const f of frames) parts.push(f, new Uint8Array(align8(f.length) - f.length));
  return concat(parts);
}

/** Splits received bytes into packets and decodes them as one stream. */
function decodeStream(bytes: Uint8Array): Message[] {
  const codec = streamCodec();
  const out: Message[] = [];
  let off = 0;
  while (off + 12 <= bytes.length) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset + off);
    const body = dv.getUint32(0, true), hlen = dv.getUint32(4, true), n = dv.getUint32(8, true);
    const lens = Array.from({ length: n }, (_, i) => dv.getUint32(12 + 4 * i, true));
    let p = off + 12 + 4 * n;
    const header = bytes.subarray(p, p + hlen);
    p += hlen;
    const frames = lens.map((l) => {
      const f = bytes.subarray(p, p + l);
      p += align8(l);
      return f;
    });
    out.push(...(decodePacket(codec, header, frames) as Message[]));
    off += 4 + body;
  }
  return out;
}

// ---- raw connections -------------------------------------------------------------------------

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));

const rawConnect = (address: string) =>
  Deno.connect({ hostname: "127.0.0.1", port: portOf(address) });

/** Writes all of `b`; a peer that already closed (reset, broken pipe) is not an error here. */
async function tryWrite(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  try {
    for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
  } catch { /* closed by the other side: that is what we test */ }
}

function tryCloseWrite(conn: Deno.TcpConn): void {
  try {
    conn.closeWrite();
  } catch { /* already closed */ }
}

/**
 * Reads until the other side closes (end of stream or reset) and returns what it sent, then
 * closes our end. Fails if the connection is still open after `ms`.
 */
async function closedByPeer(conn: Deno.Conn, what: string, ms = 10_000): Promise<Message[]> {
  const chunks: Uint8Array[] = [];
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  try {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        break; // reset by the peer (or our timer closed it)
      }
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
  if (timedOut) throw new Error(`${what}: the connection was not closed within ${ms} ms`);
  conn.close();
  return decodeStream(concat(chunks));
}

/** The addresses of the test clusters' workers, whom a raw connection greets as a peer. */
const workerAddresses = new Set<string>();

/**
 * A raw connection after a handshake (as a client to the scheduler, as a peer to a worker);
 * `enc` is the session's codec (records carry over).
 */
async function handshaken(address: string, hello: Partial<Hello> = {}) {
  const conn = await rawConnect(address);
  const enc = streamCodec();
  const mine = {
    op: "hello",
    version: PROTOCOL_VERSION,
    role: workerAddresses.has(address) ? "peer" : "client",
    name: "garbage",
    ...hello,
  };
  await tryWrite(conn, concat(encodePacket(enc, [mine as Hello])));
  const reply = await new TcpTransport(conn).readBatch(); // the server sends nothing more
  assert.equal((reply?.[0] as Message).op, "welcome", JSON.stringify(reply));
  return {
    conn,
    enc,
    /** Encodes any value as a header the way this session's stream would. */
    header: (v: unknown) => new Uint8Array(enc.pack(v)),
    send: (batch: unknown[]) => tryWrite(conn, concat(encodePacket(enc, batch as Message[]))),
  };
}

/** The reason the other side logged for closing `conn` (it logs before it closes). */
function loggedReason(c: Cluster, conn: Deno.Conn): string {
  const me = `tcp://127.0.0.1:${(conn.localAddr as Deno.NetAddr).port}: `;
  const line = c.logs.find((l) => l.includes(me));
  assert.ok(line, `no log line for ${me} in:\n${c.logs.join("\n")}`);
  return line.slice(line.indexOf(me) + me.length);
}

let workerSeq = 0;
const fakeWorker = (over: Partial<WorkerInfo> = {}): WorkerInfo => ({
  address: `tcp://127.0.0.1:${1 + workerSeq}`,
  name: `fake-${++workerSeq}`,
  nthreads: 1,
  memoryLimit: 0,
  pid: 1,
  ...over,
});

// ---- a real scheduler and worker -------------------------------------------------------------

interface Cluster extends AsyncDisposable {
  s: Scheduler;
  w: Worker;
  logs: string[];
  token?: string;
}

async function cluster(authToken?: string): Promise<Cluster> {
  const logs: string[] = [];
  const log = (l: string) => logs.push(l);
  const s = await Scheduler.start({ port: 0, dashboardAddress: null, authToken, log });
  let w: Worker;
  try {
    w = await Worker.start({
      scheduler: s.address,
      nthreads: 1,
      authToken,
      log,
      silenceLogs: true,
    });
  } catch (e) {
    await s.close();
    throw e;
  }
  workerAddresses.add(w.address);
  return {
    s,
    w,
    logs,
    token: authToken,
    async [Symbol.asyncDispose]() {
      workerAddresses.delete(w.address);
      await w.close();
      await s.close();
    },
  };
}

let probe = 0;

/** The scheduler and the worker still work: a client's task runs, the worker serves peers. */
async function healthy(c: Cluster, what: string): Promise<void> {
  await until(() => c.s.nWorkers === 1, `${what}: exactly the real worker registered`, 10_000);
  const client = await Client.connect(c.s.address, { authToken: c.token, timeout: 10_000 });
  try {
    const n = ++probe;
    assert.equal(await client.submit((x: number) => x + 1, n), n + 1, what);
  } finally {
    await client.close();
  }
  const pool = new PeerPool(dial, "probe", c.token);
  try {
    assert.deepEqual(await pool.getData(c.w.address, ["no-such-key"]), {}, what);
  } finally {
    await pool.close();
  }
}

/** Sends `bytes` on a fresh (or handshaken) connection and expects it closed. */
async function sendAndExpectClosed(
  address: string,
  bytes: Uint8Array,
  opts: { hello?: boolean; what: string },
): Promise<Message[]> {
  const conn = opts.hello ? (await handshaken(address)).conn : await rawConnect(address);
  await tryWrite(conn, bytes);
  tryCloseWrite(conn); // an incomplete packet then ends: the reader must give up too
  return await closedByPeer(conn, opts.what);
}

/** Sends `batch` after a handshake; expects the connection closed, and returns the reason. */
async function closesWith(c: Cluster, address: string, batch: unknown[], hello = {}) {
  const h = await handshaken(address, hello);
  await h.send(batch);
  await closedByPeer(h.conn, JSON.stringify(batch).slice(0, 100));
  return loggedReason(c, h.conn);
}

// ---- the tests -------------------------------------------------------------------------------

Deno.test("random bytes (seeded), before and after the handshake, many rounds", async () => {
  await using c = await cluster();
  const rand = prng(20240611);
  const sizes = [1, 3, 4, 11, 12, 13, 16, 20, 64, 100, 4096, 65_536, 300_000];
  for (const [name, address] of [["scheduler", c.s.address], ["worker", c.w.address]]) {
    for (const hello of [false, true]) {
      for (const size of sizes) {
        for (let round = 0; round < 3; round++) {
          const what = `${size} random bytes to the ${name}${hello ? " after hello" : ""}`;
          await sendAndExpectClosed(address, randomBytes(rand, size), { hello, what });
          await healthy(c, what);
        }
      }
    }
  }
});

Deno.test("a valid length prefix with a garbage header", async () => {
  await using c = await cluster();
  const rand = prng(7);
  for (const address of [c.s.address, c.w.address]) {
    for (const hello of [false, true]) {
      for (const size of [1, 2, 7, 50, 1000]) {
        const header = randomBytes(rand, size);
        header[0] = 0xc1; // never valid msgpack
        const what = `garbage header of ${size} bytes to ${address}`;
        const got = await sendAndExpectClosed(address, packet(header), { hello, what });
        if (!hello) {
          assert.equal(got[0]?.op, "refused", what);
        }
        await healthy(c, what);
      }
    }
  }
});

Deno.test("valid msgpack that is not a batch of known, well-formed messages", async (t) => {
  await using c = await cluster();
  const headers: [string, unknown, RegExp][] = [
    ["an object, not an array", { op: "update-graph" }, /not a batch/],
    ["a number", 42, /not a batch/],
    ["an array of non-objects", [1, "a", null], /must be an object, got 1/],
    ["nested arrays", [[{ op: "close-client" }]], /must be an object, got an array/],
    ["an unknown op", [{ op: "frobnicate", x: 1 }], /unknown op "frobnicate"/],
    ["an op that is a number", [{ op: 3 }], /unknown op 3/],
    [
      "a plain msgpack map (read as an object, and checked like one)",
      [new Map([["op", "frobnicate"]])],
      /unknown op "frobnicate"/,
    ],
  ];
  for (const [name, header, re] of headers) {
    await t.step(name, async () => {
      for (const address of [c.s.address, c.w.address]) {
        const what = `${name} to ${address}`;
        const h = await handshaken(address);
        await tryWrite(h.conn, packet(h.header(header)));
        await closedByPeer(h.conn, what);
        assert.match(loggedReason(c, h.conn), re, what);
        const first = packet(new Uint8Array(streamCodec().pack(header)));
        const got = await sendAndExpectClosed(address, first, { what });
        assert.equal(got[0]?.op, "refused", `${what} as a first packet is refused`);
        await healthy(c, what);
      }
    });
  }
});

Deno.test("a known op with wrong field types closes the connection", async (t) => {
  await using c = await cluster();
  const p = encodeValue([1]);
  const toScheduler: unknown[][] = [
    [{ op: "update-graph", tasks: "x", wanted: [] }],
    [{ op: "update-graph", tasks: [{ k: 5, f: "h", a: p, d: [] }], wanted: [] }],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: 5, d: [] }], wanted: ["a"] }],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: p, d: "b" }], wanted: ["a"] }],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: p, d: ["a"] }], wanted: ["a"] }],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: p, d: [], w: "worker" }], wanted: ["a"] }],
    [{ op: "update-graph", tasks: [], wanted: [null] }],
    [{ op: "update-graph", tasks: [], wanted: [], functions: "f" }],
    [{ op: "update-graph" }],
    [{ op: "release-keys", keys: 5 }],
    [{ op: "release-keys" }],
    [{ op: "request-values", keys: [{}] }],
    [{ op: "scheduler-info", id: "x" }],
    [{ op: "compute-task", k: "a" }],
    [{ op: "task-finished", k: "a", nbytes: 1, start: 0, stop: 1 }], // valid, but not a client's
    [{ op: "data", id: 1, values: null }],
  ];
  for (const batch of toScheduler) {
    const what = JSON.stringify(batch).slice(0, 90);
    await t.step(`client -> scheduler: ${what}`, async () => {
      assert.match(await closesWith(c, c.s.address, batch), /protocol error|may not send/);
      await healthy(c, what);
    });
  }
  const asWorker: unknown[][] = [
    [{ op: "task-finished", k: "a", nbytes: "x", start: 0, stop: 1 }],
    [{ op: "task-finished", k: "a", nbytes: -5, start: 0, stop: 1 }],
    [{ op: "task-erred", k: "a", e: "boom", start: 0, stop: 1 }],
    [{ op: "missing-data", k: "a" }],
    [{ op: "heartbeat", memory: "lots" }],
    [{ op: "update-graph", tasks: [], wanted: [] }], // valid, but not a worker's
  ];
  for (const batch of asWorker) {
    const what = JSON.stringify(batch).slice(0, 90);
    await t.step(`worker -> scheduler: ${what}`, async () => {
      const hello = { role: "worker", worker: fakeWorker() };
      assert.match(await closesWith(c, c.s.address, batch, hello), /protocol error|may not send/);
      await healthy(c, what);
    });
  }
  const toWorker: unknown[][] = [
    [{ op: "get-data", id: 1, keys: 5 }],
    [{ op: "get-data", id: "x", keys: [] }],
    [{ op: "compute-task", k: "a" }],
    [{ op: "compute-task", k: "a", f: "h", a: p, d: {}, p: [0] }], // valid, but not a peer's
  ];
  for (const batch of toWorker) {
    const what = JSON.stringify(batch).slice(0, 90);
    await t.step(`peer -> worker: ${what}`, async () => {
      const hello = { role: "peer" };
      assert.match(await closesWith(c, c.w.address, batch, hello), /protocol error|not accept/);
      await healthy(c, what);
    });
  }
});

Deno.test("a frame length over 1 GiB, and other lying prefixes, close at once", async () => {
  await using c = await cluster();
  const huge = 1.5 * 1024 ** 3;
  const lies: [string, Uint8Array][] = [
    ["a 1.5 GiB frame", u32(8 + 4 + huge, 0, 1, huge)],
    ["a 3 GiB frame", u32(0xffffffff, 0, 1, 3 * 1024 ** 3)],
    ["a 1 GiB header", u32(8 + 1024 ** 3, 1024 ** 3, 0)],
    ["a 4 GiB body of nothing", u32(0xffffffff, 0, 0)],
    ["2^32-1 frames", u32(100, 0, 0xffffffff)],
    ["5 frames, 1 length", concat([u32(8 + 4 * 5, 0, 5, 8), new Uint8Array(16)])],
    ["a body shorter than its header", u32(8, 100, 0)],
  ];
  for (const address of [c.s.address, c.w.address]) {
    for (const hello of [false, true]) {
      for (const [name, bytes] of lies) {
        const what = `${name} to ${address}${hello ? " after hello" : ""}`;
        const conn = hello ? (await handshaken(address)).conn : await rawConnect(address);
        await tryWrite(conn, bytes);
        // No closeWrite: the reader must refuse from the prefix alone, not wait for the bytes.
        await closedByPeer(conn, what);
        await healthy(c, what);
      }
    }
  }
});

Deno.test("a frame count that lies about the frames the header refers to", async () => {
  await using c = await cluster();
  const v = encodeValue(new Uint8Array(100_000).fill(3));
  const batch: Message[] = [{
    op: "update-graph",
    tasks: [{ k: "lie", f: "h", a: v, d: [] }],
    wanted: ["lie"],
  }];
  const frames = [v.header, ...v.frames];
  for (const address of [c.s.address, c.w.address]) {
    for (let kept = 0; kept < frames.length; kept++) {
      const what = `a header naming ${frames.length} frames in a packet of ${kept}, to ${address}`;
      const h = await handshaken(address);
      // The header as the session's stream encodes it, but with frames left out of the packet.
      const prelude = encodePacket(h.enc, batch)[0];
      const n = new DataView(prelude.buffer).getUint32(8, true);
      assert.equal(n, frames.length);
      await tryWrite(h.conn, packet(prelude.subarray(12 + 4 * n), frames.slice(0, kept)));
      await closedByPeer(h.conn, what);
      assert.match(loggedReason(c, h.conn), /refers to frames the packet does not have/);
      await healthy(c, what);
    }
  }
});

Deno.test("truncated packets, then the connection closes", async () => {
  await using c = await cluster();
  const hello = encodePacket(streamCodec(), [{
    op: "hello",
    version: PROTOCOL_VERSION,
    role: "client",
    name: "cut",
  }]);
  const helloBytes = concat(hello);
  const v = encodeValue(new Uint8Array(200_000).fill(9));
  for (const address of [c.s.address, c.w.address]) {
    for (const cut of [1, 4, 11, 12, 13, helloBytes.length - 1]) {
      const what = `a hello cut at ${cut} bytes`;
      await sendAndExpectClosed(address, helloBytes.subarray(0, cut), { what });
      await healthy(c, what);
    }
    for (const cut of [3, 12, 40, 1000, 100_000, 200_001]) {
      const what = `a packet with a frame cut at ${cut} bytes, after hello`;
      const h = await handshaken(address);
      const bytes = packet(h.header([{ op: "release-keys", keys: ["a"] }]), v.frames);
      await tryWrite(h.conn, bytes.subarray(0, cut));
      tryCloseWrite(h.conn);
      await closedByPeer(h.conn, what);
      assert.match(loggedReason(c, h.conn), /middle of a packet/);
      await healthy(c, what);
    }
  }
});

Deno.test("a hello with the wrong protocol version gets a refusal naming the version", async () => {
  await using c = await cluster();
  for (const address of [c.s.address, c.w.address]) {
    for (const version of [PROTOCOL_VERSION + 1, 0, "1", null]) {
      const conn = await rawConnect(address);
      const hello = { op: "hello", version, role: "client", name: "old" };
      await tryWrite(conn, concat(encodePacket(streamCodec(), [hello as Hello])));
      const got = await closedByPeer(conn, `version ${version}`);
      assert.equal(got.length, 1);
      assert.equal(got[0].op, "refused");
      const reason = (got[0] as { reason: string }).reason;
      assert.match(reason, new RegExp(`protocol version ${JSON.stringify(version)}`));
      assert.match(reason, new RegExp(`speaks protocol version ${PROTOCOL_VERSION}`));
      await healthy(c, `version ${version}`);
    }
  }
});

Deno.test("malformed hellos are refused with a reason", async () => {
  await using c = await cluster();
  const hellos: [string, unknown[], RegExp][] = [
    ["not a hello", [{ op: "update-graph", tasks: [], wanted: [] }], /not a hello/],
    ["a role nobody knows", [{ op: "hello", version: 1, role: "boss", name: "x" }], /role/],
    ["a name that is not a string", [{ op: "hello", version: 1, role: "client", name: 5 }], /name/],
    [
      "a worker without its info",
      [{ op: "hello", version: 1, role: "worker", name: "w" }],
      /worker/,
    ],
    [
      "a worker with 0 threads",
      [{ op: "hello", version: 1, role: "worker", name: "w", worker: fakeWorker({ nthreads: 0 }) }],
      /worker/,
    ],
    [
      "worker resources that are not numbers",
      [{
        op: "hello",
        version: 1,
        role: "worker",
        name: "w",
        worker: fakeWorker({ resources: { GPU: "many" } as never }),
      }],
      /worker/,
    ],
    [
      "a hello with more messages after it",
      [{ op: "hello", version: 1, role: "client", name: "c" }, { op: "close-client" }],
      /alone/,
    ],
    ["a peer at the scheduler", [{ op: "hello", version: 1, role: "peer", name: "p" }], /peer/],
  ];
  for (const [what, batch, re] of hellos) {
    const conn = await rawConnect(c.s.address);
    await tryWrite(conn, concat(encodePacket(streamCodec(), batch as Message[])));
    const got = await closedByPeer(conn, what);
    assert.equal(got[0]?.op, "refused", what);
    assert.match((got[0] as { reason: string }).reason, re, what);
    await healthy(c, what);
  }
});

Deno.test("a wrong or missing auth token is refused when the scheduler has one", async () => {
  await using c = await cluster("s3cret");
  for (const token of ["wrong", undefined, "s3cre", "s3cret2", ""]) {
    for (const role of ["client", "worker"] as const) {
      const conn = await rawConnect(c.s.address);
      const hello: Hello = { op: "hello", version: PROTOCOL_VERSION, role, name: "x" };
      if (token !== undefined) hello.token = token;
      if (role === "worker") hello.worker = fakeWorker();
      await tryWrite(conn, concat(encodePacket(streamCodec(), [hello])));
      const got = await closedByPeer(conn, `token ${token}`);
      assert.equal(got[0]?.op, "refused");
      assert.match((got[0] as { reason: string }).reason, /authentication failed/);
      await healthy(c, `token ${token} as a ${role}`);
    }
  }
  await assert.rejects(Client.connect(c.s.address, { timeout: 5000 }), /authentication failed/);
});

Deno.test("a worker hello with a name or address already taken is refused", async () => {
  await using c = await cluster();
  const real = c.w.name;
  const cases: [string, WorkerInfo, RegExp][] = [
    ["the real worker's name", fakeWorker({ name: real }), new RegExp(`named "${real}"`)],
    ["the real worker's address", fakeWorker({ address: c.w.address }), /already registered/],
  ];
  for (const [what, info, re] of cases) {
    const conn = await rawConnect(c.s.address);
    const hello: Hello = { op: "hello", version: PROTOCOL_VERSION, role: "worker", name: "x" };
    hello.worker = info;
    await tryWrite(conn, concat(encodePacket(streamCodec(), [hello])));
    const got = await closedByPeer(conn, what);
    assert.equal(got[0]?.op, "refused", what);
    assert.match((got[0] as { reason: string }).reason, re, what);
    await healthy(c, what);
  }
});

Deno.test("two workers racing for one name and address: exactly one joins", async () => {
  await using c = await cluster();
  for (let round = 0; round < 5; round++) {
    const info = fakeWorker();
    const conns = await Promise.all([rawConnect(c.s.address), rawConnect(c.s.address)]);
    const bytes = concat(encodePacket(streamCodec(), [{
      op: "hello",
      version: PROTOCOL_VERSION,
      role: "worker",
      name: info.name,
      worker: info,
    }]));
    await Promise.all(conns.map((conn) => tryWrite(conn, concat([bytes]))));
    // Read each side's first reply.
    const replies = await Promise.all(conns.map(async (conn) => {
      const t = new TcpTransport(conn);
      const b = await t.readBatch();
      return { t, op: (b?.[0] as Message | undefined)?.op };
    }));
    assert.deepEqual(replies.map((r) => r.op).sort(), ["refused", "welcome"], `round ${round}`);
    await until(() => c.s.nWorkers === 2, "the winner registered");
    for (const r of replies) r.t.close();
    await healthy(c, `race round ${round}`);
  }
});

Deno.test("a client's bad message closes only that client; others carry on", async () => {
  await using c = await cluster();
  await using good = await Client.connect(c.s.address);
  const slow = good.submit(async (x: number) => {
    await new Promise((r) => setTimeout(r, 300));
    return x * 2;
  }, 21);
  const bad = await handshaken(c.s.address, { name: "bad" });
  await bad.send([{ op: "update-graph", tasks: "x", wanted: [] }]);
  await closedByPeer(bad.conn, "the bad client");
  assert.match(loggedReason(c, bad.conn), /malformed update-graph message: field tasks/);
  assert.equal(await slow, 42, "the good client's pending task still settles");
  assert.equal(await good.submit((x: number) => x - 1, 10), 9, "and it can submit more");
  await healthy(c, "after the bad client");
});

Deno.test("connections that never finish their handshake do not hold up closing", async () => {
  const c = await cluster();
  const silent = await Promise.all([rawConnect(c.s.address), rawConnect(c.w.address)]);
  const halfHello = concat(encodePacket(streamCodec(), [{
    op: "hello",
    version: PROTOCOL_VERSION,
    role: "client",
    name: "half",
  }])).subarray(0, 10);
  const half = await Promise.all([rawConnect(c.s.address), rawConnect(c.w.address)]);
  for (const conn of half) await tryWrite(conn, halfHello);
  await healthy(c, "with silent connections open");
  const t0 = Date.now();
  await c[Symbol.asyncDispose]();
  assert.ok(Date.now() - t0 < 5000, `closing took ${Date.now() - t0} ms`);
  for (const conn of [...silent, ...half]) await closedByPeer(conn, "a silent connection", 2000);
});

// ---- a worker under a fake scheduler, fetching from fake peers -------------------------------

/** A fake scheduler: admits one worker and records what it sends. */
function fakeScheduler() {
  const got: Message[] = [];
  const ready = Promise.withResolvers<Connection>();
  const conns: Connection[] = [];
  const l = listenTcp("127.0.0.1", 0, async (t) => {
    const hello = await receiveHello(
      t,
      { role: "scheduler", token: undefined, schedulerAddress: () => l.address },
      () => ({ op: "welcome", version: PROTOCOL_VERSION, role: "scheduler", address: l.address }),
      5000,
    );
    if (!hello) return;
    const conn = new Connection(t);
    conns.push(conn);
    conn.start((m) => got.push(m));
    ready.resolve(conn);
  });
  return {
    address: l.address,
    got,
    conn: ready.promise,
    async close() {
      await l.close();
      for (const c of conns) c.close();
      await Promise.all(conns.map((c) => c.finished()));
    },
  };
}

const HANG_UP = Symbol("hang up");
const UNKNOWN_OP = Symbol("unknown op");
type Answer = (keys: string[]) => unknown;

/** A fake peer: answers get-data with `{ op: "data", values: answer(keys) }`, or misbehaves. */
function fakePeer(answer: Answer) {
  const conns: Connection[] = [];
  const l = listenTcp("127.0.0.1", 0, async (t) => {
    const hello = await receiveHello(
      t,
      { role: "worker", token: undefined, schedulerAddress: () => undefined },
      () => ({ op: "welcome", version: PROTOCOL_VERSION, role: "worker", address: l.address }),
      5000,
    );
    if (!hello) return;
    const conn = new Connection(t);
    conns.push(conn);
    conn.start((m) => {
      if (m.op !== "get-data") return;
      const values = answer(m.keys);
      if (values === HANG_UP) conn.close("hanging up");
      else if (values === UNKNOWN_OP) conn.send({ op: "frobnicate" } as unknown as Message);
      else conn.send({ op: "data", id: m.id, values } as unknown as Message);
    });
  });
  return {
    address: l.address,
    async close() {
      await l.close();
      for (const c of conns) c.close();
      await Promise.all(conns.map((c) => c.finished()));
    },
  };
}

Deno.test("a peer answering get-data with garbage does not crash the worker", async (t) => {
  const answers: [string, Answer][] = [
    ["values: null", () => null],
    ["values that are not Payloads", (keys) => Object.fromEntries(keys.map((k) => [k, 5]))],
    ["a string for values", () => "x"],
    ["an array of Payloads for values", () => [encodeValue(1)]],
    ["hanging up", () => HANG_UP],
    ["an unknown op", () => UNKNOWN_OP],
    ["a proper answer", (keys) => Object.fromEntries(keys.map((k) => [k, encodeValue(41)]))],
  ];
  for (const [name, answer] of answers) {
    await t.step(name, async () => {
      const sched = fakeScheduler();
      const peer = fakePeer(answer);
      const w = await Worker.start({
        scheduler: sched.address,
        nthreads: 1,
        silenceLogs: true,
        log() {},
      });
      try {
        const conn = await sched.conn;
        conn.send({
          op: "compute-task",
          k: "t",
          f: "h",
          fn: { h: "h", n: "", s: "(x) => x + 1" },
          a: encodeValue([new Ref("dep")]),
          d: { dep: [peer.address] },
          p: [0],
          r: true,
        });
        const settled = (m: Message) => m.op === "missing-data" || m.op === "task-finished";
        await until(() => sched.got.some(settled), `the worker's answer (${name})`);
        const m = sched.got.find(settled)!;
        if (name === "a proper answer") {
          assert.equal(m.op, "task-finished");
        } else {
          assert.deepEqual(m, { op: "missing-data", k: "t", key: "dep", worker: peer.address });
        }
      } finally {
        await w.close();
        await peer.close();
        await sched.close();
      }
    });
  }
});

Deno.test("a scheduler sending a malformed compute-task makes its worker close cleanly", async () => {
  const sched = fakeScheduler();
  const w = await Worker.start({
    scheduler: sched.address,
    nthreads: 1,
    silenceLogs: true,
    log() {},
  });
  try {
    const conn = await sched.conn;
    conn.send({ op: "compute-task", k: "t" } as unknown as Message);
    assert.match(await w.closed, /compute-task/);
  } finally {
    await w.close();
    await sched.close();
  }
});
