// Publish/subscribe on event topics through the public API with a real LocalCluster: every
// client subscribed to a topic receives every event logged under it, whether a client logged it
// or a task did (getWorker().logEvent, getClient().logEvent).
import assert from "node:assert/strict";
import { Client, getClient, getWorker, LocalCluster, type TopicEventRecord } from "../../mod.ts";
import { until } from "./helpers.ts";

function start(processes = false) {
  return LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes,
    dashboardAddress: null,
    silenceLogs: true,
  });
}

/** Subscribes `client` to `topic`; the messages it receives, in order. */
async function subscribe(client: Client, topic: string): Promise<unknown[]> {
  const got: unknown[] = [];
  client.subscribeTopic(topic, ([time, msg]: TopicEventRecord) => {
    assert.ok(typeof time === "number" && time > 0);
    got.push(msg);
  });
  await client.getEvents(topic); // answered after the subscription is in place
  return got;
}

Deno.test("topics: two subscribed clients both receive every event a third client logs", async () => {
  await using cluster = await start();
  await using a = await Client.connect(cluster);
  await using b = await Client.connect(cluster);
  await using publisher = await Client.connect(cluster);
  const gotA = await subscribe(a, "news"), gotB = await subscribe(b, "news");
  const sent = ["one", { n: 2 }, [3, "three"], new Map([["four", 4]])];
  for (const msg of sent) publisher.logEvent("news", msg);
  publisher.logEvent(["news", "elsewhere"], "five"); // under several topics at once
  publisher.logEvent("elsewhere", "not news");
  const expected = [...sent, "five"];
  await until(() => gotA.length === 5 && gotB.length === 5, "five events at both subscribers");
  assert.deepEqual(gotA, expected);
  assert.deepEqual(gotB, expected);
  // the events are also kept
  assert.deepEqual((await publisher.getEvents("news")).map(([, m]) => m), expected);

  // a subscriber that leaves stops receiving; the other one goes on
  await a.close();
  publisher.logEvent("news", "after a left");
  await until(() => gotB.length === 6, "the event after a left");
  assert.equal(gotB[5], "after a left");
  assert.equal(gotA.length, 5);
});

Deno.test("topics: events logged inside tasks reach every subscriber", async () => {
  await using cluster = await start(true); // from worker processes

  await using a = await Client.connect(cluster);
  await using b = await Client.connect(cluster);
  const gotA = await subscribe(a, "progress"), gotB = await subscribe(b, "progress");
  // getWorker().logEvent: a plain object gets the worker's address
  const viaWorker = a.map((i: number) => {
    getWorker().logEvent("progress", { step: i });
    return i;
  }, [1, 2, 3]);
  // getClient().logEvent: the task's own client logs it
  const viaClient = b.map((i: number) => {
    getClient().logEvent("progress", `client step ${i}`);
    return i;
  }, [4, 5]);
  assert.deepEqual(await a.gather(viaWorker), [1, 2, 3]);
  assert.deepEqual(await b.gather(viaClient), [4, 5]);
  await until(() => gotA.length === 5 && gotB.length === 5, "five events at both subscribers");
  for (const got of [gotA, gotB]) {
    const steps = got.filter((m): m is { step: number; worker: string } =>
      typeof m === "object" && m !== null && "step" in m
    );
    assert.deepEqual(steps.map((m) => m.step).sort(), [1, 2, 3]);
    const workers = cluster.workers.map((w) => w.address);
    assert.ok(steps.every((m) => workers.includes(m.worker)), JSON.stringify(steps));
    assert.deepEqual(got.filter((m) => typeof m === "string").sort(), [
      "client step 4",
      "client step 5",
    ]);
  }
  // both saw them in the one order the scheduler recorded them
  assert.deepEqual(gotA, gotB);
});
