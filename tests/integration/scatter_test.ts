// client.scatter through the public API: shapes, hashed keys, placement, broadcast, timeouts.
import assert from "node:assert/strict";
import { CancelledError, Client, Future, LocalCluster, TimeoutError } from "../../mod.ts";
import { miniCluster } from "./graph_fixtures.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const add = (a: number, b: number) => a + b;

// dask: test_client.py::test_scatter / test_scatter_types — shapes, placement, use in submit.
Deno.test("test_scatter: arrays, plain objects and single values give Futures in that shape", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const d = client.scatter({ y: 20, z: [1, 2] });
  assert.ok(d.y instanceof Future && d.z instanceof Future);
  assert.deepEqual(await client.gather(d), { y: 20, z: [1, 2] });
  const xs = client.scatter([1, 2, 3]);
  assert.equal(xs.length, 3);
  assert.deepEqual(await client.gather(xs), [1, 2, 3]);
  const one = client.scatter(new Map([["a", 1]]));
  assert.ok(one instanceof Future);
  assert.deepEqual(await one, new Map([["a", 1]]));
  const x = client.scatter(10);
  assert.equal(await client.submit(add, x, d.y), 30);
  // the data is on one worker, which the scheduler knows
  const who = await client.whoHas([x]);
  assert.equal(who[x.key].length, 1);
  assert.equal(schedulerState(c.s).tasks.get(x.key)!.nbytes > 0, true);
});

// dask: test_client.py::test_scatter_hash — same value, same key; hash: false, a new key.
Deno.test("test_scatter_hash: the same data gives the same key; hash: false a random one", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const a = client.scatter([1, 2, 3]);
  const b = client.scatter([1, 2, 3]);
  assert.deepEqual(a.map((f) => f.key), b.map((f) => f.key));
  assert.notEqual(a[0].key, a[1].key);
  const r1 = client.scatter(1, { hash: false });
  const r2 = client.scatter(1, { hash: false });
  assert.notEqual(r1.key, r2.key);
  assert.notEqual(r1.key, a[0].key);
  assert.deepEqual(await client.gather([r1, r2, ...b]), [1, 1, 1, 2, 3]);
  // another client scattering the same value shares the key and its data
  await using other = await Client.connect(c.s.address);
  const o = other.scatter(1);
  assert.equal(o.key, a[0].key);
  assert.equal(await o, 1);
});

// dask: test_client.py::test_directed_scatter / test_scatter_direct_broadcast
Deno.test("test_directed_scatter: workers restricts where data goes; broadcast copies to all", async () => {
  await using c = await miniCluster([1, 1]);
  await using client = await Client.connect(c.s.address);
  const [wa, wb] = c.workers;
  const xs = client.scatter([1, 2, 3, 4], { workers: [wa.address] });
  await client.gather(xs);
  const who = await client.whoHas(xs);
  for (const f of xs) assert.deepEqual(who[f.key], [wa.address]);
  const byName = client.scatter("named", { workers: wb.name });
  await byName;
  assert.deepEqual((await client.whoHas([byName]))[byName.key], [wb.address]);
  const all = client.scatter([5, 6], { broadcast: true });
  await client.gather(all);
  const whoAll = await client.whoHas(all);
  for (const f of all) assert.deepEqual(whoAll[f.key].sort(), [wa.address, wb.address].sort());
});

// dask: test_worker.py::test_inter_worker_communication — data moves worker to worker.
Deno.test("test_inter_worker_communication: scattered to a, computed on b", async () => {
  await using c = await miniCluster([1, 1]);
  await using client = await Client.connect(c.s.address);
  const [wa, wb] = c.workers;
  const [x, y] = client.scatter([1, 2], { workers: wa.address });
  const z = client.with({ workers: wb.address }).submit(add, x, y);
  assert.equal(await z, 3);
  assert.deepEqual((await client.whoHas([z]))[z.key], [wb.address]);
});

// dask: test_scheduler.py::test_scatter_no_workers — a timeout with no workers; else it waits.
Deno.test("test_scatter_no_workers: TimeoutError without workers; a worker joining completes it", async () => {
  await using c = await miniCluster([]);
  await using client = await Client.connect(c.s.address);
  const lost = client.scatter(123, { timeout: 50 });
  await assert.rejects(lost.result(), TimeoutError);
  assert.equal(lost.status, "error");
  const later = client.scatter(456);
  await c.addWorker(1);
  assert.equal(await later, 456);
});

// dask: test_client.py::test_lose_scattered_data — scattered data cannot be recomputed.
Deno.test("test_lose_scattered_data: the only holder leaves: the Future is cancelled", async () => {
  await using c = await miniCluster([1, 1]);
  await using client = await Client.connect(c.s.address);
  const [wa] = c.workers;
  const x = client.scatter(1, { workers: wa.address });
  await x;
  await wa.close();
  await until(() => x.status === "cancelled", "x to be cancelled");
  await assert.rejects(client.gather([x]), (e: unknown) => e instanceof CancelledError);
});

// Large buffers travel as frames to worker processes, and come back intact.
Deno.test("a 4 MiB typed array scatters to a worker process and is used by a task", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster.schedulerAddress);
  const big = new Float64Array(512 * 1024).map((_, i) => i % 7);
  const f = client.scatter(big);
  const total = client.submit((a: Float64Array) => a.reduce((s, v) => s + v, 0), f);
  assert.equal(await total, big.reduce((s, v) => s + v, 0));
  const back = await f;
  assert.ok(back instanceof Float64Array);
  assert.equal(back.length, big.length);
  assert.equal(back[12345], big[12345]);
});

// Workers in the cluster's process (inproc:// addresses): the client puts data on them too.
Deno.test("scatter to in-process workers (processes: false), then compute on the data", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const xs = client.scatter([1, 2, 3, 4], { broadcast: true });
  const total = client.submit((...v: number[]) => v.reduce((a, b) => a + b, 0), ...xs);
  assert.equal(await total, 10);
  const who = await client.whoHas(xs);
  for (const f of xs) assert.equal(who[f.key].length, 2);
});
