// Dask scenarios §5.14 (lifecycle, cluster objects, admin) through the public API: LocalCluster
// options and scaling, closing clients (test_run / test_run_on_scheduler are in
// cluster_calls_test.ts).
import assert from "node:assert/strict";
import { Client, CommClosedError, LocalCluster, TimeoutError } from "../../mod.ts";
import { genCluster } from "./dask_cluster.ts";
import { until } from "./helpers.ts";
import { schedulerState } from "../../scheduler/internals.ts";

const inc = (x: number) => x + 1;
const quiet = { dashboardAddress: null, silenceLogs: true } as const;

// Dask: deploy/tests/test_local.py::test_simple / test_transports_inproc — processes=False: an
// in-process (inproc://) address, work runs, no worker process
Deno.test("dask §5.14 test_simple / test_transports_inproc", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 4, processes: false });
  assert.match(cluster.inprocAddress, /^inproc:\/\//);
  assert.deepEqual(cluster.workerPids, []);
  assert.equal(cluster.workers.length, 4);
  await using client = await Client.connect(cluster);
  assert.equal(await client.submit(inc, 1), 2);
});

// Dask: deploy/tests/test_local.py::test_procs — threads_per_worker=3 gives nthreads 3 per
// worker; processes=True gives workers managed by nannies, each its own process
Deno.test("dask §5.14 test_procs", async (t) => {
  await t.step("threadsPerWorker: 3 (in process)", async () => {
    await using cluster = await LocalCluster.start({
      ...quiet,
      nWorkers: 2,
      threadsPerWorker: 3,
      processes: false,
    });
    await using client = await Client.connect(cluster);
    assert.deepEqual(Object.values(await client.nthreads()), [3, 3]);
    assert.equal(await client.submit(inc, 1), 2);
  });
  await t.step("processes: true", async () => {
    await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 1 });
    await using client = await Client.connect(cluster);
    const pids = cluster.workerPids;
    assert.equal(pids.length, 2);
    assert.equal(new Set(pids).size, 2);
    assert.ok(!pids.includes(Deno.pid));
    assert.deepEqual(new Set(Object.values(await client.run(() => Deno.pid))), new Set(pids));
    assert.deepEqual(await client.gather(client.map(inc, [1, 2, 3])), [2, 3, 4]);
  });
});

// Dask: deploy/tests/test_local.py::test_defaults / test_worker_params — by default the total
// threads equal the cores and workers are processes; memoryLimit applies per worker
Deno.test("dask §5.14 test_defaults / test_worker_params", async (t) => {
  await t.step("defaults", async () => {
    await using cluster = await LocalCluster.start(quiet);
    await using client = await Client.connect(cluster);
    const nthreads = Object.values(await client.nthreads());
    const cores = navigator.hardwareConcurrency || 1;
    // cores / nWorkers threads each, floored: at most the cores, and every worker busy
    assert.equal(nthreads.length, cores);
    assert.equal(nthreads.reduce((a, b) => a + b, 0), cores);
    assert.equal(cluster.workerPids.length, nthreads.length);
  });
  await t.step("memoryLimit: 500 per worker", async () => {
    await using cluster = await LocalCluster.start({
      ...quiet,
      nWorkers: 2,
      processes: false,
      memoryLimit: 500,
    });
    await using client = await Client.connect(cluster);
    const info = await client.schedulerInfo();
    assert.deepEqual(Object.values(info.workers).map((w) => w.memoryLimit), [500, 500]);
    assert.deepEqual(cluster.workers.map((w) => w.memoryLimit), [500, 500]);
  });
});

// Dask: deploy/tests/test_local.py::test_scale_up_and_down
Deno.test("dask §5.14 test_scale_up_and_down", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 0, processes: false });
  await using client = await Client.connect(cluster);
  assert.equal(cluster.workers.length, 0);
  await cluster.scale(2);
  assert.equal(cluster.workers.length, 2);
  assert.equal(Object.keys((await client.schedulerInfo()).workers).length, 2);
  assert.equal(await client.submit(inc, 1), 2);
  await cluster.scale(1);
  await until(async () => Object.keys((await client.schedulerInfo()).workers).length === 1, "1");
  assert.equal(cluster.workers.length, 1);
  assert.equal(await client.submit(inc, 2), 3);
});

// Dask: test_client.py::test_async_with — a client with no target starts its own cluster and
// closes it with itself
Deno.test("dask §5.14 test_async_with", async () => {
  let address: string;
  let own: Client;
  {
    await using client = await Client.connect();
    own = client;
    address = client.schedulerAddress;
    assert.equal(client.status, "running");
    assert.equal(await client.submit(inc, 10), 11);
  }
  assert.equal(own.status, "closed");
  await assert.rejects(Client.connect(address, { timeout: 500 }), TimeoutError);
});

// Dask: test_client.py::test_status / test_close — a closed client refuses work; the scheduler
// drops the client and the tasks only it wanted
Deno.test("dask §5.14 test_status / test_close", async () => {
  await using cl = await genCluster();
  const { s } = cl;
  const c2 = await cl.client();
  assert.equal(c2.status, "running");
  const x = c2.submit(inc, 100);
  assert.equal(await x, 101);
  const kept = cl.c.submit(inc, 200); // the other client's task stays
  await kept;
  assert.equal(schedulerState(s).clients.size, 2);
  await c2.close();
  assert.equal(c2.status, "closed");
  assert.throws(() => c2.submit(inc, 1), CommClosedError);
  await until(() => schedulerState(s).clients.size === 1, "the scheduler dropped the client");
  await until(() => !schedulerState(s).tasks.has(x.key), "its task forgotten");
  assert.ok(schedulerState(s).tasks.has(kept.key));
  assert.equal(await kept, 201);
});
