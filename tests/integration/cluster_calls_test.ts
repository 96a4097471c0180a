// Cluster-wide client calls through the public API with real LocalClusters: run,
// runOnScheduler, replicate, rebalance, datasets, events and topics, the task stream.
import assert from "node:assert/strict";
import { Client, KeyError, LocalCluster } from "../../mod.ts";
import { until } from "./helpers.ts";

const inc = (x: number) => x + 1;

function start(nWorkers: number, processes = false) {
  return LocalCluster.start({
    nWorkers,
    threadsPerWorker: 1,
    processes,
    dashboardAddress: null,
    silenceLogs: true,
  });
}

// ---- run / runOnScheduler ---------------------------------------------------------------------

// Ports test_client.py::test_run: run(inc, 1) gives {a: 2, b: 2}; here on worker processes.
Deno.test("run calls the function on every worker process, results by address", async () => {
  await using cluster = await start(2, true);
  await using client = await Client.connect(cluster);
  const r = await client.run(inc, 1);
  assert.deepEqual(r, Object.fromEntries(cluster.workers.map((w) => [w.address, 2])));
  // it runs in the worker's own process, not in a task thread nor in ours
  const pids = await client.run(() => Deno.pid);
  assert.deepEqual(new Set(Object.values(pids)), new Set(cluster.workerPids));
  assert.ok(!Object.values(pids).includes(Deno.pid));
});

// Ports test_client.py::test_run_coroutine (async functions are awaited).
Deno.test("run awaits an async function", async () => {
  await using cluster = await start(2);
  await using client = await Client.connect(cluster);
  const r = await client.run(
    async (x: number, y: { z: number }) => {
      await new Promise((res) => setTimeout(res, 1));
      return x * y.z;
    },
    3,
    { z: 5 },
  );
  assert.deepEqual(Object.values(r), [15, 15]);
});

// Ports test_client.py::test_run_exception (on_error="raise", the default).
Deno.test("run rejects with the error a worker raised", async () => {
  await using cluster = await start(2);
  await using client = await Client.connect(cluster);
  await assert.rejects(
    client.run((msg: string) => {
      throw new RangeError(msg);
    }, "boom"),
    (e: Error) => e.name === "RangeError" && e.message === "boom",
  );
  // a function using a name from its enclosing scope gets the clear ScopeError
  const secret = 42;
  await assert.rejects(client.run(() => secret), (e: Error) => e.name === "ScopeError");
  // and the cluster still works
  assert.deepEqual(Object.values(await client.run(inc, 0)), [1, 1]);
});

// Ports test_client.py::test_run (workers=[] gives {}): no workers, no results.
Deno.test("run with no workers resolves to an empty object", async () => {
  await using cluster = await start(0);
  await using client = await Client.connect(cluster);
  assert.deepEqual(await client.run(inc, 1), {});
});

// Ports test_client.py::test_run_on_scheduler / test_run_on_scheduler_async_def.
Deno.test("runOnScheduler runs in the scheduler's process and returns the result", async () => {
  await using cluster = await start(1, true);
  await using client = await Client.connect(cluster);
  assert.equal(await client.runOnScheduler(inc, 41), 42);
  assert.equal(await client.runOnScheduler(() => Deno.pid), Deno.pid); // LocalCluster's process
  const key = "dtask.test.runOnScheduler";
  await client.runOnScheduler(async (k: string) => {
    await Promise.resolve();
    (globalThis as Record<string, unknown>)[k] = "set on the scheduler";
  }, key);
  assert.equal((globalThis as Record<string, unknown>)[key], "set on the scheduler");
  delete (globalThis as Record<string, unknown>)[key];
  await assert.rejects(
    client.runOnScheduler(() => {
      throw new TypeError("nope");
    }),
    (e: Error) => e.name === "TypeError" && e.message === "nope",
  );
});

// ---- replicate / rebalance --------------------------------------------------------------------

// Ports test_client.py::test_replicate: replicate(n) gives n holders per key; without n, all.
Deno.test("replicate copies data to n workers, then to all", async () => {
  await using cluster = await start(4);
  await using client = await Client.connect(cluster);
  const [a] = cluster.workers.map((w) => w.address);
  const fs = client.with({ workers: [a] }).map(inc, [1, 2, 3, 4, 5]);
  await client.gather(fs);
  await client.replicate(fs, { n: 3 });
  for (const holders of Object.values(await client.whoHas(fs))) assert.equal(holders.length, 3);
  await client.replicate(fs);
  for (const holders of Object.values(await client.whoHas(fs))) assert.equal(holders.length, 4);
  // a task pinned to each worker gets the values
  for (const w of cluster.workers) {
    const sum = client.with({ workers: [w.address], pure: false }).submit(
      (...xs: number[]) => xs.reduce((s, x) => s + x, 0),
      ...fs,
    );
    assert.equal(await sum, 2 + 3 + 4 + 5 + 6);
  }
  // Ports test_client.py::test_replicate_tuple_keys / test_replicate_workers (lowering n):
  await client.replicate(fs, { n: 1 });
  for (const holders of Object.values(await client.whoHas(fs))) assert.equal(holders.length, 1);
  assert.deepEqual(await client.gather(fs), [2, 3, 4, 5, 6]);
});

// Ports test_client.py::test_rebalance: 100 keys on a, rebalance() gives 50 and 50.
Deno.test("rebalance moves data from a full worker to an empty one, losing nothing", async () => {
  await using cluster = await start(2);
  await using client = await Client.connect(cluster);
  const [a, b] = cluster.workers.map((w) => w.address);
  const fs = client.with({ workers: [a] }).map(
    (i: number) => new Uint8Array(1000).fill(i % 256),
    Array.from({ length: 100 }, (_, i) => i),
  );
  await client.gather(fs);
  let hasWhat = await client.hasWhat();
  assert.equal(hasWhat[a].length, 100);
  assert.equal(hasWhat[b].length, 0);
  await client.rebalance();
  hasWhat = await client.hasWhat();
  assert.equal(hasWhat[a].length, 50);
  assert.equal(hasWhat[b].length, 50);
  const whoHas = await client.whoHas(fs);
  for (const f of fs) assert.equal(whoHas[f.key].length, 1, `${f.key} has one holder`);
  const values = await client.gather(fs);
  values.forEach((v, i) => assert.equal(v[999], i % 256));
});

// Ports test_client.py::test_rebalance_workers_and_keys (keys part): only the given keys move.
Deno.test("rebalance(futures) moves only those futures", async () => {
  await using cluster = await start(2);
  await using client = await Client.connect(cluster);
  const [a, b] = cluster.workers.map((w) => w.address);
  const make = (tag: string, i: number) => tag.repeat(500) + i;
  const xs = client.with({ workers: [a] }).map(make, Array(10).fill("x"), [...Array(10).keys()]);
  const ys = client.with({ workers: [a] }).map(make, Array(10).fill("y"), [...Array(10).keys()]);
  await client.gather([xs, ys]);
  await client.rebalance(xs);
  const whoHas = await client.whoHas([...xs, ...ys]);
  for (const y of ys) assert.deepEqual(whoHas[y.key], [a]);
  // the ys alone are the mean: every x moves to b, and both hold as many bytes
  for (const x of xs) assert.deepEqual(whoHas[x.key], [b]);
});

// ---- datasets ---------------------------------------------------------------------------------

// Ports test_publish.py::test_publish_simple / test_publish_roundtrip / test_unpublish.
Deno.test("datasets: publish, get from another client, list, unpublish", async () => {
  await using cluster = await start(2);
  await using c = await Client.connect(cluster);
  await using f = await Client.connect(cluster);
  const data = c.map(inc, [0, 1, 2]);
  await c.publishDataset("data", data);
  // publishing it again is a typed KeyError ("exists")
  await assert.rejects(
    c.publishDataset("data", [1]),
    (e: Error) => e instanceof KeyError && /already exists/.test(e.message),
  );
  c.release(data); // the scheduler keeps the keys for the dataset
  assert.deepEqual(await f.getDataset("data"), [1, 2, 3]);
  assert.deepEqual(await c.listDatasets(), ["data"]);
  // a nested value with Futures inside and plain data
  const x = c.submit(inc, 10);
  await c.publishDataset("mixed", { x, label: "eleven", list: [x, 1] });
  assert.deepEqual(await f.getDataset("mixed"), { x: 11, label: "eleven", list: [11, 1] });
  await c.publishDataset("plain", new Map([["a", 1]]));
  assert.deepEqual(await f.getDataset("plain"), new Map([["a", 1]]));
  assert.deepEqual((await f.listDatasets()).sort(), ["data", "mixed", "plain"]);

  const keys = data.map((d) => d.key);
  await f.unpublishDataset("data");
  assert.deepEqual((await c.listDatasets()).sort(), ["mixed", "plain"]);
  // unpublishing frees the keys no one else wants
  await until(async () => {
    const whoHas = await c.whoHas();
    return keys.every((k) => !(k in whoHas)) &&
      Object.values(await c.hasWhat()).every((ks) => ks.every((k) => !keys.includes(k)));
  }, "the unpublished keys to be freed");
  await assert.rejects(
    f.getDataset("data"),
    (e: Error) => e instanceof KeyError && /not found/.test(e.message),
  );
  await assert.rejects(f.unpublishDataset("data"), KeyError);
});

// Ports test_publish.py::test_publish_roundtrip (the data outlives the client that published it).
Deno.test("a dataset outlives the client that published it", async () => {
  await using cluster = await start(2);
  await using f = await Client.connect(cluster);
  const c = await Client.connect(cluster);
  const fs = c.map((i: number) => i * 10, [1, 2, 3]);
  await c.publishDataset("kept", { fs, n: 3 }); // published before the tasks finished
  await c.close();
  assert.deepEqual(await f.getDataset("kept"), { fs: [10, 20, 30], n: 3 });
  await f.unpublishDataset("kept");
  assert.deepEqual(await f.listDatasets(), []);
});

// Ports test_publish.py::test_publish_bag / test_pickle_safe (a single Future and timeouts).
Deno.test("getDataset with a timeout waits for the dataset to be published", async () => {
  await using cluster = await start(1);
  await using c = await Client.connect(cluster);
  await using f = await Client.connect(cluster);
  const later = f.getDataset<number>("later", { timeout: 30_000 });
  const fut = c.submit(inc, 99);
  await c.publishDataset("later", fut);
  assert.equal(await later, 100);
  await assert.rejects(
    f.getDataset("never", { timeout: 10 }),
    (e: Error) => e instanceof KeyError && /never/.test(e.message),
  );
});

// ---- events -----------------------------------------------------------------------------------

// Ports test_client.py::test_log_event / test_log_event_multiple_clients.
Deno.test("logEvent / getEvents keep [timestamp, msg] per topic", async () => {
  await using cluster = await start(1);
  await using c = await Client.connect(cluster);
  await using d = await Client.connect(cluster);
  const before = Date.now();
  c.logEvent("foo", { action: "test", n: 1 });
  c.logEvent(["foo", "bar"], "both");
  const foo = await d.getEvents("foo");
  assert.deepEqual(foo.map(([, m]) => m), [{ action: "test", n: 1 }, "both"]);
  for (const [t] of foo) assert.ok(t >= before - 1000 && t <= Date.now() + 1000);
  assert.deepEqual((await d.getEvents("bar")).map(([, m]) => m), ["both"]);
  assert.deepEqual(await d.getEvents("nothing"), []);
  const all = await d.getEvents();
  assert.equal(all.foo.length, 2);
  assert.equal(all.bar.length, 1);
});

// Ports test_worker_memory.py::test_pause_while_idle's event check (s.events[address] starts
// with {"action": "add-worker"}) and Dask's "all" topic of worker and client arrivals.
Deno.test("the scheduler's own events show under the worker, all and scheduler topics", async () => {
  await using cluster = await start(1);
  await using c = await Client.connect(cluster);
  await cluster.scale(2);
  const [a, b] = cluster.workers.map((w) => w.address);
  assert.deepEqual((await c.getEvents(b)).map(([, m]) => m), [{ action: "add-worker" }]);
  const all = (await c.getEvents("all")).map(([, m]) => m);
  assert.deepEqual(
    all.filter((m) => (m as { action: string }).action === "add-worker"),
    [{ action: "add-worker", worker: a }, { action: "add-worker", worker: b }],
  );
  assert.ok(all.some((m) => (m as { client?: string }).client?.includes("client")));
  const sched = await c.getEvents("scheduler");
  assert.ok(sched.some(([, m]) => /added/.test((m as { text: string }).text)));
  await cluster.scale(1);
  await until(async () => {
    const evs = (await c.getEvents("all")).map(([, m]) => m as { action: string });
    return evs.some((m) => m.action === "remove-worker");
  }, "a remove-worker event");
});

// Ports test_client.py::test_subscribe_topic / test_subscribe_topic_cancelled (unsubscribe).
Deno.test("subscribeTopic calls the handler for new events until unsubscribed", async () => {
  await using cluster = await start(1);
  await using c = await Client.connect(cluster);
  await using d = await Client.connect(cluster);
  const got: [number, unknown][] = [];
  d.subscribeTopic("news", (ev) => void got.push(ev));
  await d.getEvents("news"); // the subscription is in place once this answers
  c.logEvent("news", "hello");
  c.logEvent("news", { n: 2 });
  await until(() => got.length === 2, "two events");
  assert.deepEqual(got.map(([, m]) => m), ["hello", { n: 2 }]);
  assert.ok(got.every(([t]) => typeof t === "number" && t > 0));
  d.unsubscribeTopic("news");
  await d.getEvents("news");
  c.logEvent("news", "unheard");
  c.logEvent("other", "marker");
  await until(async () => (await c.getEvents("other")).length === 1, "the marker");
  await d.getEvents("news"); // any event sent to d before this reply would have arrived
  assert.equal(got.length, 2);
});

// ---- task stream ------------------------------------------------------------------------------

// Ports test_client.py::test_get_task_stream (records of finished tasks, with start filter).
Deno.test("getTaskStream returns finished tasks with worker, times and status", async () => {
  await using cluster = await start(2);
  await using client = await Client.connect(cluster);
  const t0 = Date.now();
  const fs = client.map(inc, [1, 2, 3, 4]);
  const bad = client.submit((x: number) => {
    throw new Error(`bad ${x}`);
  }, 1);
  await client.gather(fs);
  await assert.rejects(bad.result());
  const stream = await client.getTaskStream({ start: t0 - 1000 });
  const byKey = new Map(stream.map((r) => [r.key, r]));
  const workers = new Set(cluster.workers.map((w) => w.address));
  for (const f of fs) {
    const r = byKey.get(f.key)!;
    assert.ok(r, `${f.key} is in the stream`);
    assert.equal(r.status, "OK");
    assert.ok(workers.has(r.worker));
    assert.equal(r.startstops.length, 1);
    const [ss] = r.startstops;
    assert.equal(ss.action, "compute");
    assert.ok(ss.start <= ss.stop && ss.start >= t0 - 1000, "times are ms since the epoch");
  }
  assert.equal(byKey.get(bad.key)?.status, "error");
  const later = Date.now() + 60_000;
  assert.deepEqual(await client.getTaskStream({ start: later }), []);
  assert.ok((await client.getTaskStream()).length >= 5);
});
