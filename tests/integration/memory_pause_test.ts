// A worker pauses for memory: with only memoryPause on, a thread that keeps 360 MiB in a global
// on a 400 MiB worker makes it `paused`; a new task is not sent there; client.restart() brings
// the worker back, running, and new work runs on it.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { until } from "./helpers.ts";

Deno.test("past memoryPause a worker is paused, gets no new task, and restart() brings it back", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: true,
    memoryLimit: "400MiB",
    memoryPause: 0.8,
    memoryTarget: false,
    memorySpill: false,
    memoryTerminate: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const status = async () => Object.values((await client.schedulerInfo()).workers)[0]?.status;
  assert.equal(await status(), "running");

  const hog = await client.submit(() => {
    (globalThis as { hog?: Uint8Array }).hog = new Uint8Array(360 * 2 ** 20).fill(1);
    return 360;
  });
  assert.equal(hog, 360);
  await until(async () => (await status()) === "paused", "the worker to pause");

  const next = client.submit((x: number) => x + 1, 1);
  // the scheduler decided where it goes: nowhere, while the only worker is paused
  await until(async () => (await client.story(next)).length > 0, "the scheduler to place it");
  const told = await client.story(next);
  assert.ok(
    told.every((e) => e.finish !== "processing"),
    `sent to a paused worker: ${JSON.stringify(told)}`,
  );
  assert.equal(next.status, "pending");

  await client.restart();
  await until(async () => (await status()) === "running", "the restarted worker to run");
  assert.equal(await client.submit((x: number) => x * 2, 21), 42);
});
