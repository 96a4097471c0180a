// The scheduler's lock table (Lock and MultiLock), driven directly: grants, FIFO order,
// all-or-nothing and any-k requests, releases, clients leaving, and malformed requests.
import assert from "node:assert/strict";
import { type LockRequest, LockTable } from "../../scheduler/lock_table.ts";
import { LeaseError } from "../../core/errors.ts";

const req = (client: string, lease: string, names: string[], need = names.length): LockRequest => ({
  client,
  lease,
  names,
  need,
});
const leases = (rs: LockRequest[]) => rs.map((r) => r.lease);

Deno.test("lock table: one holder at a time; waiters granted first come, first served", () => {
  const t = new LockTable();
  assert.equal(t.acquire(req("c1", "a", ["x"]), true), "granted");
  assert.equal(t.acquire(req("c2", "b", ["x"]), true), "waiting");
  assert.equal(t.acquire(req("c1", "c", ["x"]), true), "waiting");
  assert.equal(t.acquire(req("c3", "d", ["x"]), true), "waiting");
  assert.equal(t.heldCount(["x"]), 1);
  assert.deepEqual(t.holderOf("x"), { client: "c1", lease: "a" });
  for (const [lease, client, next] of [["a", "c1", "b"], ["b", "c2", "c"], ["c", "c1", "d"]]) {
    const r = t.release(client, lease);
    assert.equal(r.was, "held");
    assert.deepEqual(leases(r.granted), [next]);
    assert.equal(t.holderOf("x")?.lease, next);
  }
  assert.deepEqual(t.release("c3", "d"), { was: "held", granted: [] });
  assert.equal(t.heldCount(["x"]), 0);
  assert.deepEqual(t.sizes, { names: 0, held: 0, waiting: 0, clients: 0 });
});

Deno.test("lock table: try-once is refused while held or while others wait; never queued", () => {
  const t = new LockTable();
  assert.equal(t.acquire(req("c1", "a", ["x"]), false), "granted");
  assert.equal(t.acquire(req("c2", "b", ["x"]), false), "refused");
  assert.equal(t.isWaiting("c2", "b"), false);
  assert.equal(t.acquire(req("c2", "c", ["x"]), true), "waiting");
  t.release("c1", "a"); // c's turn
  assert.equal(t.holds("c2", "c"), true);
  assert.equal(t.acquire(req("c3", "d", ["y"]), false), "granted", "another name is free");
});

Deno.test("lock table: a waiter that stops waiting (timeout) leaves the queue; the next goes", () => {
  const t = new LockTable();
  t.acquire(req("c1", "a", ["x"]), true);
  t.acquire(req("c2", "b", ["x"]), true);
  t.acquire(req("c3", "c", ["x"]), true);
  assert.deepEqual(t.release("c2", "b"), { was: "waiting", granted: [] });
  assert.deepEqual(leases(t.release("c1", "a").granted), ["c"]);
  assert.deepEqual(t.release("c9", "zz"), { was: "none", granted: [] });
});

Deno.test("lock table: a MultiLock gets all its names or none, and excludes Lock of each", () => {
  const t = new LockTable();
  assert.equal(t.acquire(req("c1", "a", ["x"]), true), "granted");
  assert.equal(t.acquire(req("c2", "m", ["x", "y"]), true), "waiting");
  assert.equal(t.heldCount(["x", "y"]), 1, "y is not taken while the MultiLock waits");
  // y is free but the waiting MultiLock asked for it first: a later Lock("y") waits behind it
  assert.equal(t.acquire(req("c3", "b", ["y"]), true), "waiting");
  assert.equal(t.acquire(req("c3", "z", ["z"]), true), "granted", "an unrelated name is free");
  assert.deepEqual(leases(t.release("c1", "a").granted), ["m"]);
  assert.equal(t.heldCount(["x", "y"]), 2);
  assert.equal(t.acquire(req("c4", "c", ["x"]), false), "refused");
  assert.deepEqual(leases(t.release("c2", "m").granted), ["b"]);
  assert.equal(t.holderOf("y")?.lease, "b");
  assert.equal(t.holderOf("x"), undefined);
});

Deno.test("lock table: a MultiLock needing any k of its names takes the free ones", () => {
  const t = new LockTable();
  t.acquire(req("c1", "a", ["l1"]), true);
  t.acquire(req("c1", "b", ["l2"]), true);
  assert.equal(t.acquire(req("c2", "m", ["l1", "l2", "l3"], 2), true), "waiting");
  assert.equal(t.heldCount(["l3"]), 0);
  const r = t.release("c1", "b");
  assert.deepEqual(leases(r.granted), ["m"]);
  assert.deepEqual([t.holderOf("l2")?.lease, t.holderOf("l3")?.lease], ["m", "m"]);
  assert.equal(t.holderOf("l1")?.lease, "a");
  // releasing the MultiLock frees just the two it took
  t.release("c2", "m");
  assert.equal(t.heldCount(["l1", "l2", "l3"]), 1);
  assert.equal(t.acquire(req("c3", "k", ["l1", "l2"], 1), true), "granted");
  assert.equal(t.holderOf("l2")?.lease, "k");
});

Deno.test("lock table: waiters wanting other names go ahead of a blocked one", () => {
  const t = new LockTable();
  t.acquire(req("c1", "a", ["x"]), true);
  t.acquire(req("c1", "b", ["y"]), true);
  t.acquire(req("c2", "m", ["x", "y"]), true); // waits for both
  t.acquire(req("c3", "c", ["y"]), true); // behind m
  t.acquire(req("c4", "d", ["z"]), true); // granted at once
  assert.equal(t.holds("c4", "d"), true);
  // x comes back; m still waits for y, and keeps x reserved
  assert.deepEqual(t.release("c1", "a").granted, []);
  assert.equal(t.acquire(req("c5", "e", ["x"]), false), "refused");
  assert.deepEqual(leases(t.release("c1", "b").granted), ["m"]);
  assert.deepEqual(leases(t.release("c2", "m").granted), ["c"]);
});

Deno.test("lock table: a client leaving releases its locks and drops its waiters", () => {
  const t = new LockTable();
  t.acquire(req("gone", "a", ["x"]), true);
  t.acquire(req("gone", "m", ["y", "z"]), true);
  t.acquire(req("other", "b", ["x"]), true);
  t.acquire(req("gone", "c", ["x"]), true);
  t.acquire(req("other", "d", ["x", "y"]), true);
  const out = t.clientGone("gone");
  assert.deepEqual(leases(out.dropped), ["c"]);
  assert.deepEqual(leases(out.granted), ["b"]);
  assert.equal(t.isWaiting("other", "d"), true, "x is held by b");
  assert.deepEqual(t.clientGone("gone"), { dropped: [], granted: [] });
  assert.deepEqual(leases(t.release("other", "b").granted), ["d"]);
  assert.deepEqual(t.sizes, { names: 2, held: 1, waiting: 0, clients: 1 });
});

Deno.test("lock table: malformed requests and a lease id reused are errors; nothing changes", () => {
  const t = new LockTable();
  assert.throws(() => t.acquire(req("c", "a", []), true), TypeError);
  assert.throws(() => t.acquire(req("c", "a", ["x", "x"]), true), TypeError);
  assert.throws(() => t.acquire(req("c", "a", ["x"], 2), true), TypeError);
  assert.throws(() => t.acquire(req("c", "a", ["x"], 0), true), TypeError);
  assert.throws(() => t.acquire(req("c", "a", ["x"], 0.5), true), TypeError);
  assert.deepEqual(t.sizes, { names: 0, held: 0, waiting: 0, clients: 0 });
  t.acquire(req("c", "a", ["x"]), true);
  assert.throws(() => t.acquire(req("c", "a", ["y"]), true), LeaseError);
  assert.equal(t.acquire(req("d", "a", ["y"]), true), "granted", "another client's lease id");
});
