// Dask scenarios §5.2 (graph, dependencies, reuse), the parts that submit/map express: results
// in memory are reused, released ones recomputed from their lineage, forgotten keys' data
// deleted; data moves between workers. (get/compute graphs and tuple keys: the graph port.)
import assert from "node:assert/strict";
import type { Client } from "../../mod.ts";
import { genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;
const dec = (x: number) => x - 1;
const add = (x: number, y: number) => x + y;

/** How many times the task stream saw `key` run. */
async function runs(c: Client, key: string): Promise<number> {
  return (await c.getTaskStream()).filter((r) => r.key === key).length;
}

Deno.test("dask §5.2 graph, dependencies, reuse", async (t) => {
  await using cl = await genCluster();
  const { s, c, a, b } = cl;
  const forgotten = (key: string) =>
    until(() => !schedulerState(s).tasks.has(key), `the scheduler to forget ${key}`);

  // Dask: test_scheduler.py::test_dont_recompute_if_persisted — x and y held; z(x, y) built
  // again from the same calls reuses both without running them again.
  await t.step("test_dont_recompute_if_persisted", async () => {
    const x = c.submit(inc, 10);
    const y = c.submit(inc, x);
    assert.equal(await y, 12);
    const x2 = c.submit(inc, 10);
    const y2 = c.submit(inc, x2);
    const z = c.submit(add, x2, y2);
    assert.equal(await z, 23);
    assert.equal(await runs(c, x.key), 1);
    assert.equal(await runs(c, y.key), 1);
    c.release([x, y, x2, y2, z]);
    await forgotten(x.key);
  });

  // Dask: test_scheduler.py::test_respect_data_in_memory — y held, its input x released:
  // z(x, y) reuses y and computes x again.
  await t.step("test_respect_data_in_memory", async () => {
    const x = c.submit(inc, 20);
    const y = c.submit(inc, x);
    assert.equal(await y, 22);
    x.release();
    await until(async () => (await c.whoHas(y))[y.key].length > 0, "y in memory");
    await until(() => schedulerState(s).tasks.get(x.key)?.state !== "memory", "x released");
    const z = c.submit(add, c.submit(inc, 20), y);
    assert.equal(await z, 43);
    assert.equal(await runs(c, y.key), 1, "y was not recomputed");
    assert.equal(await runs(c, x.key), 2, "x was recomputed");
    c.release([y, z]);
  });

  // Dask: test_scheduler.py::test_recompute_released_results
  await t.step("test_recompute_released_results", async () => {
    const x = c.submit(inc, 1);
    const y = c.submit(inc, x);
    assert.equal(await y, 3);
    const key = x.key;
    x.release();
    // kept, released, for its dependent's lineage
    await until(() => schedulerState(s).tasks.get(key)?.state === "released", "x released");
    assert.deepEqual((await c.whoHas(y))[y.key].length, 1);
    const z = c.submit(dec, c.submit(inc, 1));
    assert.equal(await z, 1);
    assert.equal(await runs(c, key), 2);
    c.release([y, z]);
  });

  // Dask: test_client.py::test_forget_simple
  await t.step("test_forget_simple", async () => {
    const x = c.submit(inc, 31);
    const y = c.submit(inc, 32);
    const z = c.submit(add, x, y);
    assert.equal(await z, 65);
    const [xk, yk, zk] = [x.key, y.key, z.key];
    x.release();
    await until(() => schedulerState(s).tasks.get(xk)?.state !== "memory", "x released");
    assert.ok(schedulerState(s).tasks.has(xk), "x kept while its dependent z exists");
    z.release();
    await forgotten(zk);
    await forgotten(xk);
    assert.ok(!schedulerState(s).tasks.get(yk)!.dependents?.size, "y has no dependents left");
    y.release();
    await forgotten(yk);
    // the workers deleted the forgotten keys' data
    await until(async () => {
      const held = Object.values(await c.hasWhat()).flat();
      return ![xk, yk, zk].some((k) => held.includes(k));
    }, "the data of forgotten keys deleted");
  });

  // Dask: test_client.py::test_forget_complex
  await t.step("test_forget_complex", async () => {
    const [A, B, C, D] = [
      c.submit(inc, 41),
      c.submit(inc, 42),
      c.submit(inc, 43),
      c.submit(inc, 44),
    ];
    const ab = c.submit(add, A, B);
    const cd = c.submit(add, C, D);
    const ac = c.submit(add, A, C);
    const acab = c.submit(add, ac, ab);
    assert.equal(await acab, 42 + 43 + 42 + 44);
    await c.gather([ab, cd]);
    const keys = [A, B, C, D, ab, cd, ac, acab].map((f) => f.key);
    c.release([A, C, ac, acab]);
    // acab is gone; ac only fed acab, so no one needs it: forgotten
    await forgotten(acab.key);
    await forgotten(ac.key);
    assert.ok(
      schedulerState(s).tasks.has(A.key) && schedulerState(s).tasks.has(C.key),
      "A, C kept for ab, cd",
    );
    c.release([ab]);
    await forgotten(ab.key);
    await forgotten(A.key); // nobody needs A any more
    assert.ok(schedulerState(s).tasks.has(B.key) && schedulerState(s).tasks.has(C.key));
    c.release([B, D, cd]);
    for (const k of keys) await forgotten(k);
    await until(async () => {
      const held = Object.values(await c.hasWhat()).flat();
      return !keys.some((k) => held.includes(k));
    }, "the data of forgotten keys deleted");
  });

  // Dask: test_worker.py::test_inter_worker_communication — here x and y are computed on a
  // (instead of scattered there) and add runs on b
  await t.step("test_inter_worker_communication", async () => {
    const x = c.with({ workers: a.address }).submit(() => 1);
    const y = c.with({ workers: a.address }).submit(() => 2);
    await c.gather([x, y]);
    const z = c.with({ workers: b.address }).submit(add, x, y);
    assert.equal(await z, 3);
    const whoHas = await c.whoHas([x, y, z]);
    assert.deepEqual(whoHas[z.key], [b.address]);
    assert.ok(whoHas[x.key].includes(a.address));
    c.release([x, y, z]);
  });
});
