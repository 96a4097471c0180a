// The shell around the shared values' state machine, on a SchedulerState and fake connections:
// the keys it holds under its pseudo-client, replies on the request's connection, deadlines,
// and requests dropped when their connection closes.
import assert from "node:assert/strict";
import type { Connection } from "../../comm/connection.ts";
import type { Message } from "../../comm/protocol.ts";
import { Payload } from "../../comm/serialize.ts";
import { Deadlines } from "../../scheduler/deadlines.ts";
import { SHARED_VALUES_HOLDER, SharedValues } from "../../scheduler/shared_values.ts";
import { sim } from "../fixtures/scheduler_harness.ts";
import { t } from "../fixtures/task_specs.ts";

/** A connection that records what is sent on it, and closes when told. */
function fakeConn() {
  const sent: Message[] = [];
  const { promise, resolve } = Promise.withResolvers<string>();
  const conn = { send: (m: Message) => void sent.push(m), closed: promise };
  return { conn: conn as unknown as Connection, sent, close: () => resolve("closed") };
}

function setup() {
  const x = sim([1]);
  const deadlines: Deadlines = new Deadlines((s) => deadlines.passed(s), () => {});
  const shell = new SharedValues({ state: x.s, deadlines });
  return {
    x,
    shell,
    [Symbol.dispose]() {
      shell.listener.close!();
      deadlines.close();
    },
  };
}

const v = new Payload(new Uint8Array([0xc0]), []);

async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

Deno.test("shell: a queued key is wanted by the pseudo-client until the getter confirms it took it", () => {
  using s = setup();
  const { x, shell } = s;
  x.submitAt(0, [t("f-1")]);
  x.finish("f-1");
  const c = fakeConn();
  shell.handle("c", { op: "queue-put", id: 1, name: "q", maxsize: 0, v, keys: ["f-1"] }, c.conn);
  assert.deepEqual(c.sent, [{ op: "ack", id: 1, e: undefined }]);
  x.release(["f-1"]); // its client lets it go: the queue holds it
  assert.deepEqual([...x.task("f-1").wants()], [SHARED_VALUES_HOLDER]);
  const d = fakeConn();
  shell.handle("d", { op: "queue-get", id: 7, name: "q", maxsize: 0 }, d.conn);
  assert.deepEqual(d.sent, [{ op: "shared-items", id: 7, vs: [v], keys: [["f-1"]], e: undefined }]);
  assert.equal(x.s.tasks.get("f-1")?.state, "memory"); // held for the hand-over
  // the getter wants it itself, then confirms: the hand-over ends, its own want stays
  x.addClient("d");
  x.s.updateGraph("d", { op: "update-graph", tasks: [], wanted: ["f-1"] });
  shell.handle("d", { op: "shared-keys-taken", keys: ["f-1"] }, d.conn);
  assert.deepEqual([...x.task("f-1").wants()], ["d"]);
  x.release(["f-1"], "d");
  assert.equal(x.s.tasks.get("f-1"), undefined);
});

Deno.test("shell: a value holding a key the scheduler lost or that erred is refused", () => {
  using s = setup();
  const { x, shell } = s;
  const c = fakeConn();
  shell.handle("c", { op: "variable-set", id: 1, name: "v", v, keys: ["gone"] }, c.conn);
  x.submitAt(0, [t("bad-1")]);
  x.err("bad-1");
  shell.handle("c", { op: "queue-put", id: 2, name: "q", maxsize: 0, v, keys: ["bad-1"] }, c.conn);
  const [gone, bad] = c.sent as { id: number; e: { name: string; message: string } }[];
  assert.equal(gone.e.name, "CancelledError");
  assert.match(gone.e.message, /Variable "v"\.set: the Future gone was cancelled or released/);
  assert.equal(bad.e.name, "TypeError");
  assert.match(bad.e.message, /Queue "q"\.put: the Future bad-1 erred/);
  assert.equal(shell.machine.queues.queues.size + shell.machine.variables.variables.size, 0);
});

Deno.test("shell: a timeout answers on the request's connection with a TimeoutError", async () => {
  using s = setup();
  const c = fakeConn();
  s.shell.handle("c", { op: "variable-get", id: 3, name: "v", timeout: 10 }, c.conn);
  s.shell.handle("c", { op: "event-wait", id: 4, name: "e", timeout: 10 }, c.conn);
  assert.deepEqual(c.sent, []);
  await until(() => c.sent.length === 2, "two replies");
  const [get, wait] = c.sent as { op: string; id: number; e?: { name: string } }[];
  assert.deepEqual([get.op, get.id, get.e?.name], ["shared-items", 3, "TimeoutError"]);
  assert.deepEqual(wait, { op: "shared-flag", id: 4, flag: false });
});

Deno.test("shell: a waiting request whose connection closes is dropped; values stay queued", async () => {
  using s = setup();
  const { shell } = s;
  const gone = fakeConn(), other = fakeConn();
  shell.handle("c", { op: "queue-get", id: 1, name: "q", maxsize: 0 }, gone.conn);
  shell.handle("c", { op: "event-wait", id: 2, name: "e" }, gone.conn);
  gone.close();
  shell.listener.connectionClosed!("c", gone.conn); // as the client sessions tell it
  await until(() => shell.machine.events.events.size === 0, "the closed connection's waits to go");
  shell.handle("c", { op: "queue-put", id: 3, name: "q", maxsize: 0, v, keys: [] }, other.conn);
  shell.handle("c", { op: "queue-size", id: 4, name: "q", maxsize: 0 }, other.conn);
  assert.deepEqual(gone.sent, []);
  assert.deepEqual(other.sent, [
    { op: "ack", id: 3, e: undefined },
    { op: "shared-count", id: 4, n: 1, e: undefined },
  ]);
});

Deno.test("shell: a key held again after a restart dropped every want is wanted again", () => {
  using s = setup();
  const { x, shell } = s;
  const c = fakeConn();
  const put = (id: number) =>
    shell.handle("c", { op: "queue-put", id, name: "q", maxsize: 0, v, keys: ["f-1"] }, c.conn);
  x.submitAt(0, [t("f-1")]);
  put(1);
  x.cancelAll("restart"); // the queue's item now stands for a key the scheduler forgot
  assert.equal(x.s.tasks.get("f-1"), undefined);
  x.submitAt(1, [t("f-1")]); // the same key, submitted again
  put(2);
  assert.deepEqual([...x.task("f-1").wants()].sort(), ["c", SHARED_VALUES_HOLDER]);
  x.release(["f-1"]);
  assert.ok(x.s.tasks.has("f-1"), "the queued key was let go");
});
