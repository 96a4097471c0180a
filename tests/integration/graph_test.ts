// Task graphs through the public API: task(), ref(), client.compute() and client.get().
import assert from "node:assert/strict";
import { Client, DtaskError, Future, KeyError, ref, task } from "../../mod.ts";
import { miniCluster } from "./graph_fixtures.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;

// dask: test_client.py::test_get — a graph of one key gives a Future; a list of keys a list.
Deno.test("test_get: compute returns Futures at once, get returns values in the same shape", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const graph = { x: task(inc, 1), y: task(inc, ref("x")), z: task(add, ref("x"), ref("y")) };
  const x = client.compute(graph, "x");
  assert.ok(x instanceof Future);
  assert.equal(x.key, "x");
  assert.equal(await x, 2);
  const [y, z] = client.compute(graph, ["y", "z"]);
  assert.deepEqual(await client.gather([y, z]), [3, 5]);
  assert.equal(await client.get({ a: task(inc, 10) }, "a"), 11);
  assert.deepEqual(await client.get(graph, ["z", "x"]), [5, 2]);
  assert.deepEqual(await client.get(graph, ["x", ["y", ["z"]]]), [2, [3, [5]]]);
  const all = client.compute({ p: task(inc, 1), q: task(inc, ref("p")) });
  assert.deepEqual(Object.keys(all).sort(), ["p", "q"]);
  assert.deepEqual(await client.gather(all), { p: 2, q: 3 });
});

Deno.test("graph values may be literals; refs work nested in arrays and plain objects", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const sum = (o: { xs: number[]; k: number }) => o.xs.reduce((a, b) => a + b, 0) * o.k;
  const got = await client.get({
    a: 5,
    b: task(inc, ref("a")),
    c: [ref("a"), ref("b")],
    d: task(sum, { xs: [ref("a"), ref("b"), 1], k: 2 }),
    alias: ref("d"),
  }, ["c", "d", "alias"]);
  assert.deepEqual(got, [[5, 6], 24, 24]);
});

Deno.test("a ref may name a key this client holds a Future for, or hold the Future itself", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const x = client.submit(inc, 1);
  assert.equal(await client.get({ y: task(add, ref(x.key), 10) }, "y"), 12);
  assert.equal(await client.get({ y: task(add, x, 100) }, "y"), 102);
});

Deno.test("cycles and unknown refs throw at compute and send nothing", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  assert.throws(
    () => client.compute({ a: task(inc, ref("b")), b: task(inc, ref("a")) }, "a"),
    (e: unknown) =>
      e instanceof DtaskError && /cycle: a -> b -> a|cycle: b -> a -> b/.test(e.message),
  );
  assert.throws(() => client.compute({ a: task(inc, ref("a")) }, "a"), /cycle/);
  assert.throws(
    () => client.compute({ a: task(inc, 1), b: task(add, ref("a"), ref("nope")) }, "b"),
    (e: unknown) => e instanceof KeyError && /"nope"/.test((e as Error).message),
  );
  assert.throws(() => client.compute({ a: task(inc, 1) }, "missing"), KeyError);
  // nothing of the refused graphs reached the scheduler
  assert.equal(await client.submit(inc, 0), 1);
  assert.ok(!schedulerState(c.s).tasks.has("a") && !schedulerState(c.s).tasks.has("b"));
});

// dask: test_client.py::test_get_returns_early / test_get_stops_work_after_error
Deno.test("test_get_returns_early: get raises the first error at once and releases the rest", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const throws = (_x: unknown) => {
    throw new RangeError("hello!");
  };
  const slow = async (x: number) => {
    await new Promise((r) => setTimeout(r, 2000));
    return x;
  };
  await assert.rejects(
    client.get({ x: task(throws, 1), y: task(slow, 1) }, ["x", "y"]),
    (e: unknown) => e instanceof RangeError && e.message === "hello!",
  );
  // dask: the futures are released: nothing stays on the scheduler
  await until(() => schedulerState(c.s).tasks.size === 0, "the scheduler to forget x and y");
});

// dask: test_client.py::test_compute_retries — retries apply to every task of the graph.
Deno.test("test_compute_retries: compute takes retries for its tasks", async () => {
  await using c = await miniCluster([1]);
  await using client = await Client.connect(c.s.address);
  const varying = (id: string) => {
    const g = globalThis as unknown as Record<string, number>;
    const n = g[id] = (g[id] ?? 0) + 1;
    if (n < 3) throw new Error(`attempt ${n}`);
    return n;
  };
  const id = `v${Math.random()}`;
  assert.equal(await client.compute({ v: task(varying, id) }, "v", { retries: 2 }), 3);
  const id2 = `w${Math.random()}`;
  await assert.rejects(client.get({ w: task(varying, id2) }, "w", { retries: 1 }), /attempt 2/);
});

// A graph larger than one update-graph chunk (2,000 tasks): inner keys survive between chunks.
Deno.test("a chain of 4,500 tasks streams in chunks and computes", async () => {
  await using c = await miniCluster([2]);
  await using client = await Client.connect(c.s.address);
  const graph: Record<string, unknown> = { "n-0": 0 };
  for (let i = 1; i < 4500; i++) graph[`n-${i}`] = task(inc, ref(`n-${i - 1}`));
  assert.equal(await client.get(graph, "n-4499"), 4499);
  await until(() => schedulerState(c.s).tasks.size === 0, "the chain to be forgotten");
});
