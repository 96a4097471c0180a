// A worker process gives a large value's memory back as soon as it drops it (it collects
// garbage then, in its main isolate and its threads), instead of whenever V8 next collects.
import assert from "node:assert/strict";
import { Client, getWorker, LocalCluster } from "../../mod.ts";
import { until } from "./helpers.ts";

Deno.test("a worker process returns a dropped 256 MB value's memory at once", async () => {
  const cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: true,
    dashboardAddress: null,
    silenceLogs: true,
  });
  try {
    const client = await Client.connect(cluster);
    try {
      const rss = async () => Object.values(await client.run(() => Deno.memoryUsage().rss))[0];
      const before = await rss();
      const big = client.submit((n: number) => new Uint8Array(n).fill(7), 256 * 2 ** 20);
      assert.equal(await client.submit((b: Uint8Array) => b[12345], big), 7);
      const held = await rss();
      assert.ok(held - before > 200 * 2 ** 20, `the value is not resident (${held - before} B)`);
      big.release();
      // an idle worker would otherwise keep it until V8 happens to collect
      await until(
        async () => (await rss()) < held - 200 * 2 ** 20,
        "the memory to be returned",
        10_000,
      );
    } finally {
      await client.close();
    }
  } finally {
    await cluster.close();
  }
});

Deno.test("a worker process gets its cluster's memory thresholds, as getWorker().memory shows", async () => {
  const MiB = 2 ** 20;
  // a worker process must accept the --local-directory its nanny passes, or it does not start
  const local = await Deno.makeTempDir({ prefix: "dtask-local-" });
  try {
    for (const processes of [true, false]) {
      const cluster = await LocalCluster.start({
        nWorkers: 1,
        threadsPerWorker: 1,
        processes,
        dashboardAddress: null,
        silenceLogs: true,
        memoryLimit: "400MiB",
        memoryPause: false,
        memoryTarget: 0.5,
        maxSpill: "1GiB",
        localDirectory: local,
      });
      try {
        const client = await Client.connect(cluster);
        try {
          const [pid, memory] = await client.submit(() => [Deno.pid, getWorker().memory]);
          assert.equal(pid !== Deno.pid, processes, "where the task ran");
          assert.deepEqual(memory, {
            limit: 400 * MiB,
            target: 200 * MiB,
            spill: Math.floor(0.7 * 400 * MiB),
            pause: null,
            terminate: Math.floor(0.95 * 400 * MiB),
            maxSpill: 2 ** 30,
          });
        } finally {
          await client.close();
        }
      } finally {
        await cluster.close();
      }
    }
  } finally {
    await Deno.remove(local, { recursive: true });
  }
});
