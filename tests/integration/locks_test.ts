// Lock and MultiLock through the public API on real clusters: mutual exclusion across workers,
// timeouts, errors at the call, locks of a client that leaves, all-or-nothing MultiLocks, and
// locks made inside tasks and passed to them.
import assert from "node:assert/strict";
import {
  Client,
  getClient,
  getWorker,
  LeaseError,
  LocalCluster,
  Lock,
  MultiLock,
} from "../../mod.ts";
import { until } from "./helpers.ts";

const quiet = { dashboardAddress: null, silenceLogs: true } as const;

// dask: test_locks.py::test_lock (tasks on workers with several threads never hold it together)
Deno.test("8 tasks on 2 workers x 2 threads take a Lock and never interleave their critical sections", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 2, threadsPerWorker: 2 });
  await using client = await Client.connect(cluster);
  const critical = async (i: number) => {
    const lock = new Lock("x");
    await lock.acquire();
    const events = getClient();
    const start = Date.now(); // one clock for every process
    events.logEvent("critical", ["enter", i]);
    await new Promise((r) => setTimeout(r, 20));
    events.logEvent("critical", ["exit", i]);
    const end = Date.now();
    await lock.release();
    return [start, end, getWorker().address];
  };
  const spans = await client.gather(
    client.map(critical, [...Array(8).keys()]),
  ) as [number, number, string][];
  assert.equal(new Set(spans.map((s) => s[2])).size, 2, "both workers took part");
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    assert.ok(spans[i][0] >= spans[i - 1][1], `critical sections ${i - 1} and ${i} overlap`);
  }
  // the scheduler saw enter and exit alternate, each exit of the task that entered
  const log = (await client.getEvents("critical")).map(([, m]) => m as [string, number]);
  assert.equal(log.length, 16);
  for (let i = 0; i < log.length; i += 2) {
    assert.deepEqual([log[i][0], log[i + 1][0]], ["enter", "exit"]);
    assert.equal(log[i][1], log[i + 1][1]);
  }
  assert.equal(await new Lock("x", { client }).locked(), false);
});

// dask: test_locks.py::test_timeout, test_acquires_with_zero_timeout, test_acquires_blocking, test_errors
Deno.test("a second Lock of a held name times out, tries once, and gets it once released", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, processes: false });
  await using client = await Client.connect(cluster);
  const first = new Lock("x", { client }), second = new Lock("x", { client });
  assert.equal(await first.locked(), false);
  assert.equal(await first.acquire(), true);
  assert.equal(await second.locked(), true);
  const t = performance.now();
  assert.equal(await second.acquire({ timeout: 100 }), false);
  assert.ok(performance.now() - t >= 90, "it waited for its timeout");
  assert.equal(await second.acquire({ timeout: 0 }), false);
  assert.equal(await second.acquire({ blocking: false }), false);
  const waiting = second.acquire({ timeout: 30_000 });
  await first.release();
  assert.equal(await waiting, true);
  assert.equal(await first.acquire({ blocking: false }), false);
  await second.release();
  assert.equal(await second.locked(), false);
  // a random name when none is given: a lock of its own
  const anon = new Lock(undefined, { client });
  assert.match(anon.name, /^lock-[0-9a-f]{32}$/);
  assert.notEqual(anon.name, new Lock(undefined, { client }).name);
});

Deno.test("Lock: bad input fails at the call with a clear error; the scheduler serves on", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, processes: false });
  await using client = await Client.connect(cluster);
  const lock = new Lock("x", { client });
  await assert.rejects(lock.acquire({ blocking: false, timeout: 10 }), TypeError);
  await assert.rejects(lock.acquire({ timeout: "1s" as never }), /timeout must be a number/);
  await assert.rejects(lock.acquire({ timeout: -1 }), /timeout must be a number/);
  await assert.rejects(lock.acquire({ timeout: NaN }), TypeError);
  await assert.rejects(lock.acquire({ blocking: "no" as never }), /blocking must be true/);
  await assert.rejects(lock.acquire(5 as never), /options must be an object/);
  // a misspelt option is refused, not ignored (it would wait for ever)
  await assert.rejects(lock.acquire({ timout: 100 } as never), /unknown option "timout"/);
  assert.throws(() => new Lock("x", { clinet: client } as never), /unknown option "clinet"/);
  await assert.rejects(lock.release(), (e: Error) => {
    assert.ok(e instanceof LeaseError, String(e));
    assert.match(e.message, /Lock "x" was released more often than it was acquired/);
    return true;
  });
  assert.throws(() => new Lock(5 as never, { client }), /name must be a string/);
  assert.throws(() => new MultiLock([], { client }), /at least one name/);
  assert.throws(() => new MultiLock(["a", 1] as never, { client }), /array of strings/);
  const multi = new MultiLock(["a", "b"], { client });
  await assert.rejects(multi.acquire({ numLocks: 3 }), /numLocks must be a whole number from 1/);
  await assert.rejects(multi.acquire({ numLocks: 0 }), TypeError);
  await assert.rejects(multi.release(), LeaseError);
  // nothing reached the scheduler, which still works
  assert.equal(await lock.acquire({ timeout: 0 }), true);
  await lock.release();
  const behind = client.submit((x: number) => x + 1, 1);
  await until(() => behind.status === "finished", "the task behind the waiting one to run");
  assert.equal(await behind, 2);
});

Deno.test("a lock held by a client that closes is released; its waits are dropped", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, processes: false });
  await using client = await Client.connect(cluster);
  const other = await Client.connect(cluster);
  assert.equal(await new Lock("y", { client: other }).acquire(), true);
  const mine = new Lock("y", { client });
  assert.equal(await mine.acquire({ timeout: 0 }), false);
  const granted = mine.acquire({ timeout: 30_000 });
  // a waiter of the leaving client queued behind ours must not get it
  const theirs = new Lock("y", { client: other }).acquire().catch((e) => e);
  await until(async () => await mine.locked(), "the lock to be held");
  await other.close();
  assert.equal(await granted, true);
  assert.ok(await theirs instanceof Error, "the closed client's acquire failed");
  await mine.release();
  assert.equal(await mine.locked(), false, "nobody holds it: the closed client's waiter is gone");
});

// dask: test_multi_locks.py::test_multiple_locks, test_num_locks
Deno.test("MultiLock takes all its names or none, in order; numLocks takes any k", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, processes: false });
  await using client = await Client.connect(cluster);
  const l1 = new Lock("l1", { client });
  assert.equal(await l1.acquire(), true);
  const both = new MultiLock(["l1", "l2"], { client });
  assert.equal(await both.locked(), true, "l1 is held");
  let got: boolean | undefined;
  const acquired = both.acquire().then((ok) => got = ok);
  // it does not hold l2 while it waits, and a later Lock("l2") waits behind it
  const l2 = new Lock("l2", { client });
  assert.equal(await l2.acquire({ timeout: 0 }), false);
  assert.equal(got, undefined);
  await l1.release();
  await acquired;
  assert.equal(got, true);
  assert.equal(await l1.acquire({ timeout: 0 }), false, "the MultiLock holds l1");
  assert.equal(await l2.acquire({ timeout: 0 }), false, "and l2");
  await both.release();
  assert.equal(await both.locked(), false);

  // any 2 of 3: two are free although the third is held
  assert.equal(await l1.acquire(), true);
  const any2 = new MultiLock(["l1", "l2", "l3"], { client });
  assert.equal(await any2.acquire({ numLocks: 2, timeout: 5_000 }), true);
  assert.equal(await new Lock("l2", { client }).locked(), true);
  assert.equal(await new Lock("l3", { client }).locked(), true);
  assert.equal(await any2.acquire({ numLocks: 1, timeout: 100 }), false, "all three are held");
  await any2.release();
  await l1.release();
  assert.equal(await any2.locked(), false);
});

Deno.test("locks inside tasks: made there without an import, or passed in as arguments", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, threadsPerWorker: 2 });
  await using client = await Client.connect(cluster);
  const held = new Lock("z", { client });
  assert.equal(await held.acquire(), true);
  // the Lock passed in arrives as a Lock of the same name: another holder, so it waits
  const tryPassed = (lock: Lock) => lock.acquire({ timeout: 0 });
  assert.equal(await client.submit(tryPassed, held), false);
  const tryMulti = async () => {
    const m = new MultiLock(["z", "w"]);
    const first = await m.acquire({ blocking: false });
    const any = await m.acquire({ numLocks: 1, timeout: 0 });
    if (any) await m.release();
    return [first, any];
  };
  assert.deepEqual(await client.submit(tryMulti), [false, true]);
  // a MultiLock passed in keeps its names
  const passedMulti = async (m: MultiLock) => [m.names, await m.acquire({ timeout: 0 })];
  const multi = new MultiLock(["w", "v"], { client });
  assert.deepEqual(await client.submit(passedMulti, multi), [["w", "v"], true]);
  assert.equal(await multi.locked(), true, "the task's client still holds them");
  // a task waits for the lock until the client gives it back
  const waits = client.submit(async (lock: Lock) => {
    getClient().logEvent("waiting", lock.name);
    const ok = await lock.acquire({ timeout: 30_000 });
    await lock.release();
    return ok;
  }, held);
  await until(async () => (await client.getEvents("waiting")).length > 0, "the task to start");
  await held.release();
  assert.equal(await waits, true);
  assert.equal(await held.locked(), false);
});

Deno.test("a task waiting for a lock gives its thread back: the task queued behind it runs", async () => {
  await using cluster = await LocalCluster.start({ ...quiet, nWorkers: 1, threadsPerWorker: 1 });
  await using client = await Client.connect(cluster);
  const held = new Lock("busy", { client });
  assert.equal(await held.acquire(), true);
  const waiter = client.submit(async () => {
    const lock = new Lock("busy");
    getWorker().logEvent("lock-wait", "waiting");
    await lock.acquire();
    await lock.release();
    return "got it";
  });
  await until(async () => (await client.getEvents("lock-wait") as unknown[]).length > 0, "waiting");
  // on the one thread, behind the waiting task: it runs while that task waits for the lock
  const behind = client.submit((x: number) => x + 1, 1);
  await until(() => behind.status === "finished", "the task behind the waiting one to run");
  assert.equal(await behind, 2);
  await held.release();
  assert.equal(await waiter, "got it");
});
