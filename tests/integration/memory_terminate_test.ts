// The nanny restarts a worker process past memoryTerminate (Dask's NannyMemoryManager): a task
// that keeps taking memory kills every worker it runs on, and ends in a KilledWorker that says
// the worker exceeded its memory budget; the scheduler logs why, and the cluster carries on.
import assert from "node:assert/strict";
import { Client, KilledWorker, LocalCluster } from "../../mod.ts";
import { until } from "./helpers.ts";

Deno.test("past memoryTerminate the nanny restarts the worker; a task that keeps doing it errs with KilledWorker", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: true,
    memoryLimit: "300MiB",
    allowedFailures: 1,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const hog = client.with({ key: "hog-1" }).submit(async () => {
    const held: Uint8Array[] = []; // resident: every chunk is written to
    for (let mib = 0; mib < 1024; mib += 50) {
      held.push(new Uint8Array(50 * 2 ** 20).fill(1));
      await new Promise((r) => setTimeout(r, 150));
    }
    return held.length;
  });
  const e = await hog.then(() => null, (e) => e);
  assert.ok(e instanceof KilledWorker, String(e));
  assert.match(e.message, /'hog-1' on 2 different workers/);
  assert.match(e.message, /exceeded 95% memory budget \(RSS \d+ MiB of 300 MiB\)/);

  const restarts = async () =>
    (await client.getEvents("all")).map(([, m]) => m as Record<string, unknown>)
      .filter((m) => m.action === "worker-restart-memory");
  await until(async () => (await restarts()).length === 2, "two worker-restart-memory events");
  for (const m of await restarts()) {
    assert.match(String(m.worker), /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.match(String(m.how), /memory budget.*killed by its nanny/);
  }
  // the nanny started a fresh worker process, which runs the next task
  assert.equal(await client.submit((x: number) => x * 2, 21), 42);
  // spawned as Dask's nanny spawns them: glibc trims freed memory early
  assert.equal(await client.submit(() => Deno.env.get("MALLOC_TRIM_THRESHOLD_")), "65536");
});
