/**
 * The peer pool against a scripted worker: a worker short of memory answers `busy` (paused and
 * already sending) or names keys left for `more` requests, and the pool asks again until it has
 * every value the worker holds.
 */
import assert from "node:assert/strict";
import { PeerPool } from "../../comm/peer_pool.ts";
import { connectInproc, listenInproc } from "../../comm/inproc.ts";
import { type ListenerIdentity, receiveHello } from "../../comm/handshake.ts";
import { Connection } from "../../comm/connection.ts";
import { type Data, type GetData, type Message, PROTOCOL_VERSION } from "../../comm/protocol.ts";
import { encodeValue, type Payload } from "../../comm/serialize.ts";
import { until } from "../integration/helpers.ts";

const WORKER: ListenerIdentity = {
  role: "worker",
  token: undefined,
  schedulerAddress: () => "tcp://scheduler:8786",
};

/** A worker whose answers to get-data come from `answer`; it records the keys asked. */
function scriptedWorker(answer: (keys: string[], n: number) => Omit<Data, "op" | "id">) {
  const asked: string[][] = [];
  const conns: Connection[] = [];
  const listener = listenInproc((t) => {
    void receiveHello(
      t,
      WORKER,
      () => ({ op: "welcome", version: PROTOCOL_VERSION, role: "worker", address: "w" }),
      1000,
    )
      .then((hello) => {
        if (!hello) return;
        const conn = new Connection(t);
        conns.push(conn);
        conn.start((msg: Message) => {
          const m = msg as GetData;
          asked.push(m.keys);
          conn.send({ op: "data", id: m.id, ...answer(m.keys, asked.length) });
        });
      });
  });
  return {
    address: listener.address,
    asked,
    async close() {
      for (const c of conns) {
        c.close("test over");
        await c.finished();
      }
      await listener.close();
    },
  };
}

const value = (k: string): Payload => encodeValue(k.toUpperCase());

Deno.test("peer pool: a busy answer is asked again until the values come", async () => {
  const w = scriptedWorker((keys, n) =>
    n <= 2
      ? { values: {}, busy: true }
      : { values: Object.fromEntries(keys.map((k) => [k, value(k)])) }
  );
  const pool = new PeerPool((a) => Promise.resolve(connectInproc(a)), "probe");
  try {
    const got = await pool.getData(w.address, ["a", "b"]);
    assert.deepEqual(Object.keys(got).sort(), ["a", "b"]);
    assert.deepEqual(w.asked, [["a", "b"], ["a", "b"], ["a", "b"]], "two busy answers, then data");
  } finally {
    await pool.close();
    await w.close();
  }
});

Deno.test("peer pool: keys left for more requests are asked for until none is left", async () => {
  // one value per answer, the rest named in `more`; "z" is not held there at all
  const w = scriptedWorker((keys) => {
    const held = keys.filter((k) => k !== "z");
    const [first, ...rest] = held;
    return rest.length
      ? { values: { [first]: value(first) }, more: rest }
      : { values: first ? { [first]: value(first) } : {} };
  });
  const pool = new PeerPool((a) => Promise.resolve(connectInproc(a)), "probe");
  try {
    const got = await pool.getData(w.address, ["a", "z", "b", "c"]);
    assert.deepEqual(Object.keys(got).sort(), ["a", "b", "c"]);
    assert.deepEqual(w.asked, [["a", "z", "b", "c"], ["b", "c"], ["c"]]);
  } finally {
    await pool.close();
    await w.close();
  }
});

Deno.test("peer pool: an answer that names more keys but carries no value ends the asking", async () => {
  const w = scriptedWorker((keys) => ({ values: {}, more: keys }));
  const pool = new PeerPool((a) => Promise.resolve(connectInproc(a)), "probe");
  try {
    assert.deepEqual(await pool.getData(w.address, ["a"]), {});
    assert.equal(w.asked.length, 1, "asked once, not forever");
  } finally {
    await pool.close();
    await w.close();
  }
});

Deno.test("peer pool: closing it ends a wait before asking a busy worker again", async () => {
  const w = scriptedWorker(() => ({ values: {}, busy: true }));
  const pool = new PeerPool((a) => Promise.resolve(connectInproc(a)), "probe");
  const fetching = pool.getData(w.address, ["a"]);
  try {
    await until(() => w.asked.length > 0, "the first request");
  } finally {
    await pool.close();
  }
  await assert.rejects(fetching, /peer pool is closed/);
  await w.close();
});
