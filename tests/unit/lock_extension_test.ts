// The scheduler's lock extension (the shell around the lock and semaphore tables), driven with
// fake connections and deadlines: replies, timeouts, grants to closed connections, and leases
// given back when a client leaves or its worker is removed.
import assert from "node:assert/strict";
import type { Connection } from "../../comm/connection.ts";
import type { LeaseReply, Message } from "../../comm/protocol.ts";
import type { Deadlines } from "../../scheduler/deadlines.ts";
import { LockExtension } from "../../scheduler/lock_extension.ts";

/** A connection that keeps what it was sent. */
class FakeConn {
  sent: Message[] = [];
  closeReason: string | null = null;
  send(m: Message) {
    if (this.closeReason === null) this.sent.push(m);
  }
  replies(): LeaseReply[] {
    return this.sent.filter((m): m is LeaseReply => m.op === "lease-reply");
  }
}

/** Deadlines fired by hand. */
class FakeDeadlines {
  armed = new Map<number, { ms: number; fire: () => void }>();
  #next = 1;
  after(ms: number, fire: () => void): number {
    this.armed.set(this.#next, { ms, fire });
    return this.#next++;
  }
  cancel(id: number) {
    this.armed.delete(id);
  }
  fireAll() {
    const all = [...this.armed.values()];
    this.armed.clear();
    for (const d of all) d.fire();
  }
}

function setup(inWorker: Record<string, string> = {}) {
  const deadlines = new FakeDeadlines();
  const ext = new LockExtension({
    deadlines: deadlines as unknown as Deadlines,
    clientsIn: (w) => Object.keys(inWorker).filter((c) => inWorker[c] === w),
    now: () => 0,
  });
  const conn = () => new FakeConn();
  const as = (c: FakeConn) => c as unknown as Connection;
  const lock = (client: string, c: FakeConn, id: number, lease: string, timeout?: number) =>
    ext.handle(client, { op: "lock-acquire", id, lease, names: ["x"], timeout }, as(c));
  return { ext, deadlines, conn, as, lock };
}

Deno.test("lock extension: a wait with a timeout ends false when its deadline fires", () => {
  const { ext, deadlines, conn, as, lock } = setup();
  const a = conn(), b = conn();
  lock("c1", a, 1, "l1");
  lock("c2", b, 7, "l2", 100);
  assert.deepEqual(a.replies(), [{ op: "lease-reply", id: 1, ok: true }]);
  assert.deepEqual(b.replies(), []);
  assert.deepEqual([...deadlines.armed.values()].map((d) => d.ms), [100]);
  deadlines.fireAll();
  assert.deepEqual(b.replies(), [{ op: "lease-reply", id: 7, ok: false }]);
  assert.equal(ext.locks.sizes.waiting, 0);
  ext.handle("c1", { op: "lock-release", id: 2, lease: "l1" }, as(a));
  assert.deepEqual(a.replies()[1], { op: "lease-reply", id: 2, ok: true });
  assert.equal(ext.locks.heldCount(["x"]), 0);
});

Deno.test("lock extension: a grant disarms the deadline; one to a closed connection passes on", () => {
  const { ext, deadlines, conn, as, lock } = setup();
  const a = conn(), b = conn(), c = conn();
  lock("c1", a, 1, "l1");
  lock("c2", b, 1, "l2", 5000);
  lock("c3", c, 1, "l3");
  b.closeReason = "dropped"; // its acquire failed with the connection
  ext.handle("c1", { op: "lock-release", id: 2, lease: "l1" }, as(a));
  assert.equal(deadlines.armed.size, 0, "b's deadline was cancelled");
  assert.deepEqual(c.replies(), [{ op: "lease-reply", id: 1, ok: true }]);
  assert.deepEqual(ext.locks.holderOf("x"), { client: "c3", lease: "l3" });
});

Deno.test("lock extension: a client gone, or its worker removed, gives its leases back", () => {
  const { ext, conn, as, lock } = setup({ "task-client": "tcp://w1" });
  const t = conn(), a = conn(), s = conn();
  lock("task-client", t, 1, "l1");
  lock("task-client", t, 2, "l2"); // waits behind its own first lease
  lock("c1", a, 1, "l3");
  const sem = (client: string, c: FakeConn, id: number, lease: string) =>
    ext.handle(client, { op: "semaphore-acquire", id, name: "s", max: 1, lease }, as(c));
  sem("task-client", t, 3, "s1");
  sem("c1", s, 1, "s2");
  ext.workerRemoved("tcp://other");
  assert.equal(ext.locks.holderOf("x")?.client, "task-client");
  ext.workerRemoved("tcp://w1");
  assert.deepEqual(ext.locks.holderOf("x"), { client: "c1", lease: "l3" });
  assert.deepEqual(a.replies(), [{ op: "lease-reply", id: 1, ok: true }]);
  assert.deepEqual(s.replies(), [{ op: "lease-reply", id: 1, ok: true }]);
  const failed = t.replies().find((r) => r.id === 2)!;
  assert.equal(failed.ok, false);
  assert.match(String(failed.e?.message), /worker it ran in \(tcp:\/\/w1\) was removed/);
  ext.clientGone("c1");
  assert.equal(ext.locks.heldCount(["x"]), 0);
  assert.equal(ext.semaphores.value("s", 1), 0);
});

Deno.test("lock extension: a refused request is answered with its error; state unchanged", () => {
  const { ext, conn, as } = setup();
  const a = conn();
  ext.handle("c", { op: "semaphore-value", id: 1, name: "s", max: 2 }, as(a));
  ext.handle("c", { op: "semaphore-acquire", id: 2, name: "s", max: 3, lease: "l" }, as(a));
  ext.handle("c", { op: "semaphore-value", id: 3, name: "s", max: 4 }, as(a));
  ext.handle("c", { op: "lock-acquire", id: 4, lease: "m", names: ["a", "a"] }, as(a));
  const [value, acquire, value2, dup] = a.sent as Record<string, any>[];
  assert.deepEqual(value, { op: "semaphore-value-reply", id: 1, value: 0 });
  assert.equal(acquire.ok, false);
  assert.equal(acquire.e.name, "LeaseError");
  assert.equal(value2.e.name, "LeaseError");
  assert.equal(dup.e.name, "TypeError");
  assert.deepEqual(ext.semaphores.sizes, { leases: 0, clients: 0 });
  assert.deepEqual(ext.locks.sizes, { names: 0, held: 0, waiting: 0, clients: 0 });
});
