// Work stealing and FIFO generations through the public API, on real clusters: tasks piled on
// one worker (their input lives there) spread to an idle worker; strict restrictions hold;
// fifoTimeout keeps submissions in order.
import assert from "node:assert/strict";
import { Client, LocalCluster } from "../../mod.ts";
import { fifoTimeoutMs } from "../../client/fifo.ts";

const slowadd = async (i: number, x: number) => {
  await new Promise((r) => setTimeout(r, 100));
  return i + x;
};

/** Two one-thread workers; x lives on the first; n slow tasks that need x. */
async function pileOnFirst(
  options: { workStealing?: boolean; workers?: "strict" | "loose"; processes?: boolean } = {},
  n = 24,
): Promise<{ perWorker: number[]; sum: number }> {
  await using cluster = await LocalCluster.start({
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: options.processes ?? false,
    dashboardAddress: null,
    silenceLogs: true,
    workStealing: options.workStealing,
  });
  await using client = await Client.connect(cluster);
  const [a, b] = cluster.workers.map((w) => w.address);
  const x = client.with({ workers: a }).submit(() => 1);
  await x;
  const w = options.workers
    ? client.with({ workers: a, allowOtherWorkers: options.workers === "loose" })
    : client;
  const futures = w.map(slowadd, Array.from({ length: n }, (_, i) => i), Array(n).fill(x));
  const values = await client.gather(futures);
  const whoHas = await client.whoHas(futures);
  const perWorker = [a, b].map((addr) => futures.filter((f) => whoHas[f.key][0] === addr).length);
  return { perWorker, sum: values.reduce((s, v) => s + v, 0) };
}

const expectedSum = (n: number) => (n * (n - 1)) / 2 + n;

// Dask: test_steal.py::test_work_stealing — both workers end up with a share of the results
Deno.test("stealing: tasks piled on the worker holding their input spread to an idle one", async () => {
  // worker processes: steal-request and steal-response cross real TCP connections
  const { perWorker, sum } = await pileOnFirst({ processes: true });
  assert.equal(sum, expectedSum(24));
  assert.ok(perWorker[1] >= 4, `the idle worker took part of the work: ${perWorker}`);
  assert.ok(perWorker[0] >= 4, `the loaded worker kept part of it: ${perWorker}`);
});

// The control: without stealing, data locality keeps every task on the first worker.
Deno.test("stealing off (workStealing: false): everything stays where the input is", async () => {
  const { perWorker, sum } = await pileOnFirst({ workStealing: false });
  assert.equal(sum, expectedSum(24));
  assert.deepEqual(perWorker, [24, 0]);
});

// Dask: test_steal.py::test_dont_steal_worker_restrictions
Deno.test("stealing never moves a task off the workers it is restricted to", async () => {
  const { perWorker, sum } = await pileOnFirst({ workers: "strict" }, 12);
  assert.equal(sum, expectedSum(12));
  assert.deepEqual(perWorker, [12, 0]);
});

// Dask: test_steal.py::test_steal_cheap_data_slow_computation (pinned loosely)
Deno.test("stealing moves loosely restricted tasks", async () => {
  const { perWorker, sum } = await pileOnFirst({ workers: "loose" }, 12);
  assert.equal(sum, expectedSum(12));
  assert.ok(perWorker[1] >= 2, `the idle worker took part of the work: ${perWorker}`);
});

// Dask: test_steal.py::test_new_worker_steals — with queuing off every task is assigned up
// front; a worker that joins later takes some of them, and the results are right.
Deno.test("stealing: a worker that joins later takes part of the assigned work", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
    workerSaturation: Infinity,
  });
  await using client = await Client.connect(cluster);
  const n = 30;
  const futures = client.map(slowadd, Array.from({ length: n }, (_, i) => i), Array(n).fill(0));
  await client.waitForWorkers(1);
  await cluster.scale(2);
  const values = await client.gather(futures);
  assert.equal(values.reduce((s, v) => s + v, 0), (n * (n - 1)) / 2);
  const newcomer = cluster.workers[1].address;
  const hasWhat = await client.hasWhat();
  assert.ok(
    (hasWhat[newcomer]?.length ?? 0) > 0,
    `the new worker computed nothing: ${JSON.stringify(hasWhat)}`,
  );
});

// Dask: test_scheduler.py::test_fifo_submission — submissions further apart than fifoTimeout
// run in submission order: future 10 has finished by the time the last one has.
Deno.test("fifoTimeout: later submissions run after earlier ones", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  const c = client.with({ fifoTimeout: 10, pure: false });
  const futures = [];
  for (let i = 0; i < 20; i++) {
    futures.push(c.submit(async (x: number) => {
      await new Promise((r) => setTimeout(r, 20));
      return x + 1;
    }, i));
    await new Promise((r) => setTimeout(r, 20)); // pacing the submissions, not waiting
  }
  await futures[19];
  assert.equal(futures[10].status, "finished");
  assert.deepEqual(await client.gather(futures), Array.from({ length: 20 }, (_, i) => i + 1));
});

Deno.test("fifoTimeout: milliseconds or Dask's duration strings; nonsense is a TypeError", () => {
  assert.equal(fifoTimeoutMs(undefined), 100);
  assert.equal(fifoTimeoutMs(0), 0);
  assert.equal(fifoTimeoutMs("100ms"), 100);
  assert.equal(fifoTimeoutMs("60s"), 60_000);
  assert.equal(fifoTimeoutMs("1.5s"), 1500);
  assert.equal(fifoTimeoutMs("2m"), 120_000);
  assert.equal(fifoTimeoutMs(Infinity), Infinity);
  assert.throws(() => fifoTimeoutMs(-1), TypeError);
  assert.throws(() => fifoTimeoutMs("soon"), /fifoTimeout must be/);
});

Deno.test("fifoTimeout: client.with rejects a bad value at once", async () => {
  await using cluster = await LocalCluster.start({
    nWorkers: 1,
    threadsPerWorker: 1,
    processes: false,
    dashboardAddress: null,
    silenceLogs: true,
  });
  await using client = await Client.connect(cluster);
  assert.throws(() => client.with({ fifoTimeout: "later" }), TypeError);
  // Infinity and a string both reach the scheduler as valid update-graph messages
  const f = client.with({ fifoTimeout: Infinity }).submit((x: number) => x * 2, 21);
  const g = client.with({ fifoTimeout: "5s" }).submit((x: number) => x * 3, 7);
  assert.deepEqual(await client.gather([f, g]), [42, 21]);
});
