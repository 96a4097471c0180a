// Dask scenarios §5.13 (tasks launching tasks) not already in in_task_test.ts, through the
// public API with real workers.
import assert from "node:assert/strict";
import { Client, getClient, LocalCluster } from "../../mod.ts";

// Dask: test_worker_client.py::test_timeout — worker_client(timeout=0) raises an
// OSError/TimeoutError family exception (here CommClosedError naming the timeout, once the
// in-task client is used); the next task on that thread gets a working client again
Deno.test("dask §5.13 test_timeout (worker_client)", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const sub = async function sub(timeout: number | undefined) {
    try {
      const c = getClient({ timeout });
      return { ok: await c.submit((x: number) => x + 1, 1) };
    } catch (e) {
      return { name: (e as Error).name, message: (e as Error).message };
    }
  };
  const failed = await client.submit(sub, 0);
  assert.ok(
    failed.name === "CommClosedError" || failed.name === "TimeoutError",
    `${failed.name}: ${failed.message}`,
  );
  assert.match(String(failed.message), /timed out/);
  assert.deepEqual(await client.submit(sub, undefined), { ok: 2 });
});
