// The root of the supervision tree: LocalCluster supervises its scheduler (DESIGN §4).
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;
const slowInc = async (x: number) => {
  await new Promise((r) => setTimeout(r, 200));
  return x + 1;
};

for (const processes of [false, true]) {
  Deno.test(`a scheduler that fails is replaced on the same address; workers and clients come back (processes: ${processes})`, async () => {
    await using cluster = await LocalCluster.start({
      nWorkers: 2,
      threadsPerWorker: 1,
      processes,
      dashboardAddress: null,
      silenceLogs: true,
    });
    await using client = await Client.connect(cluster);
    assert.equal(await client.submit(inc, 1), 2);
    const old = cluster.scheduler;
    const address = cluster.schedulerAddress;
    const pending = client.map(slowInc, [10, 20, 30]);
    // a transition no peer asked for throws: the scheduler fails as a whole
    schedulerState(old).balance = () => {
      throw new Error("injected scheduler failure");
    };
    await until(() => cluster.scheduler !== old, "a new scheduler");
    const fresh = cluster.scheduler;
    assert.equal(fresh.address, address, "the replacement listens where everyone looks");
    await fresh.waitForWorkers(2, 20_000);
    // the client reconnected and resubmitted what was pending
    assert.deepEqual(await client.gather(pending), [11, 21, 31]);
    assert.equal(await client.submit(inc, 41), 42);
    assert.equal(cluster.workers.length, 2);
  });
}

Deno.test("after a scheduler is replaced, pending tasks whose inputs had finished complete, and topic subscriptions carry over", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const seen: unknown[] = [];
  client.subscribeTopic("progress", ([, msg]) => void seen.push(msg));
  const leaves = client.map(inc, [1, 2, 3]);
  assert.deepEqual(await client.gather(leaves), [2, 3, 4]);
  // pending dependents of finished leaves; the new scheduler must compute the leaves again
  const total = client.submit(
    async (a: number, b: number, c: number) => {
      await new Promise((r) => setTimeout(r, 300));
      return a + b + c;
    },
    leaves[0],
    leaves[1],
    leaves[2],
  );
  const old = cluster.scheduler;
  schedulerState(old).balance = () => {
    throw new Error("injected scheduler failure");
  };
  await until(() => cluster.scheduler !== old, "a new scheduler");
  assert.equal(await total, 9);
  await until(async () => {
    await client.logEvent("progress", "after");
    return seen.includes("after");
  }, "an event published after the replacement");
});
