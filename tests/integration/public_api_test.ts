// The public objects behave as ordinary JavaScript objects: turning a Client, a Future or a
// LocalCluster into a string neither throws nor leaves a rejected promise behind (Deno's test
// runner fails a test on an unhandled rejection, and a Deno program dies of one).
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";

/** Every way a template, a concatenation or a logger turns a value into a string. */
function stringify(x: object): string[] {
  return [String(x), x + "", `${x}`, `${[x]}`, (x as { valueOf(): unknown }).valueOf() + ""];
}

/** Lets pending microtasks and timers run, so that a stray rejection would surface here. */
function settle(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

Deno.test("String(client), client + '' and `${client}` are harmless, as for a Future and a LocalCluster", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const future = client.submit((x: number) => x + 1, 1);

  for (const x of [client, future, cluster]) {
    const strings = stringify(x);
    for (const s of strings) assert.equal(typeof s, "string");
    assert.equal(x.valueOf(), x, "valueOf is Object.prototype.valueOf: the object itself");
  }
  assert.match(String(future), /^<Future: (pending|finished), key: /);
  await settle();
  assert.equal(await future, 2);
  assert.match(`${future}`, /^<Future: finished, key: /);
  await settle();
});

Deno.test("console.log shows a Future's key and status, a Client's scheduler, a LocalCluster's shape", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const future = client.submit((x: number) => x + 1, 41);
  assert.equal(await future, 42);
  const shown = Deno.inspect(future);
  assert.equal(shown, `Future { key: ${JSON.stringify(future.key)}, status: "finished" }`);
  assert.doesNotMatch(shown, /client/, "the Future's client is not dumped");
  assert.match(Deno.inspect({ f: future }), /Future \{ key: "lambda-/);
  assert.equal(
    Deno.inspect(client),
    `Client { scheduler: ${JSON.stringify(client.schedulerAddress)}, status: "running", id: ` +
      `${JSON.stringify(client.id)} }`,
  );
  assert.equal(
    Deno.inspect(cluster),
    `LocalCluster { scheduler: ${JSON.stringify(cluster.schedulerAddress)}, workers: 2, ` +
      `threads: 2, dashboard: null }`,
  );
});

Deno.test("client.dashboardLink is the scheduler's dashboard, over inproc and tcp; null without one", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    processes: false,
    dashboardAddress: ":0",
  });
  assert.match(cluster.dashboardLink!, /^http:\/\/127\.0\.0\.1:\d+\/status$/);
  await using near = await Client.connect(cluster);
  assert.equal(near.dashboardLink, cluster.dashboardLink);
  await using far = await Client.connect(cluster.schedulerAddress);
  assert.equal(far.dashboardLink, cluster.dashboardLink);

  await using bare = await LocalCluster.start({
    nWorkers: 1,
    processes: false,
    dashboardAddress: null,
  });
  await using none = await Client.connect(bare);
  assert.equal(none.dashboardLink, null);
});
