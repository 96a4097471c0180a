// A paused worker (as its memory monitor will pause it): the scheduler shows it paused, places
// nothing new there, logs the change, and sends work there again once it runs.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { schedulerState } from "../../scheduler/internals.ts";
import { recordWorkerActors, setWorkerPaused } from "../fixtures/worker_actors.ts";
import { until } from "./helpers.ts";

/** Dask's worker-status-change events under "all" for `worker`: its statuses, in order. */
async function statusChanges(client: Client, worker: string): Promise<string[]> {
  const all = await client.getEvents("all");
  return all.map(([, m]) => m as Record<string, unknown>)
    .filter((m) => m.action === "worker-status-change" && m.worker === worker)
    .map((m) => `${m["prev-status"]}->${m.status}`);
}

Deno.test("pause: shown as paused, new tasks go to the other worker; unpaused, it runs again", async () => {
  const recording = recordWorkerActors();
  try {
    await using cluster = await LocalCluster.start({
      nWorkers: 2,
      threadsPerWorker: 1,
      processes: false,
      dashboardAddress: null,
      silenceLogs: true,
    });
    await using client = await Client.connect(cluster);
    const [a, b] = cluster.workers.map((w) => w.address);
    await until(() => recording.actors.has(a) && recording.actors.has(b), "both workers' actors");
    const actorA = recording.actors.get(a)!;
    const status = async (w: string) => (await client.schedulerInfo()).workers[w].status;
    assert.equal(await status(a), "running");

    setWorkerPaused(actorA, true);
    await until(async () => (await status(a)) === "paused", "the scheduler to see a paused");
    assert.equal(await status(b), "running");
    const inputs = Array.from({ length: 20 }, (_, i) => i);
    const futures = client.map((x: number) => x * 2, inputs);
    assert.deepEqual(await client.gather(futures), inputs.map((x) => x * 2));
    for (const [key, holders] of Object.entries(await client.whoHas(futures))) {
      assert.deepEqual(holders, [b], `${key} ran on the running worker only`);
    }
    // a task only the paused worker may run waits for it
    const onA = client.with({ workers: a }).submit((x: number) => x + 1, 41);
    const state = schedulerState(cluster.scheduler);
    await until(() => state.tasks.get(onA.key)?.state === "no-worker", "the task to wait for a");

    setWorkerPaused(actorA, false);
    await until(async () => (await status(a)) === "running", "the scheduler to see a running");
    assert.equal(await onA.result(), 42, "unpaused, it runs the task that waited for it");
    assert.deepEqual(await client.whoHas(onA), { [onA.key]: [a] });
    assert.deepEqual(await statusChanges(client, a), ["running->paused", "paused->running"]);
    assert.deepEqual(await statusChanges(client, b), []);
  } finally {
    recording.stop();
  }
});
