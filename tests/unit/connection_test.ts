// Message streams (comm/connection.ts) over the TCP transport on real 127.0.0.1 sockets, over
// in-process pairs, and over a scripted transport that shows exactly how sends are batched.
import assert from "node:assert/strict";
import { Connection, validateMessage } from "../../comm/connection.ts";
import { connectTcp, TcpTransport } from "../../comm/tcp.ts";
import { listenTcp } from "../../comm/tcp_listener.ts";
import { connectInproc, inprocPair, listenInproc } from "../../comm/inproc.ts";
import { encodePacket, streamCodec } from "../../comm/wire.ts";
import { decodeValue, encodeValue, Payload } from "../../comm/serialize.ts";
import { CommClosedError, ProtocolError } from "../../core/errors.ts";
import type { Transport } from "../../comm/transport.ts";
import type {
  KeyInMemory,
  Message,
  PlainTasks,
  SchedulerInfoRequest,
} from "../../comm/protocol.ts";
import { concat, prng } from "../fixtures/bytes.ts";

/** The memory fields of a heartbeat and of a scheduler-info entry, all zero. */
const HB_MEMORY = { rss: 0, spilled: 0, spillBytes: 0, spillSeconds: 0 };
const NO_MEMORY = { managed: 0, unmanaged: 0, spilled: 0, rss: 0 };

/** Two connected sockets on 127.0.0.1 (the listener is closed already). */
async function tcpPair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (l.addr as Deno.NetAddr).port;
    const [a, b] = await Promise.all([Deno.connect({ hostname: "127.0.0.1", port }), l.accept()]);
    a.setNoDelay(true);
    return [a, b as Deno.TcpConn];
  } finally {
    l.close();
  }
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await conn.write(b.subarray(off));
}

/** Resolves once `cond` holds, polling every few ms; throws after `ms`. */
async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

const keys = (i: number): Message => ({ op: "release-keys", keys: [`k${i}`] });

// ---- the TCP transport over a real socket ----------------------------------------------------

Deno.test("tcp: packets written a byte at a time arrive whole", async () => {
  const [a, b] = await tcpPair();
  const reader = new TcpTransport(b);
  const batches: Message[][] = [
    [{ op: "hello", version: 1, role: "client", name: "bytewise" }],
    [keys(1), keys(2), { op: "scheduler-info", id: 7 }],
    [{ op: "close-client" }],
  ];
  const enc = streamCodec();
  const bytes = concat(batches.flatMap((x) => encodePacket(enc, x)));
  const writing = (async () => {
    for (let i = 0; i < bytes.length; i++) {
      await writeAll(a, bytes.subarray(i, i + 1));
      if (i % 16 === 0) await new Promise((r) => setTimeout(r, 0)); // let the reader see a part
    }
    a.close();
  })();
  for (const x of batches) assert.deepEqual(await reader.readBatch(), x);
  assert.equal(await reader.readBatch(), null, "a clean close between packets ends the stream");
  await writing;
  reader.close();
});

Deno.test("tcp: a stream cut at random places (seeded) arrives whole, frames included", async () => {
  const [a, b] = await tcpPair();
  const reader = new TcpTransport(b);
  const rand = prng(42);
  const batches: Message[][] = [];
  for (let i = 0; i < 40; i++) {
    const size = i % 7 === 0 ? 70_000 + i : 10 + i;
    const v = encodeValue(new Uint8Array(size).fill(i));
    batches.push([{ op: "key-in-memory", k: `k${i}`, w: ["w"], v }, keys(i)]);
  }
  const enc = streamCodec();
  const bytes = concat(batches.flatMap((x) => encodePacket(enc, x)));
  const writing = (async () => {
    for (let off = 0; off < bytes.length;) {
      const n = 1 + Math.floor(rand() * 9000);
      await writeAll(a, bytes.subarray(off, off + n));
      off += n;
      if (rand() < 0.3) await new Promise((r) => setTimeout(r, 0));
    }
    a.close();
  })();
  for (let i = 0; i < batches.length; i++) {
    const got = await reader.readBatch() as [KeyInMemory, Message];
    assert.equal(got[0].k, `k${i}`);
    const size = i % 7 === 0 ? 70_000 + i : 10 + i;
    assert.deepEqual(decodeValue(got[0].v!), new Uint8Array(size).fill(i));
    assert.deepEqual(got[1], keys(i));
  }
  assert.equal(await reader.readBatch(), null);
  await writing;
  reader.close();
});

Deno.test("tcp: many packets in one write are read back one by one", async () => {
  const [a, b] = await tcpPair();
  const reader = new TcpTransport(b);
  const enc = streamCodec();
  const bytes = concat(Array.from({ length: 1000 }, (_, i) => encodePacket(enc, [keys(i)])).flat());
  await writeAll(a, bytes);
  for (let i = 0; i < 1000; i++) assert.deepEqual(await reader.readBatch(), [keys(i)]);
  a.close();
  assert.equal(await reader.readBatch(), null);
  reader.close();
});

Deno.test("tcp: a 50 MB Payload crosses as a frame, lands shared and aligned", async () => {
  const [a, b] = await tcpPair();
  const size = 50 * 1024 * 1024 + 3;
  const big = new Uint8Array(size);
  for (let i = 0; i < size; i += 4096) big[i] = (i >> 12) & 255;
  big[size - 1] = 99;
  const got = Promise.withResolvers<KeyInMemory>();
  const sender = new Connection(new TcpTransport(a));
  const receiver = new Connection(new TcpTransport(b));
  receiver.start((m) => m.op === "key-in-memory" && got.resolve(m));
  receiver.closed.then((r) => got.reject(new Error(r)));
  sender.start(() => {});
  sender.send(keys(1)); // a stream's first packet is its (small) handshake
  await Promise.resolve(); // that packet is being written: the next send makes a packet of its own
  sender.send({ op: "key-in-memory", k: "big", w: [], v: new Payload(new Uint8Array([1]), [big]) });
  const m = await got.promise;
  const f = m.v!.frames[0];
  assert.equal(f.length, size);
  assert.ok(f.buffer instanceof SharedArrayBuffer);
  assert.equal(f.byteOffset % 8, 0);
  for (let i = 0; i < size; i += 4096) assert.equal(f[i], (i >> 12) & 255);
  assert.equal(f[size - 1], 99);
  await sender.drainAndClose();
  await receiver.closed;
  await Promise.all([sender.finished(), receiver.finished()]);
});

Deno.test("tcp: the listener keeps accepting after peers reset at once; close is idempotent", async () => {
  const accepted: TcpTransport[] = [];
  const l = listenTcp("127.0.0.1", 0, (t) => accepted.push(t));
  const port = Number(l.address.split(":").pop());
  for (let i = 0; i < 20; i++) {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.close();
  }
  const t = await connectTcp("127.0.0.1", port);
  await until(() => accepted.length === 21, "21 accepted connections");
  for (const x of accepted) x.close();
  t.close();
  await l.close();
  await l.close();
});

// ---- batching --------------------------------------------------------------------------------

/** A transport that records batches; writes wait while `hold` is set. */
class ScriptedTransport implements Transport {
  readonly peer = "scripted://peer";
  batches: Message[][] = [];
  hold = false;
  closed = false;
  events: string[] = [];
  #held: PromiseWithResolvers<void>[] = [];
  #reader = Promise.withResolvers<unknown[] | null>();
  writeBatch(batch: Message[]): Promise<void> {
    if (this.closed) return Promise.reject(new CommClosedError("closed"));
    this.batches.push(batch);
    this.events.push(`write ${batch.length}`);
    if (!this.hold) return Promise.resolve();
    const w = Promise.withResolvers<void>();
    this.#held.push(w);
    return w.promise;
  }
  /** Completes the writes in flight. */
  release(): void {
    this.hold = false;
    for (const w of this.#held.splice(0)) w.resolve();
  }
  readBatch(): Promise<unknown[] | null> {
    return this.#reader.promise;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.events.push("close");
    this.#reader.resolve(null);
    for (const w of this.#held.splice(0)) w.reject(new CommClosedError("closed"));
  }
}

const microtasks = async (n = 5) => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

Deno.test("batching: a lone message goes out at once, without a timer", async () => {
  const t = new ScriptedTransport();
  const c = new Connection(t);
  c.send(keys(0));
  await microtasks();
  assert.deepEqual(t.batches, [[keys(0)]]);
  c.close();
});

Deno.test("batching: many sends in one tick go out as one batch", async () => {
  const t = new ScriptedTransport();
  const c = new Connection(t);
  for (let i = 0; i < 1000; i++) c.send(keys(i));
  await microtasks();
  assert.equal(t.batches.length, 1);
  assert.deepEqual(t.batches[0], Array.from({ length: 1000 }, (_, i) => keys(i)));
  c.close();
});

Deno.test("batching: while a write is in flight new messages coalesce into the next one", async () => {
  const t = new ScriptedTransport();
  t.hold = true;
  const c = new Connection(t);
  c.send(keys(0));
  await microtasks();
  assert.equal(t.batches.length, 1);
  for (let i = 1; i <= 30; i++) {
    c.send(keys(i));
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 0)); // other ticks, same write
  }
  assert.equal(t.batches.length, 1, "nothing else is written while the first write is in flight");
  t.release();
  await microtasks(10);
  assert.equal(t.batches.length, 2);
  assert.deepEqual(t.batches[1], Array.from({ length: 30 }, (_, i) => keys(i + 1)));
  c.close();
});

Deno.test("batching: a batch holds at most 5000 messages", async () => {
  const t = new ScriptedTransport();
  const c = new Connection(t);
  for (let i = 0; i < 12_001; i++) c.send(keys(i));
  await microtasks(20);
  assert.deepEqual(t.batches.map((b) => b.length), [5000, 5000, 2001]);
  assert.deepEqual(t.batches.flat(), Array.from({ length: 12_001 }, (_, i) => keys(i)));
  c.close();
});

Deno.test("batching over tcp: one tick's sends are one packet on the wire", async () => {
  const [a, b] = await tcpPair();
  const sender = new Connection(new TcpTransport(a));
  const reader = new TcpTransport(b);
  for (let i = 0; i < 2000; i++) sender.send(keys(i));
  const batch = await reader.readBatch();
  assert.equal(batch!.length, 2000);
  await sender.drainAndClose();
  assert.equal(await reader.readBatch(), null);
  reader.close();
  await sender.finished();
});

// ---- requests, closing -----------------------------------------------------------------------

/** Two connections over an in-process pair; the server answers scheduler-info with its id. */
function echoPair(reverse = false) {
  const [ta, tb] = inprocPair("a", "b");
  const client = new Connection(ta), server = new Connection(tb);
  let held: SchedulerInfoRequest[] = [];
  server.start((m) => {
    if (m.op !== "scheduler-info") return;
    held.push(m);
    if (!reverse) {
      for (const r of held) reply(r);
      held = [];
    }
  });
  const reply = (r: SchedulerInfoRequest) =>
    server.send({ op: "scheduler-info-reply", id: r.id, address: `for ${r.id}`, workers: {} });
  client.start(() => {});
  const flushReversed = () => {
    for (const r of held.reverse()) reply(r);
    held = [];
  };
  return { client, server, flushReversed, held: () => held.length };
}

Deno.test("requests: each reply settles the request with the same id, in any order", async () => {
  const { client, server, flushReversed, held } = echoPair(true);
  const ps = Array.from(
    { length: 50 },
    () => client.request({ op: "scheduler-info", id: 0 }),
  );
  await until(() => held() === 50, "50 requests at the server");
  flushReversed();
  const replies = await Promise.all(ps);
  const ids = new Set(replies.map((r) => r.id));
  assert.equal(ids.size, 50);
  for (const r of replies) assert.equal(r.address, `for ${r.id}`);
  client.close();
  await Promise.all([client.finished(), server.finished()]);
});

Deno.test("requests over tcp: a reply comes back by id", async () => {
  const [a, b] = await tcpPair();
  const client = new Connection(new TcpTransport(a)), server = new Connection(new TcpTransport(b));
  server.start((m) => {
    if (m.op === "scheduler-info") {
      server.send({ op: "scheduler-info-reply", id: m.id, address: "x", workers: {} });
    }
  });
  client.start(() => {});
  const [r1, r2] = await Promise.all([
    client.request({ op: "scheduler-info", id: 0 }),
    client.request({ op: "scheduler-info", id: 0 }),
  ]);
  assert.notEqual(r1.id, r2.id);
  client.close();
  await server.closed;
  await Promise.all([client.finished(), server.finished()]);
});

Deno.test("close rejects pending requests; later requests reject; sends are dropped", async () => {
  const { client, server } = echoPair(true);
  const p = client.request({ op: "scheduler-info", id: 0 });
  client.close("bye");
  client.close("again"); // idempotent
  await assert.rejects(p, (e) => e instanceof CommClosedError && /bye/.test(e.message));
  await assert.rejects(client.request({ op: "scheduler-info", id: 0 }), CommClosedError);
  client.send(keys(1)); // no throw
  assert.equal(await client.closed, "bye");
  assert.equal(await server.closed, "closed by peer");
  await Promise.all([client.finished(), server.finished()]);
});

Deno.test("the peer closing rejects pending requests", async () => {
  const [a, b] = await tcpPair();
  const client = new Connection(new TcpTransport(a)), server = new Connection(new TcpTransport(b));
  const got = Promise.withResolvers<void>();
  server.start(() => got.resolve());
  client.start(() => {});
  const p = client.request({ op: "scheduler-info", id: 0 });
  await got.promise;
  server.close();
  await assert.rejects(p, CommClosedError);
  await Promise.all([client.finished(), server.finished()]);
});

Deno.test("drainAndClose sends everything queued before it closes", async () => {
  const t = new ScriptedTransport();
  t.hold = true;
  const c = new Connection(t);
  c.send(keys(0));
  await microtasks();
  c.send(keys(1));
  c.send(keys(2));
  const closing = c.drainAndClose("done");
  await microtasks();
  assert.ok(!t.closed);
  t.release();
  await closing;
  assert.deepEqual(t.events, ["write 1", "write 2", "close"]);
  assert.equal(c.closeReason, "done");
});

Deno.test("drainAndClose over tcp: the peer reads every message, then the end", async () => {
  const [a, b] = await tcpPair();
  const sender = new Connection(new TcpTransport(a));
  const receiver = new Connection(new TcpTransport(b));
  let n = 0;
  receiver.start(() => n++);
  for (let i = 0; i < 20_000; i++) sender.send(keys(i));
  await sender.drainAndClose();
  assert.equal(await receiver.closed, "closed by peer");
  assert.equal(n, 20_000);
  await Promise.all([sender.finished(), receiver.finished()]);
});

Deno.test("drainAndClose gives up after its timeout when the peer stops reading", async () => {
  const [a, b] = await tcpPair();
  const sender = new Connection(new TcpTransport(a));
  const big = new Payload(new Uint8Array([1]), [new Uint8Array(64 * 1024 * 1024)]);
  sender.send({ op: "key-in-memory", k: "k", w: [], v: big }); // b never reads: the write blocks
  const t0 = Date.now();
  await sender.drainAndClose("bye", 300);
  assert.ok(Date.now() - t0 < 5000);
  assert.match(sender.closeReason!, /dropped after 300 ms/);
  b.close();
  await sender.finished();
});

// ---- what a stream refuses -------------------------------------------------------------------

/** Writes `batch` raw on one end of an in-process pair; resolves with the other end's reason. */
async function reasonFor(batch: unknown[], handler: (m: Message) => void = () => {}) {
  const [ta, tb] = inprocPair("a", "b");
  const seen: Message[] = [];
  const c = new Connection(tb);
  c.start((m) => {
    seen.push(m);
    handler(m);
  });
  await ta.writeBatch(batch as Message[]);
  const reason = await c.closed;
  ta.close();
  await c.finished();
  return { reason, seen };
}

Deno.test("a bad message closes the stream with a logged reason; nothing after it is handled", async () => {
  const logs: string[] = [];
  const [ta, tb] = inprocPair("a", "b");
  const c = new Connection(tb, (l) => logs.push(l));
  const seen: Message[] = [];
  c.start((m) => seen.push(m));
  await ta.writeBatch([keys(1), { op: "frobnicate" }, keys(2)] as unknown as Message[]);
  assert.match(await c.closed, /protocol error: unknown op "frobnicate"/);
  assert.deepEqual(seen, [keys(1)]);
  assert.match(logs.join("\n"), /closing connection to a: .*frobnicate/);
  ta.close();
  await c.finished();
});

Deno.test("malformed messages close the stream", async (t) => {
  const cases: [string, unknown, RegExp][] = [
    ["a number", 5, /must be an object/],
    ["null", null, /must be an object/],
    ["an array", [1], /must be an object, got an array/],
    ["no op", { k: 1 }, /unknown op undefined/],
    ["an op that is not a string", { op: 7 }, /unknown op 7/],
    ["update-graph with tasks: 'x'", { op: "update-graph", tasks: "x", wanted: [] }, /tasks/],
    [
      "update-graph with a task missing fields",
      { op: "update-graph", tasks: [{ k: "a" }], wanted: [] },
      /tasks/,
    ],
    ["compute-task missing fields", { op: "compute-task", k: "a" }, /compute-task.*field f/],
    ["release-keys of numbers", { op: "release-keys", keys: [1, 2] }, /keys/],
    ["task-finished with NaN nbytes", {
      op: "task-finished",
      k: "a",
      nbytes: NaN,
      start: 0,
      stop: 1,
    }, /nbytes/],
  ];
  for (const [name, msg, re] of cases) {
    await t.step(name, async () => {
      const { reason, seen } = await reasonFor([msg]);
      assert.match(reason, re);
      assert.deepEqual(seen, []);
    });
  }
});

Deno.test("a handler that throws (even a non-Error) closes only its own stream", async () => {
  for (const thrown of [new Error("boom"), undefined, null, "str", 42]) {
    const { reason } = await reasonFor([keys(1)], () => {
      throw thrown;
    });
    assert.ok(reason.includes("boom") || reason.startsWith("thrown:"), reason);
  }
});

Deno.test("validateMessage accepts every well-formed op and names the bad field", () => {
  const p = new Payload(new Uint8Array([0xc0]), []);
  const info = { address: "tcp://w:1", name: "w", nthreads: 1, memoryLimit: 0, pid: 1 };
  const env = { name: "Error", message: "m" };
  const good: Message[] = [
    { op: "hello", version: 1, role: "client", name: "c" },
    { op: "hello", version: 1, role: "worker", name: "w", token: "t", worker: info },
    { op: "welcome", version: 1, role: "scheduler", address: "a", id: "i" },
    { op: "refused", reason: "r" },
    {
      op: "update-graph",
      tasks: [{ k: "a", f: "h", a: p, d: [], p: Infinity, r: 2 }, {
        k: "b",
        f: "h",
        a: p,
        d: ["a"],
      }],
      wanted: ["b"],
      functions: [{ h: "h", n: "", s: "() => 1" }],
    },
    { op: "release-keys", keys: [] },
    { op: "request-values", keys: ["a"] },
    { op: "scheduler-info", id: 1 },
    { op: "close-client" },
    { op: "key-in-memory", k: "a", w: ["w"], v: p },
    { op: "key-erred", k: "a", e: env, blame: "a" },
    { op: "keys-cancelled", keys: ["a"], reason: "r" },
    {
      op: "scheduler-info-reply",
      id: 1,
      address: "a",
      workers: { w: { ...info, status: "running", memory: NO_MEMORY } },
    },
    { op: "compute-task", k: "a", f: "h", a: p, d: { x: ["w"] }, p: [0, 1], r: true },
    { op: "free-keys", keys: ["a"] },
    { op: "close-worker", reason: "r" },
    { op: "task-finished", k: "a", nbytes: 1, start: 0, stop: 1, v: p },
    { op: "task-erred", k: "a", e: env, start: 0, stop: 1 },
    { op: "missing-data", k: "a", key: "b", worker: "w" },
    { op: "heartbeat", memory: 1, executing: 0, ready: 0, stored: 0, ...HB_MEMORY },
    { op: "worker-status", status: "paused" },
    { op: "get-data", id: 1, keys: ["a"] },
    { op: "data", id: 1, values: { a: p } },
  ];
  for (const m of good) assert.equal(validateMessage(m), m);
  const bad: [unknown, RegExp][] = [
    [{ op: "hello", version: 1, role: "boss", name: "c" }, /role/],
    [{ op: "hello", version: 1, role: "worker", name: "w" }, /worker/],
    [
      { op: "hello", version: 1, role: "worker", name: "w", worker: { ...info, nthreads: 0 } },
      /worker/,
    ],
    [
      { op: "hello", version: 1, role: "worker", name: "w", worker: { ...info, resources: "x" } },
      /worker/,
    ],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: p, d: ["a"] }], wanted: [] }, /tasks/],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: {}, d: [] }], wanted: [] }, /tasks/],
    [{ op: "update-graph", tasks: [], wanted: "a" }, /wanted/],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: p, d: [], w: "w" }], wanted: [] }, /tasks/],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: p, d: [], lo: 1 }], wanted: [] }, /tasks/],
    [{ op: "update-graph", tasks: [{ k: "a", f: "h", a: p, d: [], r: -1 }], wanted: [] }, /tasks/],
    [{ op: "update-graph", tasks: [], wanted: [], functions: [{ h: 1 }] }, /functions/],
    [{ op: "scheduler-info", id: "1" }, /id/],
    [{ op: "key-erred", k: "a", e: "boom", blame: "a" }, /field e/],
    [{ op: "compute-task", k: "a", f: "h", a: p, d: { x: "w" }, p: [] }, /field d/],
    [{ op: "compute-task", k: "a", f: "h", a: p, d: {}, p: ["x"] }, /field p/],
    [{ op: "task-finished", k: "a", nbytes: -1, start: 0, stop: 1 }, /nbytes/],
    [{ op: "heartbeat", memory: "1", executing: 0, ready: 0, stored: 0 }, /memory/],
    [{ op: "data", id: 1, values: null }, /values/],
    [{ op: "data", id: 1, values: { a: 5 } }, /values/],
    [{ op: "get-data", id: 1, keys: "a" }, /keys/],
  ];
  for (const [m, re] of bad) {
    assert.throws(
      () => validateMessage(m),
      (e) => e instanceof ProtocolError && re.test(e.message),
    );
  }
});

Deno.test("validateMessage checks update-graph's plain columns and names plain", () => {
  const args = () => new Payload(new Uint8Array([1, 2, 3]), []);
  // a-1 (1 byte of arguments), then b-1 (2 bytes) on a-1; c-1 runs f[1] on a-1 and b-1
  const base = (): PlainTasks => ({
    k: ["a-1", "b-1", "c-1"],
    f: ["h", "g"],
    fi: [0, 0, 1],
    a: args(),
    ae: [1, 3, 3],
    d: ["a-1", "b-1"],
    dc: [0, 1, 2],
    di: [0, 0, 1],
  });
  const msg = (plain: unknown) => ({ op: "update-graph", tasks: [], plain, wanted: [] });
  const good = [
    base(),
    { k: [], f: [], a: new Payload(new Uint8Array(0), []), ae: [], d: [] },
    { k: ["a-1", "a-2"], f: ["h"], a: args(), ae: [2, 3], d: [] }, // no fi, no dc/di
    { ...base(), dc: [0, 0, 0], di: [] }, // dc of zeros, di empty
  ];
  for (const plain of good) {
    const m = msg(plain);
    assert.equal(validateMessage(m), m);
  }
  const without = (field: keyof PlainTasks) => {
    const p: Partial<PlainTasks> = base();
    delete p[field];
    return p;
  };
  const bad: [string, unknown][] = [
    ["ae shorter than k", { ...base(), ae: [1, 3] }],
    ["ae longer than k", { ...base(), ae: [1, 3, 3, 3] }],
    ["ae decreasing", { ...base(), ae: [2, 1, 3] }],
    ["ae beyond the arguments", { ...base(), ae: [1, 3, 4] }],
    ["ae negative", { ...base(), ae: [-1, 3, 3] }],
    ["ae not an integer", { ...base(), ae: [1.5, 3, 3] }],
    ["ae not an array", { ...base(), ae: "1,3,3" }],
    ["ae missing", without("ae")],
    ["fi index out of range", { ...base(), fi: [0, 0, 2] }],
    ["fi index negative", { ...base(), fi: [0, -1, 1] }],
    ["fi shorter than k", { ...base(), fi: [0, 1] }],
    ["fi longer than k", { ...base(), fi: [0, 0, 1, 0] }],
    ["dc without di", without("di")],
    ["di without dc", without("dc")],
    ["dc shorter than k", { ...base(), dc: [0, 1] }],
    ["di index out of range", { ...base(), di: [0, 0, 2] }],
    ["di index not a number", { ...base(), di: [0, 0, "1"] }],
    ["sum of dc below di's length", { ...base(), di: [0, 0, 1, 1] }],
    ["sum of dc beyond di's length", { ...base(), di: [0, 0] }],
    ["dc negative", { ...base(), dc: [0, 1, -1], di: [0] }],
    ["a task depending on itself", { ...base(), dc: [0, 1, 1], di: [1, 0] }],
    ["a lone task depending on itself", {
      k: ["a-1"],
      f: ["h"],
      a: args(),
      ae: [3],
      d: ["a-1"],
      dc: [1],
      di: [0],
    }],
    ["a not a Payload", { ...base(), a: { header: new Uint8Array([1, 2, 3]), frames: [] } }],
    ["a raw bytes", { ...base(), a: new Uint8Array([1, 2, 3]) }],
    ["a a Payload with frames", {
      ...base(),
      a: new Payload(new Uint8Array([1, 2, 3]), [new Uint8Array(4)]),
    }],
    ["f empty while there are tasks", { ...without("fi"), f: [] }],
    ["k not strings", { ...base(), k: ["a-1", 2, "c-1"] }],
    ["d not strings", { ...base(), d: ["a-1", null] }],
    ["plain not an object", [1, 2, 3]],
    ["plain null", null],
  ];
  for (const [what, plain] of bad) {
    assert.throws(
      () => validateMessage(msg(plain)),
      (e) => e instanceof ProtocolError && /field plain is missing/.test(e.message),
      what,
    );
  }
});

// ---- in-process pairs ------------------------------------------------------------------------

Deno.test("inproc: batches cross by reference, in order; a close ends the other side", async () => {
  const [a, b] = inprocPair("a", "b");
  const v = new Payload(new Uint8Array(10), [new Uint8Array(100)]);
  const m1: Message = { op: "key-in-memory", k: "k", w: [], v };
  await a.writeBatch([m1]);
  await a.writeBatch([keys(2)]);
  const got = await b.readBatch();
  assert.equal(got![0], m1, "the very same object");
  a.close();
  assert.deepEqual(await b.readBatch(), [keys(2)], "what was queued is still read");
  assert.equal(await b.readBatch(), null);
  assert.equal(await a.readBatch(), null);
  await assert.rejects(() => b.writeBatch([keys(3)]), CommClosedError);
  await assert.rejects(() => a.writeBatch([keys(3)]), CommClosedError);
});

Deno.test("inproc: a pending read ends with null when the other side closes", async () => {
  const [a, b] = inprocPair("a", "b");
  const r = b.readBatch();
  a.close();
  assert.equal(await r, null);
});

Deno.test("inproc: listen, connect, and connections over it", async () => {
  const accepted: Connection[] = [];
  const l = listenInproc((t) => {
    const c = new Connection(t);
    accepted.push(c);
    c.start((m, conn) => {
      if (m.op === "scheduler-info") {
        conn.send({ op: "scheduler-info-reply", id: m.id, address: l.address, workers: {} });
      }
    });
  });
  assert.throws(() => listenInproc(() => {}, l.address.slice("inproc://".length)), /already/);
  const c = new Connection(connectInproc(l.address));
  c.start(() => {});
  const r = await c.request({ op: "scheduler-info", id: 0 });
  assert.equal(r.address, l.address);
  await l.close();
  assert.throws(() => connectInproc(l.address), CommClosedError);
  c.close();
  await accepted[0].closed;
  await Promise.all([c.finished(), accepted[0].finished()]);
});
