// Resources: workers declare them, tasks need them; the scheduler runs a task only where its
// resources are free, and holds it until a worker that has them joins.
import assert from "node:assert/strict";
import { Client, getWorker, LocalCluster, Scheduler, Worker } from "../../mod.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

// Dask: test_resources.py::test_resource_submit and test_submit_many_non_overlapping
Deno.test("test_resource_submit: tasks run on workers with their resources, one per unit", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const start = (name: string, resources?: Record<string, number>) =>
    Worker.start({
      scheduler: scheduler.inprocAddress,
      nthreads: 2,
      inproc: true,
      name,
      resources,
      silenceLogs: true,
    });
  const workers = [await start("a", { A: 1 }), await start("b", { B: 1 })];
  try {
    await using client = await Client.connect(scheduler.inprocAddress);
    const spans = client.with({ resources: { A: 1 } }).map(async function needsA(i: number) {
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 30));
      return [i, getWorker().name, t0, Date.now()];
    }, [0, 1, 2, 3]);
    const out = await client.gather(spans);
    assert.deepEqual(out.map((o) => o[1]), ["a", "a", "a", "a"], "all on the worker with A");
    const sorted = out.map((o) => [o[2], o[3]] as number[]).sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i][0] >= sorted[i - 1][1], "one A: never two at once");
    }
    const b = await client.with({ resources: { B: 1 } }).submit(() => getWorker().name);
    assert.equal(b, "b");

    // (a pure key covers function and arguments, not resources: another function here)
    const c = client.with({ resources: { C: 2 } }).submit(function needsC() {
      return getWorker().name;
    });
    await until(
      () => schedulerState(scheduler).tasks.get(c.key)?.state === "no-worker",
      "the C task to wait for a worker",
    );
    assert.equal(c.status, "pending");
    workers.push(await start("c", { C: 10 }));
    assert.equal(await c, "c");
    assert.throws(
      () => client.with({ resources: { GPU: -1 } }).submit(() => 1),
      /GPU must be a finite number >= 0/,
    );
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await scheduler.close();
  }
});

Deno.test("LocalCluster resources: every worker declares them; getWorker() shows them", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 2,
    resources: { GPU: 2 },
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const r = await client.with({ resources: { GPU: 1 } }).submit(() => getWorker().resources);
  assert.deepEqual(r, { GPU: 2 });
  const info = await client.schedulerInfo();
  assert.deepEqual(Object.values(info.workers)[0].resources, { GPU: 2 });
});
