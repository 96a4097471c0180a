// Dask scenarios §5.6 (data locality, placement, stealing, queuing) and §5.8 (resources) not
// already ported by stealing_test.ts and resources_test.ts, through the public API on
// gen_clusters: a scheduler in this process and real workers.
import assert from "node:assert/strict";
import type { Client, Future } from "../../mod.ts";
import { blockOn, genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;
const slowinc = async (x: number, ms = 50) => {
  await new Promise((r) => setTimeout(r, ms));
  return x + 1;
};

/** Dask's slowadd: x + y after 50 ms. */
const slowadd = async (x: number, y: number) => {
  await new Promise((r) => setTimeout(r, 50));
  return x + y;
};

async function holders(c: Client, fs: Future[]): Promise<string[]> {
  const whoHas = await c.whoHas(fs);
  return fs.map((f) => whoHas[f.key].join(","));
}

Deno.test("dask §5.6 placement and restrictions", async (t) => {
  await using cl = await genCluster();
  const { s, c, a, b } = cl;

  // Dask: test_client.py::test_restrictions_submit / test_restrictions_map (by address here;
  // a worker's name matches too)
  await t.step("test_restrictions_submit / test_restrictions_map", async () => {
    const x = c.with({ workers: [a.address] }).submit(inc, 1);
    const y = c.with({ workers: b.name }).submit(inc, x);
    assert.equal(await y, 3);
    assert.deepEqual(await holders(c, [x]), [a.address]);
    assert.deepEqual(await holders(c, [y]), [b.address]);
    const L = c.with({ workers: [a.address] }).map(inc, [10, 11, 12, 13, 14, 15, 16, 17]);
    assert.deepEqual(await c.gather(L), [11, 12, 13, 14, 15, 16, 17, 18]);
    assert.deepEqual(await holders(c, L), Array(8).fill(a.address));
    c.release([x, y, ...L]);
  });

  // Dask: test_client.py::test_allow_restrictions
  await t.step("test_allow_restrictions", async () => {
    const loose = c.with({ workers: a.address, allowOtherWorkers: true });
    const x = loose.submit(inc, 100);
    assert.equal(await x, 101);
    assert.deepEqual(await holders(c, [x]), [a.address]); // still prefers a
    const L = loose.map(inc, [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    await c.gather(L);
    const where = await holders(c, L);
    assert.deepEqual(where, Array(10).fill(a.address));
    // a worker that does not exist, with allowOtherWorkers, still computes
    const z = c.with({ workers: "tcp://127.0.0.5:9999", allowOtherWorkers: true }).submit(inc, 1);
    assert.equal(await z, 2);
    // allowOtherWorkers without workers, or not a boolean: refused at once
    assert.throws(() => c.with({ allowOtherWorkers: true }).submit(inc, 2), /workers/);
    assert.throws(
      () => c.with({ workers: a.address, allowOtherWorkers: "yes" as unknown as boolean }),
      TypeError,
    );
    c.release([x, ...L, z]);
  });

  // Dask: test_scheduler.py::test_no_valid_workers / test_no_valid_workers_loose_restrictions
  await t.step("test_no_valid_workers / test_no_valid_workers_loose_restrictions", async () => {
    const x = c.with({ workers: "tcp://127.0.0.5:9999" }).submit(inc, 1000);
    await until(() => schedulerState(s).tasks.get(x.key)?.state === "no-worker", "x unrunnable");
    assert.ok(schedulerState(s).unrunnable.has(schedulerState(s).tasks.get(x.key)!));
    assert.equal(x.status, "pending");
    const y = c.with({ workers: "tcp://127.0.0.5:9999", allowOtherWorkers: true }).submit(inc, 1);
    assert.equal(await y, 2);
    assert.equal(schedulerState(s).tasks.get(x.key)?.state, "no-worker"); // and x still waits
    c.release([x, y]);
  });

  // Dask: test_client.py::test_many_submits_spread_evenly
  await t.step("test_many_submits_spread_evenly", async () => {
    const L = Array.from({ length: 10 }, (_, i) => c.submit(slowinc, 200 + i, 20));
    await c.gather(L);
    const where = await holders(c, L);
    assert.ok(where.includes(a.address) && where.includes(b.address), `both used: ${where}`);
    c.release(L);
  });

  // Dask: test_steal.py::test_dont_steal_executing_tasks / test_dont_steal_long_running_tasks —
  // with stealing moving queued work from a (which holds the input) to b, every task runs once
  await t.step("test_dont_steal_executing_tasks", async () => {
    const x = c.with({ workers: a.address }).submit(() => 1);
    await x;
    const L = c.map(slowadd, Array.from({ length: 20 }, (_, i) => i), Array(20).fill(x));
    await c.gather(L);
    const stream = await c.getTaskStream();
    for (const f of L) assert.equal(stream.filter((r) => r.key === f.key).length, 1, f.key);
    const keys = new Set(L.map((f) => f.key));
    const onB = stream.filter((r) => keys.has(r.key) && r.worker === b.address).length;
    assert.ok(onB > 0, "some tasks were stolen by b");
    c.release([x, ...L]);
  });
});

// Dask: test_scheduler.py::test_saturation_factor — workers with 2 and 1 threads, 10 tasks that
// block: how many each worker is given (the rest stay queued on the scheduler)
Deno.test("dask §5.6 test_saturation_factor", async (t) => {
  const cases: [number, [number, number]][] = [
    [2.5, [5, 3]],
    [2.0, [4, 2]],
    [1.1, [3, 2]],
    [1.0, [2, 1]],
    [0.1, [1, 1]],
  ];
  for (const [saturation, expected] of cases) {
    await t.step(`workerSaturation ${saturation}: ${expected}`, async () => {
      await using cl = await genCluster({
        nthreads: [2, 1],
        config: { workerSaturation: saturation, workStealing: false },
      });
      const { s, c } = cl;
      const name = `saturation-${saturation}`;
      const fs = c.with({ pure: false }).map(blockOn, Array(10).fill(name));
      const processing = () => s.view().workers.map((w) => w.processing);
      const total = expected[0] + expected[1];
      await until(
        () => processing().reduce((x, y) => x + y, 0) === total,
        `${total} tasks processing`,
      );
      const byAddress = Object.fromEntries(s.view().workers.map((w) => [w.address, w.processing]));
      assert.deepEqual([byAddress[cl.a.address], byAddress[cl.b.address]], expected);
      const states = fs.map((f) => schedulerState(s).tasks.get(f.key)!.state);
      assert.equal(states.filter((x) => x === "queued").length, 10 - total);
      await c.publishDataset(name, 1);
      assert.deepEqual(await c.gather(fs), Array(10).fill(1));
    });
  }
});

Deno.test("dask §5.8 resources", async (t) => {
  await using cl = await genCluster({ nthreads: [] });
  const { s, c } = cl;
  const a = await cl.addWorker({ nthreads: 1, resources: { A: 1 } });
  const b = await cl.addWorker({ nthreads: 1 });
  const m = await cl.addWorker({ nthreads: 4, resources: { M: 2, N: 1 } });

  // Dask: test_resources.py::test_move — the task runs where its resource is; its input moves
  await t.step("test_move", async () => {
    const x = c.with({ workers: b.address }).submit(inc, 1);
    await x;
    const y = c.with({ resources: { A: 1 } }).submit(inc, x);
    assert.equal(await y, 3);
    assert.deepEqual(await holders(c, [y]), [a.address]);
    c.release([x, y]);
  });

  // Dask: test_resources.py::test_dont_work_steal — resource-bound tasks stay on the only
  // worker with the resource while another worker idles
  await t.step("test_dont_work_steal", async () => {
    const x = c.with({ workers: a.address }).submit(() => 0);
    await x;
    const L = c.with({ resources: { A: 1 } }).map(
      slowinc,
      Array.from({ length: 10 }, (_, i) => i),
      Array(10).fill(20),
    );
    await c.gather(L);
    assert.deepEqual(await holders(c, L), Array(10).fill(a.address));
    const stream = await c.getTaskStream();
    for (const f of L) {
      assert.deepEqual(stream.filter((r) => r.key === f.key).map((r) => r.worker), [a.address]);
    }
    c.release([x, ...L]);
  });

  // Dask: test_resources.py::test_minimum_resource — 4 threads but {M: 2, N: 1}; tasks needing
  // {M: 1, N: 1}: one at a time; afterwards the full amounts are available again
  await t.step("test_minimum_resource", async () => {
    const names = ["min-0", "min-1", "min-2"];
    const fs = c.with({ resources: { M: 1, N: 1 }, pure: false }).map(blockOn, names);
    const running = () =>
      fs.filter((f) => schedulerState(s).tasks.get(f.key)?.state === "processing");
    for (let i = 0; i < names.length; i++) {
      await until(() => running().length === 1, "one task running");
      const [r] = running();
      // the others wait on the scheduler for the resource
      for (const f of fs) {
        if (f !== r && !f.done()) {
          assert.notEqual(schedulerState(s).tasks.get(f.key)!.state, "processing");
        }
      }
      await c.publishDataset(names[fs.indexOf(r)], i);
      await r;
    }
    assert.equal(s.view().workers.find((w) => w.address === m.address)!.processing, 0);
    // all of M and N are free again: a task needing every unit runs
    const all = c.with({ resources: { M: 2, N: 1 } }).submit(inc, 1);
    assert.equal(await all, 2);
    c.release([...fs, all]);
  });
});

Deno.test("dask §5.6 stealing and balance", async (t) => {
  // Dask: test_steal.py::test_dont_steal_expensive_data_fast_computation — a large array on a
  // plus fast sums of it (loosely pinned to a): nothing moves to b
  await t.step("test_dont_steal_expensive_data_fast_computation", async () => {
    await using cl = await genCluster();
    const { c, a, b } = cl;
    const sum = (xs: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < xs.length; i++) s += xs[i];
      return s;
    };
    const x = c.with({ workers: a.address }).submit(
      (n: number) => new Float64Array(n).fill(1),
      1e6,
    );
    await x;
    const learn = c.with({ workers: a.address }).submit(sum, [1]); // learn that sum is fast
    await learn;
    const cheap = c.with({ workers: a.address, allowOtherWorkers: true, pure: false }).map(
      sum,
      Array(10).fill(x),
    );
    assert.deepEqual(await c.gather(cheap), Array(10).fill(1e6));
    assert.deepEqual((await c.whoHas(x))[x.key], [a.address]);
    const hasWhat = await c.hasWhat();
    assert.deepEqual(hasWhat[b.address], []);
    assert.equal(hasWhat[a.address].length, 12);
  });

  // Dask: test_steal.py::test_steal_worker_restrictions — tasks restricted to {a, b} whose
  // input lives on a: stealing shares them between a and b, never with c
  await t.step("test_steal_worker_restrictions", async () => {
    await using cl = await genCluster({ nthreads: [1, 1, 1] });
    const { c, workers } = cl;
    const [wa, wb, wc] = workers.map((w) => w.address);
    const x = c.with({ workers: wa }).submit(() => 1);
    await x;
    const n = 24;
    const futures = c.with({ workers: [wa, wb] }).map(
      slowadd,
      Array.from({ length: n }, (_, i) => i),
      Array(n).fill(x),
    );
    await c.gather(futures);
    const stream = await c.getTaskStream();
    const keys = new Set(futures.map((f) => f.key));
    const ranOn = stream.filter((r) => keys.has(r.key)).map((r) => r.worker);
    assert.equal(ranOn.length, n);
    const count = (w: string) => ranOn.filter((r) => r === w).length;
    assert.ok(count(wa) > 0 && count(wa) < n, `a ran ${count(wa)}`);
    assert.ok(count(wb) > 0 && count(wb) < n, `b ran ${count(wb)}`);
    assert.equal(count(wc), 0);
  });

  // Dask: test_steal.py::test_balance_without_dependencies — 100 tasks of random durations on
  // five 1-thread workers: the total duration per worker is within a factor of 3
  await t.step("test_balance_without_dependencies", async () => {
    await using cl = await genCluster({ nthreads: [1, 1, 1, 1, 1] });
    const { c } = cl;
    const slow = async (_x: number) => {
      const y = Math.random() * 100;
      await new Promise((r) => setTimeout(r, y));
      return y;
    };
    const futures = c.map(slow, Array.from({ length: 100 }, (_, i) => i));
    const ys = await c.gather(futures);
    const whoHas = await c.whoHas(futures);
    const durations = new Map(cl.workers.map((w) => [w.address, 0]));
    futures.forEach((f, i) => {
      const w = whoHas[f.key][0];
      durations.set(w, durations.get(w)! + ys[i]);
    });
    const d = [...durations.values()];
    assert.ok(Math.max(...d) / Math.min(...d) < 3, `durations per worker: ${d}`);
  });
});
