// Dask scenarios §5.4 (cancellation) that need only release(): dropping every Future stops the
// work nobody wants. (cancel(), fire-and-forget and cancelled-future scenarios are ported with
// those features.)
import assert from "node:assert/strict";
import { genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const slowinc = async (x: number, ms = 10) => {
  await new Promise((r) => setTimeout(r, ms));
  return x + 1;
};

// Dask: test_worker.py::test_stop_doing_unnecessary_work — map(slowinc, range(1000)), then drop
// every future: the workers stop without running the rest
Deno.test("dask §5.4 test_stop_doing_unnecessary_work", async () => {
  await using cl = await genCluster();
  const { s, c } = cl;
  const futures = c.map(slowinc, Array.from({ length: 1000 }, (_, i) => i));
  const keys = futures.map((f) => f.key);
  await until(() => futures.filter((f) => f.done()).length >= 5, "a few results");
  c.release(futures);
  await until(() => keys.every((k) => !schedulerState(s).tasks.has(k)), "every key forgotten");
  await until(
    () => s.view().workers.every((w) => w.processing === 0),
    "nothing processing on the scheduler",
  );
  // a new task on each worker runs after anything still queued there
  const probes = cl.workers.map((w) =>
    c.with({ workers: w.address, pure: false }).submit(slowinc, -1, 0)
  );
  assert.deepEqual(await c.gather(probes), probes.map(() => 0));
  const stream = await c.getTaskStream();
  const wanted = new Set(keys);
  const ran = stream.filter((r) => wanted.has(r.key)).length;
  assert.ok(ran < 200, `only the work already started or queued ran: ${ran} of 1000`);
  assert.deepEqual(Object.values(await c.hasWhat()).flat().filter((k) => wanted.has(k)), []);
});
