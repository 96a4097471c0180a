// Semaphore through the public API on real clusters: lease counts and timeouts, errors at the
// call, leases of a SIGKILLed worker's task coming back at once, of a worker thread's tasks,
// and the semaphore metrics in /metrics.
import assert from "node:assert/strict";
import {
  Client,
  getClient,
  KilledWorker,
  LeaseError,
  LocalCluster,
  Lock,
  Semaphore,
} from "../../mod.ts";
import { alive, until } from "./helpers.ts";

const quiet = { dashboardAddress: null, silenceLogs: true } as const;

// dask: test_semaphore.py::test_semaphore_trivial, test_release_once_too_many
Deno.test("Semaphore(2) gives 2 leases; the third acquire times out until one comes back", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, processes: false });
  await using client = await Client.connect(cluster);
  const sem = new Semaphore(2, "s", { client });
  assert.equal(await sem.getValue(), 0);
  assert.equal(await sem.acquire(), true);
  assert.equal(await sem.acquire({ timeout: 1000 }), true);
  assert.equal(await sem.getValue(), 2);
  const other = new Semaphore(2, "s", { client });
  assert.equal(await other.acquire({ timeout: 100 }), false);
  assert.equal(await other.acquire({ timeout: 0 }), false);
  const waiting = other.acquire({ timeout: 30_000 });
  await sem.release();
  assert.equal(await waiting, true);
  assert.equal(await sem.getValue(), 2);
  await sem.release();
  await assert.rejects(sem.release(), (e: Error) => {
    assert.ok(e instanceof LeaseError, String(e));
    assert.match(e.message, /released too often/);
    return true;
  });
  await other.release();
  assert.equal(await sem.getValue(), 0);
  // the default: one lease, a random name
  const one = new Semaphore(undefined, undefined, { client });
  assert.equal(one.maxLeases, 1);
  assert.match(one.name, /^semaphore-[0-9a-f]{32}$/);
});

Deno.test("Semaphore: bad input fails at the call with a clear error; the scheduler serves on", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, processes: false });
  await using client = await Client.connect(cluster);
  for (const bad of [0, -1, 1.5, NaN, Infinity, "2"]) {
    assert.throws(() => new Semaphore(bad as never, "s", { client }), /maxLeases must be a whole/);
  }
  const sem = new Semaphore(2, "s", { client });
  await assert.rejects(sem.acquire({ timeout: "1s" as never }), /timeout must be a number/);
  await assert.rejects(sem.acquire({ timeout: -5 }), TypeError);
  await assert.rejects(sem.acquire({ blocking: false } as never), /no blocking option/);
  assert.throws(() => new Semaphore(1, "s", { client: {} as never }), /must be a Client/);
  // the same name with another maxLeases: the scheduler refuses it, clearly
  assert.equal(await sem.acquire(), true);
  const three = new Semaphore(3, "s", { client });
  await assert.rejects(three.acquire(), /"s" exists with maxLeases 2, not 3/);
  await assert.rejects(three.getValue(), LeaseError);
  assert.equal(await sem.getValue(), 1);
  await sem.release();
  assert.equal(await client.submit((x: number) => x * 2, 21), 42);
});

// dask: test_semaphore.py::test_worker_dies (there the lease expires after its timeout; here at once)
Deno.test("a lease held by a task on a SIGKILLed worker comes back, so another acquire succeeds", async () => {
  await using cluster = await LocalCluster.start({
    ...quiet,
    nWorkers: 2,
    threadsPerWorker: 1,
    allowedFailures: 0, // the holder is not run again elsewhere
  });
  await using client = await Client.connect(cluster);
  const sem = new Semaphore(1, "db", { client });
  const holds = client.submit(async (s: Semaphore) => {
    await s.acquire();
    getClient().logEvent("holder", Deno.pid);
    await new Promise(() => {}); // holds it until its worker dies
  }, sem);
  await until(async () => (await client.getEvents("holder")).length === 1, "the task to hold it");
  const [[, pid]] = await client.getEvents("holder") as [number, number][];
  assert.ok(cluster.workerPids.includes(pid), "a worker process holds the lease");
  assert.equal(await sem.getValue(), 1);
  assert.equal(await sem.acquire({ timeout: 0 }), false);
  Deno.kill(pid, "SIGKILL");
  await until(() => !alive(pid), "the killed process to be gone");
  // well within the client grace period (30 s) the in-task client would otherwise keep it for
  assert.equal(await sem.acquire({ timeout: 10_000 }), true);
  assert.equal(await sem.getValue(), 1);
  await sem.release();
  const e = await holds.then(() => null, (e) => e);
  assert.ok(e instanceof KilledWorker, String(e));
});

Deno.test("a lock held by a task on a SIGKILLed worker is released at once", async () => {
  await using cluster = await LocalCluster.start({
    ...quiet,
    nWorkers: 1,
    threadsPerWorker: 1,
    allowedFailures: 0,
  });
  await using client = await Client.connect(cluster);
  const holds = client.submit(async () => {
    await new Lock("held-by-task").acquire();
    getClient().logEvent("holder", Deno.pid);
    await new Promise(() => {});
  });
  await until(async () => (await client.getEvents("holder")).length === 1, "the task to hold it");
  const [[, pid]] = await client.getEvents("holder") as [number, number][];
  const lock = new Lock("held-by-task", { client });
  assert.equal(await lock.locked(), true);
  Deno.kill(pid, "SIGKILL");
  assert.equal(await lock.acquire({ timeout: 10_000 }), true);
  await lock.release();
  assert.ok(await holds.then(() => null, (e) => e) instanceof KilledWorker);
});

Deno.test("semaphore metrics appear in /metrics with Dask's names, prefixed dtask_", async () => {
  await using cluster = await LocalCluster.start({
    silenceLogs: true,
    nWorkers: 1,
    processes: false,
    dashboardAddress: ":0",
  });
  await using client = await Client.connect(cluster);
  const sem = new Semaphore(3, "pool", { client });
  assert.equal(await sem.acquire(), true);
  assert.equal(await sem.acquire(), true);
  await sem.release();
  const base = cluster.dashboardLink!.replace(/\/status$/, "");
  const metrics = await (await fetch(`${base}/metrics`)).text();
  const expected: [string, string, number][] = [
    ["max_leases", "gauge", 3],
    ["active_leases", "gauge", 1],
    ["pending_leases", "gauge", 0],
    ["acquire_total", "counter", 2],
    ["release_total", "counter", 1],
    ["average_pending_lease_time_s", "gauge", 0],
  ];
  for (const [name, type, value] of expected) {
    assert.match(metrics, new RegExp(`^# HELP dtask_semaphore_${name} \\S`, "m"));
    assert.match(metrics, new RegExp(`^# TYPE dtask_semaphore_${name} ${type}$`, "m"));
    const sample = new RegExp(`^dtask_semaphore_${name}\\{name="pool"\\} ([\\d.e-]+)$`, "m");
    const got = metrics.match(sample);
    assert.ok(got, `dtask_semaphore_${name}{name="pool"} in:\n${metrics}`);
    if (name === "average_pending_lease_time_s") assert.ok(Number(got[1]) < 1);
    else assert.equal(Number(got[1]), value, name);
  }
  await sem.release();
});
