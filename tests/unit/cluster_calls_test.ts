/** Cluster-wide calls: message validation of their ops, and the bounded histories. */
import assert from "node:assert/strict";
import { validateMessage } from "../../comm/connection.ts";
import type { Message } from "../../comm/protocol.ts";
import { Payload } from "../../comm/serialize.ts";
import { ProtocolError } from "../../core/errors.ts";
import { EventLog, TaskStream } from "../../scheduler/event_log.ts";
import { Ring } from "../../core/ring.ts";

Deno.test("validateMessage accepts the cluster-call ops and names their bad fields", () => {
  const p = new Payload(new Uint8Array([0xc0]), []);
  const fn = { h: "h", n: "f", s: "() => 1" };
  const env = { name: "Error", message: "m" };
  const good: Message[] = [
    { op: "run", id: 1, fn, a: p },
    { op: "run", id: 1, fn, a: p, scheduler: true },
    { op: "run-reply", id: 1, v: p },
    { op: "run-reply", id: 1, results: { w: p } },
    { op: "run-reply", id: 1, e: env },
    { op: "replicate", id: 1, keys: ["a"], n: 2 },
    { op: "replicate", id: 1, keys: [] },
    { op: "rebalance", id: 1 },
    { op: "rebalance", id: 1, keys: ["a"] },
    { op: "publish-dataset", id: 1, name: "d", v: p, keys: ["a"] },
    { op: "get-dataset", id: 1, name: "d", timeout: 10 },
    { op: "list-datasets", id: 1 },
    { op: "unpublish-dataset", id: 1, name: "d" },
    { op: "log-event", topics: ["t"], msg: p },
    { op: "get-events", id: 1 },
    { op: "get-events", id: 1, topic: "t" },
    { op: "subscribe-topic", topic: "t" },
    { op: "unsubscribe-topic", topic: "t" },
    { op: "get-task-stream", id: 1, start: 0 },
    { op: "ack", id: 1 },
    { op: "ack", id: 1, e: env },
    { op: "dataset-reply", id: 1, v: p, keys: ["a"] },
    { op: "list-datasets-reply", id: 1, names: ["d"] },
    { op: "events-reply", id: 1, events: { t: [[1, p]] } },
    { op: "topic-event", topic: "t", time: 1, msg: p },
    {
      op: "task-stream-reply",
      id: 1,
      keys: ["a"],
      workers: ["w"],
      starts: [0],
      stops: [1],
      ok: [1],
      kind: [2],
      nbytes: [64],
      sources: ["w2"],
    },
    { op: "acquire-replicas", id: 1, who: { a: ["w"] } },
    { op: "acquire-replicas-reply", id: 1, keys: ["a"] },
  ];
  for (const m of good) assert.equal(validateMessage(m), m);
  const bad: [unknown, RegExp][] = [
    [{ op: "run", id: 1, fn: { h: 1 }, a: p }, /field fn/],
    [{ op: "run", id: 1, fn, a: {} }, /field a/],
    [{ op: "run-reply", id: 1, results: { w: 1 } }, /results/],
    [{ op: "replicate", id: 1, keys: ["a"], n: -1 }, /field n/],
    [{ op: "rebalance", id: 1, keys: "a" }, /keys/],
    [{ op: "publish-dataset", id: 1, name: 5, v: p, keys: [] }, /name/],
    [{ op: "get-dataset", id: 1, name: "d", timeout: -1 }, /timeout/],
    [{ op: "log-event", topics: "t", msg: p }, /topics/],
    [{ op: "log-event", topics: ["t"], msg: "x" }, /msg/],
    [{ op: "events-reply", id: 1, events: { t: [[1]] } }, /events/],
    [{ op: "events-reply", id: 1, events: { t: [["1", p]] } }, /events/],
    [{ op: "topic-event", topic: "t", time: "1", msg: p }, /time/],
    [
      {
        op: "task-stream-reply",
        id: 1,
        keys: ["a"],
        workers: [],
        starts: [0],
        stops: [1],
        ok: [1],
      },
      /workers/,
    ],
    [{ op: "acquire-replicas", id: 1, who: { a: "w" } }, /who/],
    [{ op: "ack", id: 1, e: "boom" }, /field e/],
  ];
  for (const [m, re] of bad) {
    assert.throws(
      () => validateMessage(m),
      (e) => e instanceof ProtocolError && re.test(e.message),
      JSON.stringify(m),
    );
  }
});

Deno.test("Ring keeps the newest items, oldest first", () => {
  const r = new Ring<number>(3);
  assert.deepEqual(r.toArray(), []);
  for (let i = 1; i <= 2; i++) r.push(i);
  assert.deepEqual(r.toArray(), [1, 2]);
  for (let i = 3; i <= 7; i++) r.push(i);
  assert.deepEqual(r.toArray(), [5, 6, 7]);
  assert.equal(r.size, 3);
});

Deno.test("EventLog bounds each topic separately", () => {
  const log = new EventLog<string>(2);
  log.add("a", [1, "x"]);
  log.add("a", [2, "y"]);
  log.add("a", [3, "z"]);
  log.add("b", [4, "w"]);
  assert.deepEqual(log.get("a"), [[2, "y"], [3, "z"]]);
  assert.deepEqual(log.get("b"), [[4, "w"]]);
  assert.deepEqual(log.get("none"), []);
});

Deno.test("TaskStream keeps the newest records and filters by stop time", () => {
  const ts = new TaskStream(3);
  ts.push("a", "w1", 0, 10, true);
  ts.push("b", "w2", 5, 20, false);
  assert.deepEqual(ts.since().map((i) => ts.keys[i]), ["a", "b"]);
  ts.push("c", "w1", 20, 30, true);
  ts.push("d", "w1", 30, 40, true);
  assert.equal(ts.size, 3);
  assert.deepEqual(ts.since().map((i) => ts.keys[i]), ["b", "c", "d"]);
  assert.deepEqual(ts.since(25).map((i) => ts.keys[i]), ["c", "d"]);
  const i = ts.since(35)[0];
  assert.deepEqual([ts.keys[i], ts.workers[i], ts.starts[i], ts.stops[i], ts.kinds[i]], [
    "d",
    "w1",
    30,
    40,
    0,
  ]);
  assert.equal(ts.kinds[ts.since(15)[0]], 1);
  assert.equal(ts.ok(ts.since(15)[0]), false);
});

Deno.test("TaskStream records a worker's I/O with its kind, bytes and source, on thread row 0", () => {
  const ts = new TaskStream(4);
  ts.push("a", "w1", 0, 10, true, 3, 8);
  ts.pushIo("transfer-2", "w1", 2, 4, 2, 1024, "w2");
  ts.pushIo("disk-write", "w1", 5, 6, 3, 512);
  const idx = ts.since();
  assert.deepEqual(idx.map((i) => ts.kinds[i]), [0, 2, 3]);
  assert.deepEqual(idx.map((i) => ts.nbytes[i]), [8, 1024, 512]);
  assert.deepEqual(idx.map((i) => ts.sources[i]), ["", "w2", ""]);
  assert.deepEqual(idx.map((i) => ts.threads[i]), [3, 0, 0]);
  assert.deepEqual(idx.map((i) => ts.ok(i)), [true, true, true]);
});
