// cluster.adapt() on real LocalClusters: it grows under queued work, shrinks back to the
// minimum once the work is done (retiring idle workers gracefully), and scale(n) stops it.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { until } from "./helpers.ts";

const slow = async (x: number) => {
  await new Promise((r) => setTimeout(r, 50));
  return x * 2;
};

function start(processes: boolean) {
  return LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes,
    dashboardAddress: null,
    silenceLogs: true,
  });
}

Deno.test("adapt grows under 200 tasks and shrinks back to the minimum after them", async () => {
  await using cluster = await start(false);
  await using client = await Client.connect(cluster);
  const adaptive = cluster.adapt({ minimum: 1, maximum: 4, interval: 100 });
  let most = cluster.workers.length;
  const futures = client.map(slow, Array.from({ length: 200 }, (_, i) => i));
  const results = client.gather(futures);
  await until(
    () => {
      most = Math.max(most, cluster.workers.length);
      return most > 1;
    },
    "the cluster to grow past one worker",
    60_000,
  );
  assert.deepEqual(await results, Array.from({ length: 200 }, (_, i) => i * 2));
  await until(
    () => cluster.workers.length === 1,
    "the cluster to shrink back to one worker",
    60_000,
  );
  assert.ok(most <= 4, `never more than the maximum, saw ${most}`);
  // the data the retired workers held moved to the one left: nothing recomputed, nothing lost
  assert.deepEqual(await client.gather(futures), Array.from({ length: 200 }, (_, i) => i * 2));
  await adaptive.stop();
});

Deno.test("adapt with worker processes grows and shrinks; scale(n) stops it", async () => {
  await using cluster = await start(true);
  await using client = await Client.connect(cluster);
  cluster.adapt({ minimum: 1, maximum: 2, interval: 100, waitCount: 2 });
  const futures = client.map(slow, Array.from({ length: 60 }, (_, i) => i + 1000));
  await until(() => cluster.workerPids.length === 2, "a second worker process", 60_000);
  assert.deepEqual(
    await client.gather(futures),
    Array.from({ length: 60 }, (_, i) => 2000 + i * 2),
  );
  await until(() => cluster.workers.length === 1, "the second worker to retire", 60_000);
  await until(() => cluster.workerPids.length === 1, "its process to end");
  // scale(n) takes over: adapting stops, so the cluster stays at 3 although it is idle
  await cluster.scale(3);
  await new Promise((r) => setTimeout(r, 400)); // more than waitCount intervals
  assert.equal(cluster.workers.length, 3);
});

Deno.test("adapt with bad options throws and leaves the running loop adapting", async () => {
  await using cluster = await start(false);
  await using client = await Client.connect(cluster);
  const adaptive = cluster.adapt({ minimum: 1, maximum: 3, interval: 100 });
  assert.throws(() => cluster.adapt({ maximum: -1 }), TypeError);
  const futures = client.map(slow, Array.from({ length: 100 }, (_, i) => i + 5000));
  await until(() => cluster.workers.length > 1, "the first loop to grow the cluster");
  await client.gather(futures);
  await adaptive.stop();
});
