// The rest of the futures API through the public API: wait, asCompleted, addDoneCallback and
// the options of client.with (key, pure, retries, workers, allowOtherWorkers, priority).
import assert from "node:assert/strict";
import {
  asCompleted,
  CancelledError,
  Client,
  type CompletedPair,
  type Future,
  TimeoutError,
  wait,
} from "../../mod.ts";
import { blockUntil, gate, miniCluster } from "./graph_fixtures.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;

// dask: test_client.py::test_wait / test_wait_first_completed
Deno.test("test_wait_first_completed: done holds the fast one, the blocked ones stay pending", async () => {
  await using c = await miniCluster([1, 2]);
  await using g = await gate();
  await using client = await Client.connect(c.s.address);
  const x = client.submit(blockUntil, g.path, "x");
  const y = client.submit(blockUntil, g.path, "y");
  const z = client.submit(inc, 1);
  const xyz = [x, y, z] as Future<unknown>[];
  const { done, notDone } = await wait(xyz, { returnWhen: "FIRST_COMPLETED" });
  assert.deepEqual([...done], [z]);
  assert.deepEqual(new Set(notDone), new Set([x, y]));
  assert.equal(x.status, "pending");
  await g.open();
  const all = await client.wait(xyz);
  assert.equal(all.done.size, 3);
  assert.equal(all.notDone.size, 0);
});

// dask: test_client.py::test_wait_timeout
Deno.test("test_wait_timeout: wait rejects with TimeoutError", async () => {
  await using c = await miniCluster([1]);
  await using g = await gate();
  await using client = await Client.connect(c.s.address);
  const x = client.submit(blockUntil, g.path, 1);
  await assert.rejects(wait([x], { timeout: 10 }), TimeoutError);
  await assert.rejects(x.result({ timeout: 10 }), TimeoutError);
  await g.open();
  assert.equal(await x, 1);
});

// dask: test_as_completed.py::test_as_completed_add / test_as_completed_cancel (duplicates)
Deno.test("test_as_completed_add: Futures added while iterating are yielded, duplicates twice", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const first = client.map(inc, [1, 2, 3]);
  const ac = asCompleted(first);
  ac.add(first[0]); // passed twice: yielded twice
  assert.equal(ac.count(), 4);
  const seen: Future<number>[] = [];
  let added = false;
  for await (const f of ac) {
    seen.push(f as unknown as Future<number>); // for-await types a thenable as its value
    if (!added) {
      added = true;
      ac.add(client.submit(inc, 10));
    }
  }
  assert.equal(seen.length, 5);
  assert.equal(seen.filter((f) => f === first[0]).length, 2);
  assert.deepEqual((await client.gather(seen)).sort((a, b) => a - b), [2, 2, 3, 4, 11]);
  assert.equal(ac.count(), 0);
  assert.ok(ac.isEmpty());
});

// dask: test_as_completed.py::test_as_completed_with_results / test_as_completed_cancel
Deno.test("asCompleted withResults gives [future, value], raises on error; cancel mid-iteration", async () => {
  await using c = await miniCluster();
  await using g = await gate();
  await using client = await Client.connect(c.s.address);
  const xs = client.map(inc, [10, 20]);
  const pairs: CompletedPair<number>[] = [];
  for await (const p of asCompleted(xs, { withResults: true })) pairs.push(p);
  assert.deepEqual(pairs.map(([, v]) => v).sort(), [11, 21]);
  const bad = client.submit((x: number) => {
    if (x) throw new RangeError("hello!");
  }, 1);
  await assert.rejects(async () => {
    for await (const _ of asCompleted([bad], { withResults: true })) { /* raises */ }
  }, RangeError);
  // cancelling a Future while iterating still yields it
  const blocked = client.submit(blockUntil, g.path, 1);
  const fast = client.submit(inc, 5);
  const got: Future[] = [];
  const it = asCompleted<unknown>([blocked, fast]);
  for await (const f of it) {
    got.push(f);
    if (got.length === 1) await blocked.cancel();
  }
  assert.equal(got.length, 2);
  assert.equal(blocked.status, "cancelled");
  await assert.rejects(blocked.result(), CancelledError);
  await g.open();
});

// dask: test_client.py::test_add_done_callback
Deno.test("test_add_done_callback: fires for finished, erred, and already-done Futures", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const seen: string[] = [];
  const ok = client.submit(inc, 1);
  const bad = client.submit((x: number) => {
    if (x) throw new Error("no");
  }, 1);
  ok.addDoneCallback((f) => seen.push(`ok:${f.status}`));
  bad.addDoneCallback((f) => seen.push(`bad:${f.status}`));
  await until(() => seen.length === 2, "both callbacks");
  ok.addDoneCallback((f) => seen.push(`late:${f.status}`));
  await until(() => seen.length === 3, "the late callback");
  assert.deepEqual(seen.sort(), ["bad:error", "late:finished", "ok:finished"]);
});

// dask: test_client.py::test_submit_naming / test_map_naming / test_submit (key=)
Deno.test("with({ key, pure }): explicit keys; pure: false gives distinct keys", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const x = client.with({ key: "x" }).submit(inc, 10);
  assert.equal(x.key, "x");
  assert.equal(await x, 11);
  const same = client.map(inc, [1, 1, 1, 1]);
  assert.equal(new Set(same.map((f) => f.key)).size, 1);
  const impure = client.with({ pure: false }).map(inc, [1, 1, 1, 1]);
  assert.equal(new Set(impure.map((f) => f.key)).size, 4);
  assert.deepEqual(await client.gather(impure), [2, 2, 2, 2]);
});

// dask: test_scheduler.py::test_retries / test_client.py::test_map_retries
Deno.test("test_retries: retries re-run a task on exception N times", async () => {
  await using c = await miniCluster([1]);
  await using client = await Client.connect(c.s.address);
  // varying([E("one"), E("two"), 42]): the i-th call in this thread raises or returns
  const varying = (id: string) => {
    const g = globalThis as unknown as Record<string, number>;
    const n = g[id] = (g[id] ?? 0) + 1;
    if (n === 1) throw new Error("one");
    if (n === 2) throw new Error("two");
    return 42;
  };
  const run = (retries: number) =>
    client.with({ retries, pure: false }).submit(varying, `r${retries}-${Math.random()}`);
  assert.equal(await run(3), 42);
  await assert.rejects(run(1).result(), /two/);
  await assert.rejects(run(0).result(), /one/);
  const ids = [1, 2, 3].map((i) => `m${i}-${Math.random()}`);
  assert.deepEqual(await client.gather(client.with({ retries: 2 }).map(varying, ids)), [
    42,
    42,
    42,
  ]);
});

// dask: test_client.py::test_allow_restrictions / test_scheduler.py::test_no_valid_workers
Deno.test("with({ workers, allowOtherWorkers }): strict waits, loose runs elsewhere", async () => {
  await using c = await miniCluster([1, 1]);
  await using client = await Client.connect(c.s.address);
  const [wa] = c.workers;
  const onA = client.with({ workers: [wa.address] }).map(inc, [7, 8, 9]);
  await client.gather(onA);
  const who = await client.whoHas(onA);
  for (const f of onA) assert.deepEqual(who[f.key], [wa.address]);
  const loose = client.with({ workers: "tcp://127.0.0.5:9999", allowOtherWorkers: true })
    .submit(inc, 1);
  assert.equal(await loose, 2);
  const strict = client.with({ workers: "tcp://127.0.0.5:9999" }).submit(inc, 2);
  await until(
    () => schedulerState(c.s).tasks.get(strict.key)?.state === "no-worker",
    "strict no-worker",
  );
  assert.equal(strict.status, "pending");
  await strict.cancel();
  assert.throws(() => client.with({ allowOtherWorkers: true }), TypeError);
  assert.throws(
    () => client.with({ workers: wa.address, allowOtherWorkers: "yes" as unknown as boolean }),
    TypeError,
  );
});

// dask: test_priorities.py::test_submit — with the worker blocked, high runs before low.
Deno.test("test_priorities: a higher priority starts first once the worker frees up", async () => {
  await using c = await miniCluster([1]);
  await using g = await gate();
  await using client = await Client.connect(c.s.address);
  const clog = client.submit(blockUntil, g.path, 0);
  await until(
    () => schedulerState(c.s).tasks.get(clog.key)?.state === "processing",
    "the clog to run",
  );
  const stamp = (tag: string) => {
    const g = globalThis as unknown as { order?: string[] };
    (g.order ??= []).push(tag);
    return g.order.join();
  };
  const low = client.with({ priority: -1 }).submit(stamp, "low");
  const high = client.with({ priority: 1 }).submit(stamp, "high");
  await g.open();
  const [l, h] = await client.gather([low, high]);
  assert.ok(l.endsWith("high,low"), `order: ${l}`);
  assert.ok(!h.includes("low"), `order: ${h}`);
});
