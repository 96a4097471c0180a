// Dask scenarios §5.3 (errors and tracebacks), ported through the public API on a gen_cluster:
// a scheduler in this process, worker a (1 thread) and worker b (2 threads).
import assert from "node:assert/strict";
import { type Client, SerializationError } from "../../mod.ts";
import { blockOn, genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;
const add = (x: number, y: number) => x + y;
const throws = (_x: unknown) => {
  throw new Error("hello!");
};
/** Dask's div: JavaScript's 1 / 0 is Infinity, so division by zero throws here. */
function div(x: number, y: number): number {
  if (y === 0) throw new RangeError("division by zero");
  return x / y;
}

/**
 * Dask's `varying([E("one"), E("two"), 42])`: the i-th call in this thread throws or returns
 * the i-th item. Tasks using it run on worker a (one thread), so calls share the counter.
 */
function varying(tag: string): number {
  const g = globalThis as unknown as Record<string, number>;
  const n = (g[`varying:${tag}`] = (g[`varying:${tag}`] ?? 0) + 1);
  if (n === 1) throw new Error("one");
  if (n === 2) throw new Error("two");
  return 42;
}

async function runs(c: Client, key: string): Promise<number> {
  return (await c.getTaskStream()).filter((r) => r.key === key).length;
}

Deno.test("dask §5.3 errors and tracebacks", async (t) => {
  await using cl = await genCluster();
  const { s, c, a } = cl;

  // Dask: test_client.py::test_exceptions
  await t.step("test_exceptions", async () => {
    const x = c.submit(div, 1, 2);
    assert.equal(await x, 0.5);
    const y = c.submit(div, 1, 0);
    await assert.rejects(y.result(), { name: "RangeError", message: "division by zero" });
    const z = c.submit(inc, 1000); // later submissions still work
    assert.equal(await z, 1001);
    c.release([x, y, z]);
  });

  // Dask: test_client.py::test_errors_dont_block — on a one-thread worker
  await t.step("test_errors_dont_block", async () => {
    const onA = c.with({ workers: a.address });
    const L = [
      onA.submit(inc, 1),
      onA.submit(throws, 1),
      onA.submit(inc, 2),
      onA.submit(throws, 2),
    ];
    await until(() => L.every((f) => f.done()), "all four settled");
    assert.deepEqual(L.map((f) => f.status), ["finished", "error", "finished", "error"]);
    assert.deepEqual(await c.gather([L[0], L[2]]), [2, 3]);
    c.release(L);
  });

  // Dask: test_client.py::test_traceback / test_gather_traceback — the remote traceback names
  // the user function that failed (JavaScript stacks list functions and lines, not source text)
  await t.step("test_traceback / test_gather_traceback", async () => {
    const x = c.submit(div, 1, 0);
    const tb = await x.traceback();
    assert.ok(tb !== null);
    assert.match(tb, /\bdiv\b/);
    const e = await c.gather([x]).then(() => null, (e) => e);
    assert.equal(e?.name, "RangeError");
    assert.match(e.remoteStack, /\bdiv\b/);
    x.release();
  });

  // Dask: test_worker.py::test_chained_error_message — `raise A from B`: the cause comes along
  await t.step("test_chained_error_message", async () => {
    const f = c.submit(function chain(x: number) {
      try {
        throw new RangeError(`B ${x}`);
      } catch (b) {
        throw new Error(`A ${x}`, { cause: b });
      }
    }, 1);
    const e: any = await f.exception();
    assert.equal(e.message, "A 1");
    assert.ok(e.cause, "the cause is kept");
    assert.match(String(e.cause.message ?? e.cause), /B 1/);
    f.release();
  });

  // Dask: test_client.py::test_gather_strict / test_gather_skip
  await t.step("test_gather_strict / test_gather_skip", async () => {
    const ok = c.submit(inc, 2000);
    const bad = c.submit(throws, 2000);
    await assert.rejects(c.gather([ok, bad]), { message: "hello!" });
    const errors: unknown[] = [];
    const orig = console.error;
    console.error = (...args: unknown[]) => void errors.push(args); // "logs nothing"
    try {
      assert.deepEqual(await c.gather([ok, bad], { errors: "skip" }), [2001]);
    } finally {
      console.error = orig;
    }
    assert.deepEqual(errors, []);
    c.release([ok, bad]);
  });

  // Dask: test_client.py::test_get_returns_early / test_get_stops_work_after_error (their
  // gather, with submit instead of get): gathering [throws, block] raises at once, while the
  // blocked task still runs; released, both are forgotten and nothing is left processing
  await t.step("test_get_returns_early (gather)", async () => {
    const x = c.submit(throws, 3000);
    const y = c.submit(blockOn, "returns-early");
    await assert.rejects(c.gather([x, y]), { message: "hello!" });
    await assert.rejects(c.gather([y, x]), { message: "hello!" });
    assert.equal(y.status, "pending");
    c.release([x, y]);
    await until(
      () => !schedulerState(s).tasks.has(x.key) && !schedulerState(s).tasks.has(y.key),
      "both forgotten",
    );
    await until(() => s.view().workers.every((w) => w.processing === 0), "nothing processing");
    await c.publishDataset("returns-early", 0); // the released task still holds its thread
    const z = c.submit(inc, 3000);
    assert.equal(await z, 3001);
    z.release();
  });

  // Dask: test_client.py::test_if_intermediates_clear_on_error — only z held
  await t.step("test_if_intermediates_clear_on_error", async () => {
    const x = c.submit(div, 1, 0);
    const y = c.submit(div, 1, 2);
    const z = c.submit(add, x, y);
    x.release();
    y.release();
    await assert.rejects(z.result(), { message: "division by zero" });
    await until(
      () => [...schedulerState(s).tasks.values()].every((ts) => !ts.whoHas?.size),
      "no task with data in memory",
    );
    assert.deepEqual(Object.values(await c.hasWhat()).flat(), []);
    z.release();
  });

  // Dask: test_scheduler.py::test_dont_recompute_if_erred — the same erred call again (from
  // this client, and from another one) raises the same error without running again
  await t.step("test_dont_recompute_if_erred", async () => {
    const x = c.submit(div, 7, 0);
    await x.exception();
    const again = c.submit(div, 7, 0);
    await assert.rejects(again.result(), { message: "division by zero" });
    const c2 = await cl.client();
    const other = c2.submit(div, 7, 0);
    assert.equal(other.key, x.key);
    await assert.rejects(other.result(), { message: "division by zero" });
    assert.equal(await runs(c, x.key), 1);
    c.release([x, again]);
    other.release();
  });

  // Dask: test_scheduler.py::test_retries / test_client.py::test_map_retries
  await t.step("test_retries / test_map_retries", async () => {
    const onA = (retries: number) => c.with({ workers: a.address, retries });
    assert.equal(await onA(3).submit(varying, "r3"), 42);
    await assert.rejects(onA(1).submit(varying, "r1").result(), { message: "two" });
    await assert.rejects(onA(0).submit(varying, "r0").result(), { message: "one" });
    // retries apply per task in map
    const L = onA(3).map(varying, ["m1", "m2", "m3"]);
    assert.deepEqual(await c.gather(L), [42, 42, 42]);
    const L1 = onA(1).map(varying, ["n1", "n2"]);
    await until(() => L1.every((f) => f.done()), "the map with retries=1 settled");
    for (const f of L1) assert.equal((await f.exception())?.message, "two");
  });

  // Dask: test_client.py::test_robust_unserializable — an argument that can't be encoded
  // fails at submit on the client; later work still runs on both workers (the
  // undeserializable half has no JavaScript counterpart: what encodes, decodes)
  await t.step("test_robust_unserializable", async () => {
    assert.throws(() => c.submit(inc, (() => 1) as unknown as number), SerializationError);
    assert.throws(() => c.submit(inc, Symbol("x") as unknown as number), SerializationError);
    const L = [cl.a, cl.b].map((w) => c.with({ workers: w.address, pure: false }).submit(inc, 1));
    assert.deepEqual(await c.gather(L), [2, 2]);
    c.release(L);
  });

  // Dask: test_worker_memory.py::test_fail_to_pickle_execute_1 — a result that can't be
  // encoded ends in status "error" naming the problem; the worker keeps working (no spill
  // here: the value fails to encode as it leaves the task)
  await t.step("test_fail_to_pickle_execute_1", async () => {
    const x = c.with({ workers: a.address }).submit(function unencodable() {
      return { f: () => 1 };
    });
    const e = await x.exception();
    assert.equal(x.status, "error");
    assert.ok(e, "an error");
    assert.match(e.message, /function|encode|serializ/i);
    const y = c.with({ workers: a.address }).submit(inc, 1);
    assert.equal(await y, 2);
    c.release([x, y]);
  });
});
