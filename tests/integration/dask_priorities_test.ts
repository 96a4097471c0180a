// Dask scenarios §5.9 (priorities) through the public API on gen_clusters with one 1-thread
// worker. (test_fifo_submission is in stealing_test.ts, test_sub_submit_priority in
// in_task_test.ts.)
//
// Dask's tests run twice (gen_blockable_cluster): "queue on worker" — a dummy task blocks the
// worker until every task submitted meanwhile has reached it — and "queue on scheduler" — the
// worker is paused, so they all wait on the scheduler. Ported as:
// - "queue on worker": queuing off (workerSaturation: Infinity), so the scheduler sends the
//   tasks to the blocked worker (Dask sends these non-root-ish tasks at once anyway; dtask
//   would queue them on the scheduler);
// - "queue on scheduler": no worker yet, so they wait on the scheduler; then one joins.
import assert from "node:assert/strict";
import type { Client, Future } from "../../mod.ts";
import { blockOn, type GenCluster, genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;
const slowinc = async (x: number, ms = 20) => {
  await new Promise((r) => setTimeout(r, ms));
  return x + 1;
};

type Mode = "queue on worker" | "queue on scheduler";

/** gen_blockable_cluster: one 1-thread worker (added later in "queue on scheduler"). */
function blockableCluster(mode: Mode): Promise<GenCluster> {
  return mode === "queue on worker"
    ? genCluster({ nthreads: [1], config: { workerSaturation: Infinity } })
    : genCluster({ nthreads: [] });
}

/**
 * Dask's block_worker: runs `submit` while no task can start on the worker, waits until the
 * `n` tasks it made reached the worker (or the scheduler), then lets the worker go.
 */
async function blockWorker(cl: GenCluster, mode: Mode, tag: string, submit: () => Future[]) {
  const { s, c } = cl;
  let clog: Future | null = null;
  if (mode === "queue on worker") {
    clog = c.submit(blockOn, `block_worker-${tag}`);
    await until(
      () => schedulerState(s).tasks.get(clog!.key)?.state === "processing",
      "the worker blocked",
    );
  }
  const fs = submit();
  if (mode === "queue on worker") {
    await until(
      () => fs.every((f) => schedulerState(s).tasks.get(f.key)?.state === "processing"),
      "every task on the worker",
    );
    await c.publishDataset(`block_worker-${tag}`, 0);
    await clog;
    clog!.release();
  } else {
    await until(
      () => fs.every((f) => schedulerState(s).tasks.has(f.key)),
      "every task on the scheduler",
    );
    assert.ok(fs.every((f) => schedulerState(s).tasks.get(f.key)!.state !== "processing"));
    await cl.addWorker({ nthreads: 1 });
  }
}

/** The order the futures' tasks started in, from the task stream. */
async function startOrder(c: Client, fs: Future[]): Promise<string[]> {
  const keys = new Set(fs.map((f) => f.key));
  return (await c.getTaskStream())
    .filter((r) => keys.has(r.key))
    .sort((x, y) => x.startstops[0].start - y.startstops[0].start)
    .map((r) => r.key);
}

for (const mode of ["queue on worker", "queue on scheduler"] as const) {
  Deno.test(`dask §5.9 priorities (${mode})`, async (t) => {
    // Dask: test_priorities.py::test_submit — low (priority -1), a clog, high (priority 1):
    // high runs, then the clog takes the thread, so low is still processing
    await t.step("test_submit", async () => {
      await using cl = await blockableCluster(mode);
      const { s, c } = cl;
      let low!: Future, clog!: Future, high!: Future;
      await blockWorker(cl, mode, "submit", () => {
        low = c.with({ priority: -1 }).submit(inc, 1);
        clog = c.submit(blockOn, "ev-submit");
        high = c.with({ priority: 1 }).submit(inc, 2);
        return [low, clog, high];
      });
      assert.equal(await high, 3);
      assert.equal(schedulerState(s).tasks.get(low.key)!.state, "processing");
      await until(
        () => schedulerState(s).tasks.get(clog.key)!.state === "processing",
        "the clog runs",
      );
      assert.equal(low.status, "pending");
      await c.publishDataset("ev-submit", 0);
      assert.equal(await low, 2);
    });

    // Dask: test_priorities.py::test_map. "queue on worker" only: with the worker joining late,
    // the six inc tasks are root-ish and wait for slots on the scheduler while the clog (a lone
    // task, not root-ish) goes to the worker at once, so a high task still queued there ends up
    // behind the running clog. Dask's root-ish rule has the same effect.
    if (mode === "queue on worker") {
      await t.step("test_map", async () => {
        await using cl = await blockableCluster(mode);
        const { s, c } = cl;
        let low!: Future[], clog!: Future, high!: Future[];
        await blockWorker(cl, mode, "map", () => {
          low = c.with({ priority: -1 }).map(inc, [1, 2, 3]);
          clog = c.submit(blockOn, "ev-map");
          high = c.with({ priority: 1 }).map(inc, [4, 5, 6]);
          return [...low, clog, ...high];
        });
        assert.deepEqual(await c.gather(high), [5, 6, 7]);
        for (const f of low) assert.equal(schedulerState(s).tasks.get(f.key)!.state, "processing");
        await c.publishDataset("ev-map", 0);
        await clog;
        assert.deepEqual(await c.gather(low), [2, 3, 4]);
      });
    }

    // Dask: test_priorities.py::test_last_in_first_out — chains x -> y -> z: some z is done
    // before every x is (depth first). Ported in "queue on scheduler" mode only: with every x
    // already on the worker (queuing off) the chains' tasks tie on priority and run in arrival
    // order, all x first; depth first comes from the scheduler handing out ready dependents
    // before queued roots. (Left out: Dask's "queue on worker" scenario.)
    if (mode === "queue on scheduler") {
      await t.step("test_last_in_first_out", async () => {
        await using cl = await blockableCluster(mode);
        const { c } = cl;
        let xs!: Future<number>[], ys!: Future<number>[], zs!: Future<number>[];
        await blockWorker(cl, mode, "lifo", () => {
          xs = Array.from({ length: 5 }, (_, i) => c.submit(slowinc, i));
          ys = xs.map((x) => c.submit(slowinc, x));
          zs = ys.map((y) => c.submit(slowinc, y));
          return xs; // (Dask: 15 on the scheduler, 5 on the worker)
        });
        await c.gather(zs);
        const order = await startOrder(c, [...xs, ...zs]);
        const firstZ = order.findIndex((k) => zs.some((z) => z.key === k));
        const lastX = order.findLastIndex((k) => xs.some((x) => x.key === k));
        assert.ok(firstZ < lastX, `a z started before the last x: ${order}`);
      });
    }
  });
}

// Dask: test_priorities.py::test_submit, as a user would write it with the defaults: tasks sent
// one by one to a busy one-thread worker run by priority, not in arrival order
Deno.test("priorities with the defaults: submitted one by one to a busy worker, high runs first", async () => {
  await using cl = await genCluster({ nthreads: [1] });
  const { s, c } = cl;
  const blocker = c.submit(blockOn, "defaults-blocker");
  await until(
    () => schedulerState(s).tasks.get(blocker.key)?.state === "processing",
    "the worker blocked",
  );
  const low = c.with({ priority: -1 }).submit(inc, 1);
  await c.schedulerInfo(); // each submission reaches the worker on its own
  const clog = c.submit(blockOn, "defaults-clog");
  await c.schedulerInfo();
  const high = c.with({ priority: 1 }).submit(inc, 2);
  await until(
    () =>
      [low, clog, high].every((f) => schedulerState(s).tasks.get(f.key)?.state === "processing"),
    "every task on the worker",
  );
  await c.publishDataset("defaults-blocker", 0);
  assert.equal(await high, 3);
  await until(() => schedulerState(s).tasks.get(clog.key)!.state === "processing", "the clog runs");
  assert.equal(low.status, "pending", "low waits behind the clog");
  await c.publishDataset("defaults-clog", 0);
  assert.equal(await low, 2);
  await blocker;
  await clog;
});
