// Inside a task: getWorker(), getClient(), secede(), rejoin() — tasks launching tasks.
import assert from "node:assert/strict";
import {
  Client,
  DtaskError,
  getClient,
  getWorker,
  LocalCluster,
  rejoin,
  Scheduler,
  secede,
  wait,
  Worker,
} from "../../mod.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const opts = { dashboardAddress: null, silenceLogs: true } as const;

Deno.test("getWorker() inside a task describes its worker; outside a task it throws", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const w = await client.submit(function whereAmI() {
    const w = getWorker();
    return { address: w.address, name: w.name, nthreads: w.nthreads, key: w.key };
  });
  const [worker] = cluster.workers;
  assert.equal(w.address, worker.address);
  assert.equal(w.name, worker.name);
  assert.equal(w.nthreads, 1);
  assert.match(w.key, /^whereAmI-/);
  assert.throws(() => getWorker(), DtaskError);
  assert.throws(() => getClient(), /only inside a task/);
  assert.throws(() => secede(), /only inside a task/);
  await assert.rejects(rejoin(), /only inside a task/);
});

// Dask: test_client.py::test_secede_simple — on a 1-thread worker a task secedes, submits a
// task and waits for it: no deadlock.
Deno.test("test_secede_simple: a task on a one-thread worker secedes and waits for a subtask", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const r = await client.submit(async function parent() {
    secede();
    const c = getClient();
    return await c.submit((x: number) => x + 1, 1);
  });
  assert.equal(r, 2);
});

// Dask: test_worker_client.py::test_submit_from_worker — tasks submit tasks through the
// worker's client and gather nested results; waiting gives the slot back by itself (as
// worker_client does), so even a one-thread worker with several such parents does not deadlock.
Deno.test("test_submit_from_worker: parents gather their subtasks' results without secede()", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const parents = client.map(async function fanOut(n: number) {
    const c = getClient();
    const xs = c.map((i: number) => i * i, Array.from({ length: n }, (_, i) => i));
    const squares = await c.gather(xs);
    return squares.reduce((a: number, b: number) => a + b, 0);
  }, [3, 4, 5]);
  assert.deepEqual(await client.gather(parents), [5, 14, 30]);
});

// Dask: test_worker_client.py::test_worker_client_rejoins — after waiting, the task holds a
// slot again: rejoin() resolves and the task finishes normally; getClient() is one per thread.
Deno.test("test_worker_client_rejoins: secede, rejoin, and one client per thread", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const r = await client.submit(async function twice() {
    secede();
    const a = getClient();
    const x = await a.submit((v: number) => v * 2, 21);
    await rejoin();
    await rejoin(); // a second rejoin is a no-op
    return [x, getClient() === a, getWorker().key.startsWith("twice-")];
  });
  assert.deepEqual(r, [42, true, true]);
});

// Dask: test_client.py::test_sub_submit_priority — a task submitted from inside a task runs
// before its parent's siblings that still wait (here: queued behind a one-thread worker).
Deno.test("test_sub_submit_priority: subtasks run before the parent's later siblings", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const parent = client.submit(async function parent() {
    const c = getClient();
    const subs = c.map((i: number) => [i, performance.timeOrigin + performance.now()], [0, 1, 2]);
    return await c.gather(subs);
  });
  const siblings = client.map(async function sibling(i: number) {
    const t = performance.timeOrigin + performance.now();
    await new Promise((r) => setTimeout(r, 300));
    return [i, t];
  }, [0, 1, 2, 3, 4]);
  const subs = await parent;
  const started = (await client.gather(siblings)).map((x: number[]) => x[1]);
  const lastSub = Math.max(...subs.map((x: number[]) => x[1]));
  // only siblings that took a free slot before the subtasks arrived may start before them
  const before = started.filter((t: number) => t < lastSub).length;
  assert.ok(before <= 2, `siblings started before the subtasks: ${before}`);
});

Deno.test("in-task API works on workers in the cluster's process (processes: false)", async () => {
  await using cluster = await LocalCluster.start({
    ...opts,
    nWorkers: 2,
    threadsPerWorker: 1,
    processes: false,
  });
  await using client = await Client.connect(cluster);
  const r = await client.submit(async function nested(n: number) {
    const c = getClient();
    const inner = c.submit(async function inner(m: number) {
      const c2 = getClient();
      return (await c2.submit((x: number) => x + 1, m)) * 10;
    }, n);
    return [await inner, getWorker().address.startsWith("inproc://")];
  }, 4);
  assert.deepEqual(r, [50, true]);
});

// Dask: test_client.py::test_secede_balances — tasks that secede and submit children: the
// children spread over both workers, and every one runs.
Deno.test("test_secede_balances: children of seceded tasks spread over the workers", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 2, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const parents = client.map(async function parentTask(_i: number) {
    secede();
    const c = getClient();
    const kids = c.with({ pure: false }).map(async function child(j: number) {
      await new Promise((r) => setTimeout(r, 20));
      return [j, getWorker().address];
    }, [0, 1, 2, 3, 4]);
    const done = await c.gather(kids);
    return done.map((k) => k[1] as string);
  }, [0, 1, 2, 3]);
  const where = (await client.gather(parents)).flat();
  assert.equal(where.length, 20);
  assert.equal(new Set(where).size, 2, "children ran on both workers");
});

// Dask: test_worker_client.py::test_gather_multi_machine — only one extra client: one per
// worker thread, however many tasks use it.
Deno.test("test_gather_multi_machine: one client per worker thread", async () => {
  const scheduler = await Scheduler.start({ dashboardAddress: null });
  const worker = await Worker.start({
    scheduler: scheduler.address,
    nthreads: 1,
    silenceLogs: true,
  });
  try {
    await using client = await Client.connect(scheduler.address);
    const xs = client.map(async function viaClient(i: number) {
      const c = getClient();
      return await c.submit((x: number) => x * 3, i);
    }, [1, 2, 3, 4]);
    assert.deepEqual(await client.gather(xs), [3, 6, 9, 12]);
    assert.equal(schedulerState(scheduler).clients.size, 2, "this client and the thread's");
  } finally {
    await worker.close();
    await scheduler.close();
  }
});

Deno.test("wait() inside a task gives the slot back too: no deadlock on one thread", async () => {
  await using cluster = await LocalCluster.start({ ...opts, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const r = await client.submit(async function waits() {
    const c = getClient();
    const fs = c.map((x: number) => x + 100, [1, 2]);
    const { done, notDone } = await wait(fs);
    return [done.size, notDone.size];
  });
  assert.deepEqual(r, [2, 0]);
});
