// The scheduler's semaphores, driven directly: lease counts, FIFO waiters, clients leaving,
// maxLeases consistency, and Dask's metrics.
import assert from "node:assert/strict";
import { type LeaseRequest, SemaphoreTable } from "../../scheduler/semaphore_table.ts";
import { LeaseError } from "../../core/errors.ts";

const req = (client: string, lease: string, name = "s"): LeaseRequest => ({ client, lease, name });
const leases = (rs: LeaseRequest[]) => rs.map((r) => r.lease);

Deno.test("semaphore table: max leases at once; the next waits, or is refused when trying once", () => {
  const t = new SemaphoreTable();
  assert.equal(t.acquire(req("c1", "a"), 2, true, 0), "granted");
  assert.equal(t.acquire(req("c2", "b"), 2, true, 0), "granted");
  assert.equal(t.value("s", 2), 2);
  assert.equal(t.acquire(req("c3", "c"), 2, false, 0), "refused");
  assert.equal(t.acquire(req("c3", "d"), 2, true, 0), "waiting");
  assert.equal(t.acquire(req("c1", "e"), 2, true, 0), "waiting");
  assert.deepEqual(leases(t.release("c2", "b", 1000).granted), ["d"]);
  assert.equal(t.holds("c3", "d"), true);
  assert.equal(t.value("s", 2), 2);
  assert.deepEqual(t.release("c1", "e", 1000), { was: "waiting", granted: [] });
  assert.deepEqual(t.release("c1", "a", 1000), { was: "held", granted: [] });
  assert.deepEqual(t.release("c1", "a", 1000), { was: "none", granted: [] }, "released too often");
  assert.equal(t.value("s", 2), 1);
});

Deno.test("semaphore table: one client may hold several leases of one semaphore", () => {
  const t = new SemaphoreTable();
  assert.equal(t.acquire(req("c1", "a"), 3, true, 0), "granted");
  assert.equal(t.acquire(req("c1", "b"), 3, true, 0), "granted");
  assert.equal(t.value("s", 3), 2);
  assert.throws(() => t.acquire(req("c1", "b"), 3, true, 0), LeaseError, "a lease id reused");
});

Deno.test("semaphore table: a client leaving gives its leases back to the waiters, in order", () => {
  const t = new SemaphoreTable();
  t.acquire(req("gone", "a"), 2, true, 0);
  t.acquire(req("gone", "b"), 2, true, 0);
  t.acquire(req("gone", "t", "t"), 1, true, 0);
  t.acquire(req("x", "c"), 2, true, 0);
  t.acquire(req("gone", "d"), 2, true, 0);
  t.acquire(req("y", "e"), 2, true, 0);
  t.acquire(req("z", "f", "t"), 1, true, 0);
  const out = t.clientGone("gone", 500);
  assert.deepEqual(leases(out.dropped), ["d"]);
  assert.deepEqual(leases(out.granted).sort(), ["c", "e", "f"]);
  assert.equal(t.value("s", 2), 2);
  assert.equal(t.value("t", 1), 1);
  assert.deepEqual(t.clientGone("gone", 500), { dropped: [], granted: [] });
  assert.deepEqual(t.sizes, { leases: 3, clients: 3 });
});

Deno.test("semaphore table: a name keeps its maxLeases; another one is a LeaseError", () => {
  const t = new SemaphoreTable();
  t.register("s", 2);
  assert.throws(() => t.register("s", 3), (e: Error) => {
    assert.ok(e instanceof LeaseError);
    assert.match(e.message, /"s" exists with maxLeases 2, not 3/);
    return true;
  });
  assert.throws(() => t.acquire(req("c", "a"), 1, true, 0), LeaseError);
  assert.throws(() => t.value("s", 5), LeaseError);
  assert.throws(() => t.register("bad", 0), TypeError);
  assert.throws(() => t.register("bad", 1.5), TypeError);
  assert.equal(t.metrics().length, 1, "a failed registration leaves nothing");
});

Deno.test("semaphore table: metrics count acquires, releases, pending leases and the wait", () => {
  const t = new SemaphoreTable();
  t.acquire(req("c1", "a"), 1, true, 0); // waited 0 s
  t.acquire(req("c2", "b"), 1, false, 0); // refused: counted as an acquire
  t.acquire(req("c3", "c"), 1, true, 1000);
  let [m] = t.metrics();
  assert.deepEqual(m, {
    name: "s",
    maxLeases: 1,
    activeLeases: 1,
    pendingLeases: 1,
    acquireTotal: 3,
    releaseTotal: 0,
    averagePendingLeaseTime: 0,
  });
  t.release("c1", "a", 3000); // c waited 2 s: (0 + 2) / 2
  [m] = t.metrics();
  assert.equal(m.releaseTotal, 1);
  assert.equal(m.pendingLeases, 0);
  assert.equal(m.averagePendingLeaseTime, 1);
  t.release("c3", "c", 3000);
  assert.equal(t.metrics()[0].releaseTotal, 2);
  assert.equal(t.metrics()[0].activeLeases, 0);
});
