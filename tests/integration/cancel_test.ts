// cancel, retry and fireAndForget through the public API.
import assert from "node:assert/strict";
import { CancelledError, Client, fireAndForget, ref, task } from "../../mod.ts";
import { blockUntil, gate, miniCluster } from "./graph_fixtures.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;

// dask: test_client.py::test_cancel — x cancelled while y depends on it: both cancelled,
// the scheduler ends with no tasks.
Deno.test("test_cancel: cancelling x cancels its dependent y; the scheduler drains", async () => {
  await using c = await miniCluster();
  await using g = await gate();
  await using client = await Client.connect(c.s.address);
  const x = client.submit(blockUntil, g.path, 1);
  const y = client.submit(inc, x);
  await client.cancel([x]);
  assert.equal(x.status, "cancelled");
  assert.ok(x.cancelled());
  assert.match(String(x), /cancelled/);
  await assert.rejects(
    x.result(),
    (e: unknown) => e instanceof CancelledError && /blockUntil-/.test((e as Error).message),
  );
  await assert.rejects(y.result(), CancelledError);
  assert.equal(y.status, "cancelled");
  await until(() => schedulerState(c.s).tasks.size === 0, "the scheduler to drop x and y");
  await g.open();
  // gather on cancelled futures raises, or skips them
  await assert.rejects(client.gather([x, y]), CancelledError);
  const ok = client.submit(inc, 41);
  assert.deepEqual(await client.gather([x, ok, y], { errors: "skip" }), [42]);
});

// dask: after cancel the client no longer holds the key: the same pure call runs again.
Deno.test("a cancelled pure key submitted again is computed again", async () => {
  await using c = await miniCluster([1]);
  await using client = await Client.connect(c.s.address);
  const count = (id: string) => {
    const g = globalThis as unknown as Record<string, number>;
    return g[id] = (g[id] ?? 0) + 1;
  };
  const id = `c${Math.random()}`;
  const a = client.submit(count, id);
  assert.equal(await a, 1);
  await a.cancel();
  assert.equal(a.status, "cancelled");
  const b = client.submit(count, id);
  assert.equal(b.key, a.key);
  assert.equal(await b, 2);
  assert.equal(a.status, "cancelled"); // the old Future stays cancelled
});

// dask: test_client.py::test_cancel_multi_client — only this client's interest is dropped.
Deno.test("test_cancel_multi_client: cancelling in one client leaves the other's result", async () => {
  await using c = await miniCluster();
  await using g = await gate();
  await using c1 = await Client.connect(c.s.address);
  await using c2 = await Client.connect(c.s.address);
  const x = c1.submit(blockUntil, g.path, 2);
  const y = c2.submit(blockUntil, g.path, 2);
  assert.equal(x.key, y.key);
  await until(
    () => schedulerState(c.s).tasks.get(x.key)?.wantCount === 2,
    "both clients to want x",
  );
  await x.cancel();
  await assert.rejects(x.result(), CancelledError);
  await g.open();
  assert.equal(await y, 2);
  // force: cancelled for every client
  const z1 = c1.submit(blockUntil, g.path + ".never", 3);
  const z2 = c2.submit(blockUntil, g.path + ".never", 3);
  await until(
    () => schedulerState(c.s).tasks.get(z1.key)?.wantCount === 2,
    "both clients to want z",
  );
  await c1.cancel(z1, { force: true });
  await assert.rejects(z2.result(), CancelledError);
  assert.equal(z2.status, "cancelled");
  await until(() => schedulerState(c.s).tasks.size === 1, "only y to remain"); // c2 still holds y
});

// dask: test_client.py::test_submit_on_cancelled_future
Deno.test("test_submit_on_cancelled_future: a task on a cancelled Future raises CancelledError", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const x = client.submit(inc, 1);
  await x;
  await client.cancel(x);
  const y = client.submit(inc, x);
  await assert.rejects(y.result(), CancelledError);
});

// dask: test_client.py::test_retry / test_retry_dependencies
Deno.test("test_retry: future.retry() re-runs an erred task and its erred dependency", async () => {
  await using c = await miniCluster([1]);
  await using g = await gate();
  await using client = await Client.connect(c.s.address);
  const failUnless = async (path: string) => {
    try {
      await Deno.stat(path);
      return 10;
    } catch {
      throw new Error("not yet");
    }
  };
  const x = client.submit(failUnless, g.path);
  const y = client.submit(inc, x);
  await assert.rejects(y.result(), /not yet/);
  assert.equal(x.status, "error");
  await g.open();
  await y.retry();
  assert.equal(y.status, "pending");
  assert.equal(await y, 11);
  // x erred too; it is retried separately (its Future stays erred until then)
  assert.equal(x.status, "error");
  await client.retry([x]);
  assert.equal(await x, 10);
});

// dask: test_client.py::test_fire_and_forget — runs for its side effect with no Future held.
Deno.test("test_fire_and_forget: the task runs after its Future is released and its client closes", async () => {
  await using c = await miniCluster();
  await using g = await gate();
  const marker = `${g.path}.done`;
  const sideEffect = async (gatePath: string, out: string, dep: number) => {
    for (;;) {
      try {
        await Deno.stat(gatePath);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await Deno.writeTextFile(out, String(dep));
    return dep;
  };
  {
    await using client = await Client.connect(c.s.address);
    const dep = client.submit(inc, 1);
    const f = client.submit(sideEffect, g.path, marker, dep);
    fireAndForget(f);
    f.release();
    await dep;
    await until(() => schedulerState(c.s).tasks.has(f.key), "f to reach the scheduler");
  } // the client closes here
  await g.open();
  await until(async () => {
    try {
      return (await Deno.readTextFile(marker)) === "2";
    } catch {
      return false;
    }
  }, "the fire-and-forget task to write its file");
  await until(() => schedulerState(c.s).tasks.size === 0, "the scheduler to forget everything");
});

// dask: test_client.py::test_fire_and_forget_err — a failing one is cleared.
Deno.test("test_fire_and_forget_err: a failing fire-and-forget task is cleared", async () => {
  await using c = await miniCluster();
  await using client = await Client.connect(c.s.address);
  const boom = (x: number) => {
    if (x > 0) throw new Error("boom");
  };
  const f = client.submit(boom, 1);
  fireAndForget([f]);
  f.release();
  await until(() => schedulerState(c.s).tasks.size === 0, "the erred task to be forgotten");
});

// dask: test_scheduler.py::test_cancel_fire_and_forget — force cancel drains the scheduler.
Deno.test("test_cancel_fire_and_forget: force-cancel of a fire-and-forget graph", async () => {
  await using c = await miniCluster();
  await using g = await gate();
  await using client = await Client.connect(c.s.address);
  const z = client.compute({
    x: task(inc, 1),
    y: task(blockUntil, g.path, 2),
    z: task((a: number, b: number) => a + b, ref("x"), ref("y")),
  }, "z");
  fireAndForget(z);
  await until(() => schedulerState(c.s).tasks.get("y")?.state === "processing", "y to run");
  await z.cancel({ force: true });
  assert.equal(z.status, "cancelled");
  await until(() => schedulerState(c.s).tasks.size === 0, "the scheduler to drain");
  await g.open();
});
