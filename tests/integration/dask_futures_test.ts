// Dask scenarios §5.1 (futures basics), ported through the public API on a gen_cluster:
// a scheduler in this process, worker a (1 thread) and worker b (2 threads), real task threads.
import assert from "node:assert/strict";
import { asCompleted, CancelledError, type Future, TimeoutError, wait } from "../../mod.ts";
import { blockOn, genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";
import { keyStateOf } from "../../client/future.ts";

const inc = (x: number) => x + 1;
const add = (x: number, y: number) => x + y;
const throws = (_x: unknown) => {
  throw new Error("hello!");
};

Deno.test("dask §5.1 futures basics", async (t) => {
  await using cl = await genCluster();
  const { s, c } = cl;
  const forgotten = (key: string) =>
    until(() => !schedulerState(s).tasks.has(key), `the scheduler to forget ${key}`);

  // Dask: test_client.py::test_submit
  await t.step("test_submit", async () => {
    const x = c.with({ key: "x" }).submit(inc, 10);
    assert.equal(x.key, "x");
    assert.equal(x.done(), false);
    assert.equal(await x, 11);
    assert.equal(x.done(), true);
    const y = c.submit(inc, 20);
    const z = c.submit(add, x, y);
    assert.equal(await z, 32);
    c.release([x, y, z]);
  });

  // Dask: test_client.py::test_map
  await t.step("test_map", async () => {
    const L1 = c.map(inc, [0, 1, 2, 3, 4]);
    assert.equal(L1.length, 5);
    assert.equal(new Set(L1.map((f) => f.key)).size, 5);
    await wait(L1);
    for (const f of L1) assert.ok(schedulerState(s).tasks.has(f.key), `${f.key} on the scheduler`);
    const L2 = c.map(inc, L1); // chains
    assert.deepEqual(await c.gather(L2), [2, 3, 4, 5, 6]);
    // zip to the shortest
    const L3 = c.map(add, [0, 1, 2], [0, 1, 2, 3]);
    assert.equal(L3.length, 3);
    assert.deepEqual(await c.gather(L3), [0, 2, 4]);
    // a broadcast argument (Dask: y=5 as a kwarg) — here the same value in each element
    const L4 = c.map(
      (x: number, o: { y: number }) => x + o.y,
      [0, 1, 2, 3, 4],
      Array(5).fill({ y: 5 }),
    );
    assert.deepEqual(await c.gather(L4), [5, 6, 7, 8, 9]);
    // a Future passed as a "kwarg" (inside an argument object) becomes a dependency
    const y = c.submit(inc, 9);
    const L5 = c.map((x: number, o: { y: number }) => x + o.y, [0, 1, 2], Array(3).fill({ y }));
    assert.deepEqual(await c.gather(L5), [10, 11, 12]);
    for (const f of L5) {
      assert.deepEqual(schedulerState(s).tasks.get(f.key)!.deps.map((d) => d.key), [y.key]);
    }
    c.release([...L1, ...L2, ...L3, ...L4, ...L5, y]);
  });

  // Dask: test_client.py::test_map_keynames — dtask's map takes no key (it refuses one with a
  // TypeError); keys start with the function's name, are distinct, and differ with the input.
  await t.step("test_map_keynames", async () => {
    const futures = c.map(inc, [0, 1, 2, 3]);
    for (const f of futures) assert.ok(f.key.startsWith("inc-"), f.key);
    assert.equal(new Set(futures.map((f) => f.key)).size, 4);
    const other = c.map(inc, [4, 5, 6, 7]);
    for (const f of other) assert.ok(!futures.some((g) => g.key === f.key));
    assert.throws(() => c.with({ key: "INC" }).map(inc, [0, 1]), TypeError);
    await wait([...futures, ...other]);
    c.release([...futures, ...other]);
  });

  // Dask: test_client.py::test_submit_naming / test_map_naming
  await t.step("test_submit_naming / test_map_naming", async () => {
    const a = c.submit(inc, 1);
    const b = c.submit(inc, 1);
    assert.equal(a.key, b.key);
    assert.equal(keyStateOf(a), keyStateOf(b)); // one shared record of the key
    const L = c.map(inc, [1, 1, 1, 1]);
    assert.equal(new Set(L.map((f) => f.key)).size, 1);
    assert.equal(new Set(L.map(keyStateOf)).size, 1);
    const impure = c.with({ pure: false }).map(inc, [1, 1, 1, 1]);
    assert.equal(new Set(impure.map((f) => f.key)).size, 4);
    assert.deepEqual(await c.gather([a, b, ...L, ...impure]), Array(10).fill(2));
    c.release([a, b, ...L, ...impure]);
  });

  // Dask: test_client.py::test_two_consecutive_clients_share_results
  await t.step("test_two_consecutive_clients_share_results", async () => {
    const rand = () => Math.floor(Math.random() * 1e9);
    const x = c.submit(rand);
    const xx = await x;
    const f = await cl.client();
    const y = f.submit(rand);
    assert.equal(y.key, x.key);
    assert.equal(await y, xx); // the first client's result, not a new random number
    y.release();
    x.release();
  });

  // Dask: test_client.py::test_Future_exception
  await t.step("test_Future_exception", async () => {
    const x = c.submit(
      (a: number, b: number) => {
        if (b === 0) throw new RangeError("division by zero");
        return a / b;
      },
      1,
      0,
    );
    const e = await x.exception();
    assert.ok(e instanceof Error);
    assert.equal(e.name, "RangeError");
    assert.equal(e.message, "division by zero");
    const y = c.submit(inc, 1);
    assert.equal(await y.exception(), null);
    c.release([x, y]);
  });

  // Dask: test_client.py::test_Future_release — pending, finished or erred: released at once
  await t.step("test_Future_release", async () => {
    const pending = c.submit(blockOn, "release-pending");
    await until(
      () => schedulerState(s).tasks.get(pending.key)?.state === "processing",
      "processing",
    );
    pending.release();
    await assert.rejects(pending.result(), CancelledError);
    await forgotten(pending.key);
    // the released task still holds its thread (as in Dask): let it end
    await c.publishDataset("release-pending", 1);

    const finished = c.submit(inc, 100);
    await finished;
    finished.release();
    await assert.rejects(finished.result(), CancelledError);
    await forgotten(finished.key);

    const erred = c.submit(throws, 100);
    await erred.exception();
    erred.release();
    await forgotten(erred.key);
  });

  // Dask: test_client.py::test_garbage_collection
  await t.step("test_garbage_collection", async () => {
    const a = c.submit(inc, 1);
    const aa = c.submit(inc, 1); // two Futures of one key (refcount 2)
    assert.equal(a.key, aa.key);
    assert.equal(keyStateOf(a).refs, 2);
    await a;
    aa.release();
    assert.equal(keyStateOf(a).refs, 1);
    assert.equal(await a, 2); // the other still holds the key
    assert.ok(schedulerState(s).tasks.has(a.key));
    // a released dependency still lets its dependent compute
    const x = c.submit(inc, 10);
    const y = c.submit(inc, x);
    x.release();
    assert.equal(await y, 12);
    // the last Future of a key gone: the scheduler forgets it
    a.release();
    y.release();
    await forgotten(a.key);
    await forgotten(y.key);
  });

  // Dask: test_client.py::test_gc
  await t.step("test_gc", async () => {
    const x = c.submit(inc, 10);
    await x;
    const key = x.key;
    const holders = (await c.whoHas(x))[key];
    assert.equal(holders.length, 1);
    x.release();
    await forgotten(key);
    await until(async () => !(await c.hasWhat())[holders[0]].includes(key), "the data deleted");
  });

  // Dask: test_client.py::test_recompute_released_key
  await t.step("test_recompute_released_key", async () => {
    const x = c.submit(inc, 4242);
    const key = x.key;
    assert.equal(await x, 4243);
    x.release();
    await forgotten(key);
    const y = c.submit(inc, 4242);
    assert.equal(y.key, key);
    assert.equal(await y, 4243);
    const runs = (await c.getTaskStream()).filter((r) => r.key === key);
    assert.equal(runs.length, 2, "computed again");
    y.release();
  });

  // Dask: test_client.py::test_wait / test_wait_first_completed
  await t.step("test_wait / test_wait_first_completed", async () => {
    const [x, y, z] = [c.submit(inc, 1), c.submit(inc, 2), c.submit(inc, 3)];
    const all = await wait([x, y, z]);
    assert.deepEqual(all.done, new Set([x, y, z]));
    assert.equal(all.notDone.size, 0);

    const bx = c.submit(blockOn, "wait-first-x");
    const by = c.submit(blockOn, "wait-first-y");
    const fast = c.submit(inc, 30);
    const first = await wait([bx, by, fast], { returnWhen: "FIRST_COMPLETED" });
    assert.deepEqual(first.done, new Set([fast]));
    assert.deepEqual(first.notDone, new Set([bx, by]));
    assert.equal(bx.status, "pending");
    assert.equal(by.status, "pending");
    await c.publishDataset("wait-first-x", 1);
    await c.publishDataset("wait-first-y", 2);
    assert.deepEqual(await c.gather([bx, by]), [1, 2]);
    c.release([x, y, z, bx, by, fast]);
  });

  // Dask: test_client.py::test_wait_timeout (timeouts are ms numbers in dtask)
  await t.step("test_wait_timeout", async () => {
    const f = c.submit(blockOn, "wait-timeout");
    await assert.rejects(wait([f], { timeout: 10 }), TimeoutError);
    await assert.rejects(wait(f, { timeout: 10 }), TimeoutError);
    await c.publishDataset("wait-timeout", "done");
    assert.equal(await f, "done");
    f.release();
  });

  // Dask: test_client.py::test_add_done_callback
  await t.step("test_add_done_callback", async () => {
    const seen = new Map<string, string>();
    const cb = (name: string) => (f: Future) => seen.set(name, f.status);
    const ok = c.submit(inc, 1000);
    const bad = c.submit(throws, 1000);
    const slow = c.submit(blockOn, "done-callback");
    ok.addDoneCallback(cb("ok"));
    bad.addDoneCallback(cb("bad"));
    slow.addDoneCallback(cb("slow"));
    await wait([ok, bad]);
    await until(() => seen.size === 2, "two callbacks");
    assert.deepEqual(Object.fromEntries(seen), { ok: "finished", bad: "error" });
    await c.publishDataset("done-callback", 1);
    await until(() => seen.has("slow"), "the slow callback");
    assert.equal(seen.get("slow"), "finished");
    ok.addDoneCallback(cb("after")); // added after completion: fires too
    await until(() => seen.has("after"), "the late callback");
    assert.equal(seen.get("after"), "finished");
    c.release([ok, bad, slow]);
  });

  // Dask: test_client.py::test_async_task
  await t.step("test_async_task", async () => {
    const f = c.submit(async (x: number) => {
      await Promise.resolve();
      return x + 1;
    }, 10);
    assert.equal(await f, 11);
    f.release();
  });

  // Dask: test_as_completed.py::test_as_completed_add / test_as_completed_update /
  // test_as_completed_is_empty (next_batch has no dtask counterpart)
  await t.step("test_as_completed_add / test_as_completed_is_empty", async () => {
    const ac = asCompleted<number>();
    assert.ok(ac.isEmpty());
    const total = 10;
    const first = c.map(inc, [0, 1, 2, 3, 4]);
    for (const f of first) ac.add(f);
    assert.equal(ac.count(), 5);
    assert.ok(!ac.isEmpty());
    const seen: Future<number>[] = [];
    let added = false;
    // (TypeScript may type `for await` items as awaited; the iterator yields the Futures)
    for await (const f of ac as AsyncIterable<unknown>) {
      seen.push(f as Future<number>);
      if (!added) { // new futures added while iterating are yielded too
        added = true;
        for (const g of c.map(inc, [5, 6, 7, 8, 9])) ac.add(g);
      }
    }
    assert.equal(seen.length, total);
    assert.equal(new Set(seen.map((f) => f.key)).size, total); // each once
    assert.deepEqual((await c.gather(seen)).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(ac.isEmpty());
    c.release(seen);
  });

  // Dask: test_as_completed.py::test_as_completed_with_results (raise_errors=True; dtask has no
  // raise_errors=False)
  await t.step("test_as_completed_with_results", async () => {
    const x = c.submit(blockOn, "ac-results");
    const y = c.submit(throws, 1);
    const got: [Future, unknown][] = [];
    const iterate = async () => {
      for await (const pair of asCompleted<unknown>([x, y], { withResults: true })) got.push(pair);
    };
    await assert.rejects(iterate(), { message: "hello!" });
    await c.publishDataset("ac-results", 1);
    assert.equal(await x, 1);
    c.release([x, y]);
  });

  // Dask: test_as_completed.py::test_as_completed_cancel (the duplicate part; cancelling is
  // ported with cancel) — as_completed([x, y, x]) yields x twice
  await t.step("test_as_completed_cancel (duplicates)", async () => {
    const x = c.submit(inc, 500), y = c.submit(inc, 501);
    const keys: string[] = [];
    // (TypeScript types `for await` items as awaited; the iterator yields the Futures)
    for await (const f of asCompleted([x, y, x]) as AsyncIterable<unknown>) {
      keys.push((f as Future).key);
    }
    assert.deepEqual(keys.sort(), [x.key, x.key, y.key].sort());
    c.release([x, y]);
  });

  // Dask: test_client.py::test_scheduler_info / test_wait_for_workers
  await t.step("test_scheduler_info / test_wait_for_workers", async () => {
    const info = await c.schedulerInfo();
    assert.equal(Object.keys(info.workers).length, 2);
    assert.deepEqual(
      Object.fromEntries(Object.entries(info.workers).map(([a, w]) => [a, w.nthreads])),
      { [cl.a.address]: 1, [cl.b.address]: 2 },
    );
    const three = c.waitForWorkers(3);
    await cl.addWorker();
    await three;
    assert.equal(Object.keys(await c.nthreads()).length, 3);
    await assert.rejects(
      c.waitForWorkers(10, { timeout: 1 }),
      (e: Error) =>
        e instanceof TimeoutError && /3 of 10/.test(e.message) && /1 ms/.test(e.message),
    );
  });
});
