// Scenarios ported from Dask's test suite where dtask used to answer differently: asCompleted
// with a cancelled Future, the worker filter of nthreads and hasWhat, events logged by a task
// through getWorker(), and what retireWorkers returns. A gen_cluster: a scheduler in this
// process, worker a (1 thread) and worker b (2 threads), real task threads.
import assert from "node:assert/strict";
import { asCompleted, CancelledError, type Future, getWorker } from "../../mod.ts";
import { blockOn, genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";

const inc = (x: number) => x + 1;

// Dask: test_as_completed.py::test_as_completed_with_results (a cancelled Future is yielded
// with its CancelledError; only an erred one raises)
Deno.test("asCompleted withResults yields a cancelled Future with its CancelledError", async () => {
  await using cl = await genCluster();
  const { c } = cl;
  const x = c.submit(blockOn, "parity-cancelled");
  const y = c.submit(inc, 1);
  const got: [Future<unknown>, unknown][] = [];
  const it = asCompleted<unknown>([x, y], { withResults: true });
  for await (const pair of it) {
    got.push(pair);
    if (got.length === 1) await x.cancel();
  }
  assert.equal(got.length, 2);
  const byKey = new Map(got.map(([f, v]) => [f.key, v]));
  assert.equal(byKey.get(y.key), 2);
  const cancelled = byKey.get(x.key);
  assert.ok(cancelled instanceof CancelledError, String(cancelled));
  assert.match((cancelled as Error).message, new RegExp(x.key));
  assert.equal(x.status, "cancelled");
  y.release();
});

// Dask: test_client.py::test_nthreads / test_has_what (with the `workers` argument)
Deno.test("nthreads and hasWhat take a worker filter: addresses or names", async () => {
  await using cl = await genCluster();
  const { a, b, c } = cl;
  assert.deepEqual(await c.nthreads(), { [a.address]: 1, [b.address]: 2 });
  assert.deepEqual(await c.nthreads([a.address]), { [a.address]: 1 });
  assert.deepEqual(await c.nthreads(b.address), { [b.address]: 2 });
  const named = await cl.addWorker({ name: "gamma", nthreads: 3 });
  assert.deepEqual(await c.nthreads(["gamma"]), { [named.address]: 3 });
  assert.deepEqual(await c.nthreads(["nobody"]), {});

  const x = c.with({ workers: [a.address] }).submit(inc, 10);
  const y = c.with({ workers: ["gamma"] }).submit(inc, 20);
  assert.deepEqual(await c.gather([x, y]), [11, 21]);
  assert.deepEqual(await c.hasWhat([a.address]), { [a.address]: [x.key] });
  assert.deepEqual(await c.hasWhat("gamma"), { [named.address]: [y.key] });
  assert.deepEqual(await c.hasWhat([b.address, "nobody"]), { [b.address]: [], nobody: [] });
  assert.deepEqual(
    Object.keys(await c.hasWhat()).sort(),
    [a, b, named].map((w) => w.address).sort(),
  );
  c.release([x, y]);
});

// Dask: test_worker.py::test_log_event / test_scheduler.py::test_log_event (a worker's event
// carries the worker's address)
Deno.test("getWorker().logEvent in a task records the event with the worker's address", async () => {
  await using cl = await genCluster();
  const { a, c } = cl;
  const logs = (tag: string) => {
    getWorker().logEvent("parity-topic", { tag, n: 1 });
    getWorker().logEvent(["parity-topic", "parity-other"], "plain text");
    return tag;
  };
  assert.equal(await c.with({ workers: [a.address] }).submit(logs, "hello"), "hello");
  let events: [number, unknown][] = [];
  await until(async () => (events = await c.getEvents("parity-topic")).length === 2, "events");
  assert.deepEqual(events.map(([, m]) => m), [
    { tag: "hello", n: 1, worker: a.address },
    "plain text",
  ]);
  assert.deepEqual((await c.getEvents("parity-other")).map(([, m]) => m), ["plain text"]);
  assert.ok(events.every(([t]) => typeof t === "number" && t > 0));
  // an event that cannot be encoded fails in the task, at the call
  const bad = c.submit(() => getWorker().logEvent("parity-topic", { f: () => 1 }));
  await assert.rejects(bad.result(), /function/);
});

// Dask: test_scheduler.py::test_retire_workers (retire_workers returns each retired worker's
// info by address, as scheduler_info()["workers"] has it)
Deno.test("retireWorkers returns each retired worker's info by address", async () => {
  await using cl = await genCluster();
  const { a, b, c } = cl;
  const before = (await c.schedulerInfo()).workers;
  const retired = await c.retireWorkers([a.address]);
  // its info as it registered (schedulerInfo adds the worker's status and memory now; it is gone)
  const { status: _status, memory: _memory, ...registered } = before[a.address];
  assert.deepEqual(retired, { [a.address]: registered });
  assert.equal(retired[a.address].nthreads, 1);
  const named = await cl.addWorker({ name: "retire-me" });
  const byName = await c.retireWorkers("retire-me");
  assert.deepEqual(Object.keys(byName), [named.address]);
  assert.equal(byName[named.address].name, "retire-me");
  assert.deepEqual(await c.retireWorkers(["nobody"]), {});
  assert.deepEqual(Object.keys((await c.schedulerInfo()).workers), [b.address]);
});
