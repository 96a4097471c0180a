/**
 * HTTP and TLS greetings on a dtask TCP stream (comm/greeting.ts, comm/tcp.ts), and the wrong
 * role at the handshake (comm/handshake.ts, client/reconnect.ts), through real sockets.
 */
import assert from "node:assert/strict";
import { recogniseGreeting } from "../../comm/greeting.ts";
import { connectTcp, MAX_FIRST_PACKET, type TcpTransport } from "../../comm/tcp.ts";
import { listenTcp } from "../../comm/tcp_listener.ts";
import { encodePacket, handshakeCodec } from "../../comm/wire.ts";
import { connectInproc, listenInproc } from "../../comm/inproc.ts";
import { type ListenerIdentity, receiveHello } from "../../comm/handshake.ts";
import { reconnect } from "../../client/reconnect.ts";
import { PROTOCOL_VERSION } from "../../comm/protocol.ts";
import type { Hello, Message } from "../../comm/protocol.ts";
import { ProtocolError } from "../../core/errors.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const TLS_ALERT = new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]);
/** The start of a TLS 1.2 ClientHello record: handshake, version, length, type 1. */
const CLIENT_HELLO = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 3, 3]);
const SERVER_HELLO = new Uint8Array([0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00, 0x00, 0x56, 3, 3]);

/** Whether `e` is a WrongRoleError saying `found` (checked by name: any copy of dtask). */
function wrongRole(found: string, re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.equal((e as Error).name, "WrongRoleError", String(e));
    assert.equal((e as { found?: string }).found, found);
    assert.match((e as Error).message, re);
    return true;
  };
}

/** Reads a raw connection to its end. */
async function readAll(conn: Deno.Conn): Promise<string> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  try {
    for (let n; (n = await conn.read(buf)) !== null;) parts.push(buf.slice(0, n));
  } catch { /* reset */ }
  return new TextDecoder().decode(new Uint8Array(parts.flatMap((p) => [...p])));
}

/** A raw TCP server that answers each connection with `answer`, then waits for it to close. */
function rawServer(answer: Uint8Array) {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const conn = await l.accept();
    await conn.write(answer);
    await readAll(conn);
    conn.close();
  })();
  return {
    port: (l.addr as Deno.NetAddr).port,
    async close() {
      await served;
      l.close();
    },
  };
}

Deno.test("recogniseGreeting: HTTP requests and responses, TLS clients and servers", () => {
  for (const m of ["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "PRI"]) {
    assert.deepEqual(recogniseGreeting(ascii(`${m} / HTTP/1.1\r\n`)), {
      kind: "http-request",
      method: m,
    });
  }
  assert.deepEqual(recogniseGreeting(ascii("HTTP/1.1 400 Bad Request")), { kind: "http-response" });
  assert.deepEqual(recogniseGreeting(CLIENT_HELLO), { kind: "tls-client" });
  assert.deepEqual(recogniseGreeting(TLS_ALERT), { kind: "tls-server" });
  assert.deepEqual(recogniseGreeting(SERVER_HELLO), { kind: "tls-server" });
  for (const other of ["FOO / x", "get / HTTP/1.1", "HTTP", "\x00\x01\x00\x00 hello"]) {
    assert.equal(recogniseGreeting(ascii(other)), null, other);
  }
  assert.equal(recogniseGreeting(new Uint8Array([0x16, 0x03, 0x07, 0, 0, 1])), null);
});

Deno.test("an HTTP request to a dtask port gets a 400 saying what the port is, then a close", async () => {
  const error = Promise.withResolvers<unknown>();
  const l = listenTcp("127.0.0.1", 0, (t) => {
    t.readBatch().then(() => "read a batch", (e) => e).then(error.resolve).finally(() => t.close());
  }, { describePort: () => "this is a test port; go elsewhere" });
  try {
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(l.address.split(":")[2]),
    });
    await conn.write(ascii("GET /status HTTP/1.1\r\nHost: x\r\nUser-Agent: test\r\n\r\n"));
    const reply = await readAll(conn);
    conn.close();
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(reply, /\r\nContent-Length: 34\r\n/);
    assert.ok(reply.endsWith("\r\n\r\nthis is a test port; go elsewhere\n"), reply);
    const e = await error.promise;
    assert.ok(e instanceof ProtocolError);
    assert.match(e.message, /sent an HTTP GET request to a dtask TCP port/);
  } finally {
    await l.close();
  }
});

Deno.test("a TLS client at a dtask port gets a handshake failure alert", async () => {
  const error = Promise.withResolvers<unknown>();
  const l = listenTcp("127.0.0.1", 0, (t) => {
    t.readBatch().then(() => "read a batch", (e) => e).then(error.resolve).finally(() => t.close());
  });
  try {
    const port = Number(l.address.split(":")[2]);
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port });
    await assert.rejects(conn.handshake(), /HandshakeFailure|handshake failure/i);
    conn.close();
    assert.match(String(await error.promise), /began a TLS handshake on a dtask TCP port/);
  } finally {
    await l.close();
  }
});

Deno.test("a dialled HTTP server is named as one, with the scheduler's default port", async () => {
  const s = rawServer(ascii("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"));
  const t = await connectTcp("127.0.0.1", s.port);
  try {
    await t.writeBatch([{ op: "hello", version: PROTOCOL_VERSION, role: "client", name: "c" }]);
    await assert.rejects(
      t.readBatch(),
      wrongRole(
        "HTTP server",
        new RegExp(
          String.raw`^tcp://127\.0\.0\.1:\d+ answered as an HTTP server \(is it the dashboard\? ` +
            String.raw`the scheduler is at tcp://127\.0\.0\.1:8786 by default\)$`,
        ),
      ),
    );
  } finally {
    t.close();
    await s.close();
  }
});

Deno.test("a dialled TLS server's 7-byte alert is named at once, before it closes", async () => {
  const s = rawServer(TLS_ALERT); // keeps the connection open until we close it
  const t = await connectTcp("127.0.0.1", s.port);
  try {
    await t.writeBatch([{ op: "hello", version: PROTOCOL_VERSION, role: "client", name: "c" }]);
    await assert.rejects(t.readBatch(), wrongRole("TLS server", /answered with TLS/));
  } finally {
    t.close();
    await s.close();
  }
});

/** A hello whose handshake packet's body is exactly `body` bytes. */
function helloOfBody(body: number): Hello {
  const size = (h: Hello) =>
    encodePacket(handshakeCodec(), [h]).reduce((n, c) => n + c.length, 0) - 4;
  const hello: Hello = { op: "hello", version: PROTOCOL_VERSION, role: "client", name: "" };
  hello.name = "x".repeat(body - size(hello));
  while (size(hello) > body) hello.name = hello.name.slice(1);
  assert.equal(size(hello), body);
  return hello;
}

Deno.test("a hello whose length prefix begins like a TLS record is still a hello", async () => {
  // 0x316 and 0x10316 bytes: prefixes 16 03 00 00 and 16 03 01 00, a TLS record's first bytes
  const hellos = [helloOfBody(0x316), helloOfBody(0x10316)];
  assert.ok(hellos.every((h) => h.name.length < MAX_FIRST_PACKET));
  const got: unknown[] = [];
  const done = Promise.withResolvers<void>();
  const l = listenTcp("127.0.0.1", 0, (t: TcpTransport) => {
    t.readBatch().then((b) => got.push(b?.[0]), (e) => got.push(e)).finally(() => {
      t.close();
      if (got.length === hellos.length) done.resolve();
    });
  });
  try {
    for (const h of hellos) {
      const t = await connectTcp("127.0.0.1", Number(l.address.split(":")[2]));
      await t.writeBatch([h as Message]);
      await t.readBatch().catch(() => null); // the listener closes
      t.close();
    }
    await done.promise;
    assert.deepEqual(
      got.map((h) => (h as Hello).name?.length),
      hellos.map((h) => h.name.length),
    );
  } finally {
    await l.close();
  }
});

Deno.test("reconnecting to an address that answers as a worker stops at the first refusal", async () => {
  let refusals = 0;
  const worker: ListenerIdentity = {
    role: "worker",
    token: undefined,
    schedulerAddress: () => "tcp://scheduler:8786",
  };
  const l = listenInproc((t) => {
    refusals++;
    void receiveHello(t, worker, () => "admitted", 1000);
  });
  try {
    await assert.rejects(
      reconnect({
        dial: (a) => Promise.resolve(connectInproc(a)),
        address: l.address,
        hello: { role: "client", name: "c", resume: "client-1" },
        timeout: 20_000,
        signal: new AbortController().signal,
        onWelcome: () => {},
      }),
      wrongRole("worker", /connect the client to the scheduler at tcp:\/\/scheduler:8786$/),
    );
    assert.equal(refusals, 1);
  } finally {
    await l.close();
  }
});
