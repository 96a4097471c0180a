// The WebSocket framing: one message holds the TCP packet of a batch; frames come back 8-byte
// aligned; every declared length is checked; the transport carries batches over a real socket.
import assert from "node:assert/strict";
import { encodePacket, handshakeCodec, streamCodec } from "../../comm/wire.ts";
import { joinChunks, splitPacket } from "../../comm/ws_packet.ts";
import { dialWebSocket } from "../../comm/ws_transport.ts";
import { listenWs } from "../../comm/ws_listener.ts";
import { Payload } from "../../comm/serialize.ts";
import { ProtocolError } from "../../core/errors.ts";
import type { Message } from "../../comm/protocol.ts";
import type { Transport } from "../../comm/transport.ts";
import { until } from "../integration/helpers.ts";

function packet(batch: unknown[]): Uint8Array<ArrayBuffer> {
  return joinChunks(encodePacket(streamCodec(), batch as Message[]));
}

Deno.test("a packet split from one message gives its header and 8-byte aligned frames", () => {
  const odd = new Uint8Array(13).fill(3);
  const floats = new Float64Array([1.5, 2.5, 3.5]);
  const batch = [{
    op: "data",
    id: 1,
    values: { a: new Payload(new Uint8Array(20_000), [odd, new Uint8Array(floats.buffer)]) },
  }];
  const bytes = packet(batch);
  const { frames } = splitPacket(bytes.buffer, false);
  assert.equal(frames.length, 3);
  for (const f of frames) assert.equal(f.byteOffset % 8, 0);
  assert.deepEqual([...frames[1]], [...odd]);
  assert.deepEqual([...new Float64Array(frames[2].buffer, frames[2].byteOffset, 3)], [
    1.5,
    2.5,
    3.5,
  ]);
});

Deno.test("a packet whose lengths disagree with its bytes, or pass a limit, is a ProtocolError", () => {
  const good = packet([{
    op: "data",
    id: 1,
    values: { a: new Payload(new Uint8Array(1), [new Uint8Array(9)]) },
  }]);
  const truncated = good.slice(0, good.length - 8).buffer;
  assert.throws(() => splitPacket(truncated, false), ProtocolError);
  const longer = new Uint8Array(good.length + 8);
  longer.set(good);
  assert.throws(() => splitPacket(longer.buffer, false), ProtocolError);
  assert.throws(() => splitPacket(new ArrayBuffer(5), false), ProtocolError);
  const big = new Uint8Array(200 * 1024);
  const first = joinChunks(
    encodePacket(handshakeCodec(), [{ op: "hello", name: "x", pad: big }] as never),
  );
  assert.throws(() => splitPacket(first.buffer, true), /first packet/);
  assert.throws(() => splitPacket(good.buffer, false, 4), /frame of 9 bytes/);
});

Deno.test("a WebSocket transport carries batches both ways, a 20 MiB packet in slices, and ends cleanly", async () => {
  const accepted = Promise.withResolvers<Transport>();
  const listener = await listenWs("127.0.0.1", 0, (t) => accepted.resolve(t));
  const client = await dialWebSocket(listener.address);
  const server = await accepted.promise;
  try {
    await client.writeBatch([{ op: "hello", version: 1, role: "client", name: "c" }]);
    assert.deepEqual(await server.readBatch(), [{
      op: "hello",
      version: 1,
      role: "client",
      name: "c",
    }]);
    // the first packet each side reads is held to the handshake's limits
    await server.writeBatch([{ op: "welcome", version: 1, role: "scheduler", address: "x" }]);
    const [welcome] = await client.readBatch() as [{ op: string }];
    assert.equal(welcome.op, "welcome");
    // over the 8 MiB a message holds: sent as slices, read as one packet
    const big = new Uint8Array(20 * 1024 * 1024).fill(9);
    await server.writeBatch([{
      op: "data",
      id: 3,
      values: { k: new Payload(new Uint8Array([1]), [big]) },
    }]);
    const [reply] = await client.readBatch() as [{ values: Record<string, Payload> }];
    const frame = reply.values.k.frames[0];
    assert.equal(frame.length, big.length);
    assert.equal(frame[big.length - 1], 9);
  } finally {
    client.close();
    assert.equal(await server.readBatch(), null);
    assert.equal(await client.readBatch(), null);
    await listener.close();
    await listener.shutdown();
  }
});

Deno.test("dialling a port where nothing listens rejects with CommClosedError", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(dialWebSocket(`ws://127.0.0.1:${port}`), /cannot connect/);
});

Deno.test("a packet over 8 MiB leaves as several messages, none over 8 MiB (Deno caps one at 64 MiB)", async () => {
  const sizes: number[] = [];
  const got = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.binaryType = "arraybuffer";
    let total = 0;
    socket.onmessage = (e) => {
      sizes.push((e.data as ArrayBuffer).byteLength);
      total += (e.data as ArrayBuffer).byteLength;
      if (total >= 40 * 1024 * 1024) got.resolve(); // header and frame: 20 MiB each
    };
    return response;
  });
  const client = await dialWebSocket(`ws://127.0.0.1:${server.addr.port}`);
  try {
    const big = new Uint8Array(20 * 1024 * 1024);
    await client.writeBatch([{ op: "data", id: 1, values: { k: new Payload(big, [big]) } }]);
    await got.promise;
    assert.ok(sizes.length >= 5, `sizes ${sizes}`);
    assert.ok(sizes.every((n) => n <= 8 * 1024 * 1024), `sizes ${sizes}`);
  } finally {
    client.close();
    assert.equal(await client.readBatch(), null);
    await server.shutdown();
  }
});

Deno.test("a text message from the peer ends the read with a ProtocolError that says why", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => socket.send("hello");
    return response;
  });
  const client = await dialWebSocket(`ws://127.0.0.1:${server.addr.port}`);
  try {
    await assert.rejects(client.readBatch(), (e: Error) => {
      assert.ok(e instanceof ProtocolError, String(e));
      assert.match(e.message, /sent a text message; dtask speaks binary packets/);
      return true;
    });
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("over maxUnauthenticated, the oldest socket still waiting for its handshake is dropped", async () => {
  const accepted: Transport[] = [];
  const listener = await listenWs("127.0.0.1", 0, (t) => void accepted.push(t), {
    maxUnauthenticated: 2,
  });
  const early = await dialWebSocket(listener.address);
  await early.writeBatch([{ op: "hello", version: 1, role: "client", name: "early" }]);
  await until(() => accepted.length === 1, "the early socket");
  assert.equal((await accepted[0].readBatch())?.length, 1); // past its handshake: not counted
  const silent = [await dialWebSocket(listener.address), await dialWebSocket(listener.address)];
  await until(() => accepted.length === 3, "the silent sockets");
  const third = await dialWebSocket(listener.address); // a third waiting one: the oldest goes
  try {
    await assert.rejects(accepted[1].readBatch(), (e: Error) => {
      assert.ok(e instanceof ProtocolError, String(e));
      assert.match(e.message, /before its handshake: 2 connections were waiting/);
      return true;
    });
    assert.equal(await silent[0].readBatch(), null, "its peer sees the socket close");
  } finally {
    for (const t of [early, ...silent, third]) t.close();
    await listener.close();
    await listener.shutdown();
  }
});
